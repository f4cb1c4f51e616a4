"""Embeddings on OpenAI-compatible servers (`POST {base}/embeddings`), as pure code.

Inputs are batched like TEI's (the server has no `/info` to ask, so the batch size is the caller's setting or
TEI's default, lowered if the server refuses a batch as too large), vectors are asked for as floats and
finished here (mean pooling of token-level answers, Matryoshka truncation, L2 normalisation, base64), usage is
the server's or an estimate that says so. The plan is an `EmbeddingPlan` on the `"openai"` route.
"""

from __future__ import annotations

from collections.abc import Sequence

from easyllm.protocol.embeddings import DEFAULT_BATCH_SIZE, EmbeddingPlan, plan_embeddings

__all__ = ["plan_openai_embeddings"]


def plan_openai_embeddings(
    inputs: Sequence[str],
    *,
    url: str,
    model: str | None,
    normalize: bool,
    encoding_format: str,
    dimensions: int | None,
    max_batch_size: int = DEFAULT_BATCH_SIZE,
) -> EmbeddingPlan:
    """Split the inputs into batches; one `POST /embeddings` per batch, asking for float vectors."""
    return plan_embeddings(
        inputs,
        url=url,
        route="openai",
        model=model or "unknown",
        normalize=normalize,
        encoding_format=encoding_format,
        dimensions=dimensions,
        max_batch_size=max_batch_size,
        request_model=model or None,
    )

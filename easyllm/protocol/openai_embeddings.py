"""Embeddings on OpenAI-compatible servers (`POST {base}/embeddings`), as pure code.

Inputs are batched like TEI's (the server has no `/info` to ask, so TEI's default batch size is used), vectors
are asked for as floats and finished here (mean pooling of token-level answers, Matryoshka truncation, L2
normalisation, base64), usage is the server's or an estimate that says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from easyllm.errors import APIResponseValidationError, InvalidParameterError
from easyllm.protocol import tei
from easyllm.protocol.embeddings import DEFAULT_BATCH_SIZE, DEFAULT_MAX_PAYLOAD_BYTES
from easyllm.protocol.generation import HTTPCall, Reply, estimate_tokens

__all__ = ["OpenAIEmbeddingPlan", "plan_openai_embeddings"]


@dataclass(frozen=True)
class OpenAIEmbeddingPlan:
    """The batches of one embedding call to an OpenAI-compatible server and how to shape their answers."""

    model: str
    batches: tuple[range, ...]
    calls: tuple[HTTPCall, ...]
    normalize: bool
    encoding_format: str
    dimensions: int | None

    def build(self, replies: Sequence[Reply], inputs: Sequence[str]) -> dict[str, Any]:
        """Merge one reply per batch into OpenAI's embedding list, in input order."""
        data: list[dict[str, Any]] = []
        tokens: list[int | None] = []
        model = self.model
        for rng, reply in zip(self.batches, replies, strict=True):
            vectors, count, served = _read(reply.body, len(rng))
            tokens.append(count)
            model = served or model
            for offset, vector in enumerate(vectors):
                data.append({"object": "embedding", "index": rng.start + offset, "embedding": self._finish(vector)})
        return {"object": "list", "data": data, "model": model, "usage": _usage(tokens, inputs)}

    def _finish(self, vector: list[float]) -> list[float] | str:
        if self.dimensions is not None:
            vector = tei.truncate_dimensions(vector, self.dimensions)
        elif self.normalize:
            vector = tei.l2_normalize(vector)
        return tei.encode_base64(vector) if self.encoding_format == "base64" else vector


def _read(body: object, expected: int) -> tuple[list[list[float]], int | None, str | None]:
    items = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(items, list) or len(items) != expected:
        raise APIResponseValidationError(f"expected {expected} embeddings in `data`, got {str(body)[:200]!r}")
    ordered = sorted(items, key=lambda item: int(item.get("index", 0)))
    # Some servers (llama.cpp with an unpooled model) send a token matrix per input: pooled like TEI's.
    vectors = tei.vectors_from_feature_extraction([item.get("embedding") for item in ordered], expected)
    assert isinstance(body, Mapping)
    usage = body.get("usage") or {}
    count = usage.get("prompt_tokens") if isinstance(usage, Mapping) else None
    model = body.get("model")
    return vectors, count if isinstance(count, int) else None, model if isinstance(model, str) and model else None


def _usage(tokens: Sequence[int | None], inputs: Sequence[str]) -> dict[str, Any]:
    if None not in tokens:
        total = sum(t for t in tokens if t is not None)
        return {"prompt_tokens": total, "total_tokens": total}
    estimate = sum(estimate_tokens(text) for text in inputs)
    return {"prompt_tokens": estimate, "total_tokens": estimate, "estimated": True}


def plan_openai_embeddings(
    inputs: Sequence[str],
    *,
    url: str,
    model: str | None,
    normalize: bool,
    encoding_format: str,
    dimensions: int | None,
) -> OpenAIEmbeddingPlan:
    """Split the inputs into batches; one `POST /embeddings` per batch, asking for float vectors."""
    if encoding_format not in ("float", "base64"):
        raise InvalidParameterError(f"must be 'float' or 'base64', got {encoding_format!r}", param="encoding_format")
    if dimensions is not None and (isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1):
        raise InvalidParameterError(f"must be a positive whole number, got {dimensions!r}", param="dimensions")
    batches = tuple(
        tei.plan_batches(inputs, max_batch_size=DEFAULT_BATCH_SIZE, max_payload_bytes=DEFAULT_MAX_PAYLOAD_BYTES)
    )
    calls = []
    for rng in batches:
        payload: dict[str, Any] = {"input": list(inputs[rng.start : rng.stop]), "encoding_format": "float"}
        if model:
            payload["model"] = model
        calls.append(HTTPCall("POST", url, payload))
    return OpenAIEmbeddingPlan(model or "unknown", batches, tuple(calls), normalize, encoding_format, dimensions)

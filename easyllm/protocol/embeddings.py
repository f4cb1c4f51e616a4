"""Embedding calls as pure code: plan the batches, then merge the answers into one OpenAI response."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from easyllm.errors import InvalidParameterError
from easyllm.protocol import tei
from easyllm.protocol.generation import HTTPCall, Reply, estimate_tokens

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "EmbeddingPlan",
    "build_embeddings",
    "max_batch_size_from_info",
    "plan_embeddings",
]

#: TEI's default `max_client_batch_size`; used when the server has no `/info` to ask.
DEFAULT_BATCH_SIZE = 32
#: Half of TGI/TEI's default 2 MB payload limit, leaving room for JSON overhead.
DEFAULT_MAX_PAYLOAD_BYTES = 1_000_000

Route = Literal["tei", "pipeline"]
EncodingFormat = Literal["float", "base64"]


@dataclass(frozen=True)
class EmbeddingPlan:
    """The batches of one embedding call and how to shape their answers."""

    model: str
    route: Route
    batches: tuple[range, ...]
    calls: tuple[HTTPCall, ...]
    normalize: bool
    encoding_format: EncodingFormat
    dimensions: int | None


def max_batch_size_from_info(info: object) -> int | None:
    """`max_client_batch_size` from a TEI/TGI `/info` answer, if it has a usable one."""
    value = info.get("max_client_batch_size") if isinstance(info, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def plan_embeddings(
    inputs: Sequence[str],
    *,
    url: str,
    route: Route,
    model: str,
    normalize: bool,
    encoding_format: str,
    dimensions: int | None,
    max_batch_size: int,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
) -> EmbeddingPlan:
    """Split the inputs into batches the server accepts; one request per batch, in input order."""
    if encoding_format not in ("float", "base64"):
        raise InvalidParameterError(f"must be 'float' or 'base64', got {encoding_format!r}", param="encoding_format")
    if dimensions is not None and (isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1):
        raise InvalidParameterError(f"must be a positive whole number, got {dimensions!r}", param="dimensions")
    batches = tuple(tei.plan_batches(inputs, max_batch_size=max_batch_size, max_payload_bytes=max_payload_bytes))
    calls = []
    for rng in batches:
        batch = list(inputs[rng.start : rng.stop])
        payload: dict[str, Any] = {"inputs": batch}
        if route == "tei":
            payload["normalize"] = normalize
        calls.append(HTTPCall("POST", url, payload))
    fmt: EncodingFormat = "base64" if encoding_format == "base64" else "float"
    return EmbeddingPlan(model, route, batches, tuple(calls), normalize, fmt, dimensions)


def _finish_vector(plan: EmbeddingPlan, vector: list[float]) -> list[float] | str:
    if plan.dimensions is not None:
        vector = tei.truncate_dimensions(vector, plan.dimensions)
    elif plan.normalize and plan.route == "pipeline":
        vector = tei.l2_normalize(vector)
    return tei.encode_base64(vector) if plan.encoding_format == "base64" else vector


def _token_count(replies: Sequence[Reply]) -> int | None:
    counts = [r.headers.get("x-compute-tokens") for r in replies]
    if any(c is None or not c.isdigit() for c in counts):
        return None
    return sum(int(c) for c in counts if c is not None)


def build_embeddings(plan: EmbeddingPlan, replies: Sequence[Reply], inputs: Sequence[str]) -> dict[str, Any]:
    """Merge one reply per batch into OpenAI's embedding list, `index` per input in input order."""
    data: list[dict[str, Any]] = []
    for rng, reply in zip(plan.batches, replies, strict=True):
        for offset, vector in enumerate(tei.vectors_from_feature_extraction(reply.body, len(rng))):
            data.append(
                {
                    "object": "embedding",
                    "index": rng.start + offset,
                    "embedding": _finish_vector(plan, vector),
                }
            )
    tokens = _token_count(replies)
    usage: dict[str, Any] = {"prompt_tokens": tokens, "total_tokens": tokens}
    if tokens is None:
        estimate = sum(estimate_tokens(text) for text in inputs)
        usage = {"prompt_tokens": estimate, "total_tokens": estimate, "estimated": True}
    return {"object": "list", "data": data, "model": plan.model, "usage": usage}

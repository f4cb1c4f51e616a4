"""Embedding calls as pure code: plan the batches, read each answer as it arrives, merge them in input order.

The shells (`easyllm.calls`) drive one `batch_flow` per planned batch: it yields the requests to send and reads
each answer into an `EmbeddedBatch` (vectors pooled, truncated, normalised and encoded) in the worker that
received it. A batch the server refuses as too large is split and sent again (`smaller_batch_size`), and the
smaller limit holds for the rest of the call (`BatchLimit`). `merge_batches` joins the batches into one OpenAI
response; `EmbeddingPlan.partial` shapes one batch as a response of its own (for `iter_batches`).

Wire forms (the dialect picks one): TEI's `/embed` body (`"tei"`), the feature-extraction pipeline body of
hf-inference and Inference Endpoints' default container (`"pipeline"`), and an OpenAI-compatible `/embeddings`
(`"openai"`, vectors finished here). On the OpenAI-compatible route the dialect also picks how vectors travel
(`EmbeddingPlan.wire_format`): base64 float32 by default, as openai-python asks (a third of the bytes of JSON
floats, and nothing to parse), floats where the caller chose floats or the server cannot. A server that answers a
base64 request with floats, or refuses it with a 4xx naming `encoding_format`, gets floats for the rest of the call
(`BatchLimit.encoding`), and the shells remember it for the server.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from easyllm.errors import APIResponseValidationError, APIStatusError, InvalidParameterError
from easyllm.protocol import tei, vector_answers
from easyllm.protocol.extras import NO_EXTRAS, Extras
from easyllm.protocol.generation import HTTPCall, Reply, estimate_tokens

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "BatchLimit",
    "BatchedPlan",
    "EmbeddedBatch",
    "EmbeddingOptions",
    "EmbeddingPlan",
    "batch_flow",
    "check_embedding_format",
    "embedding_options",
    "max_batch_size_from_info",
    "merge_batches",
    "plan_embeddings",
    "refuses_base64",
    "smaller_batch_size",
]

#: TEI's default `max_client_batch_size`; used when the server has no `/info` to ask and nothing is set.
DEFAULT_BATCH_SIZE = 32
#: Requests in flight at once for one call (embedding batches, samples of `n`). Eight keeps 10,000 texts at a
#: 20 ms-per-batch server within 1.3x of the ideal and over 5x faster than sequential batches (bench/, C).
DEFAULT_CONCURRENCY = 8
#: Half of TGI/TEI's default 2 MB payload limit, leaving room for JSON overhead.
DEFAULT_MAX_PAYLOAD_BYTES = 1_000_000

#: The request and answer shapes of an embedding route.
EmbeddingWire = Literal["tei", "pipeline", "openai"]
EncodingFormat = Literal["float", "base64"]

B = TypeVar("B")

_MAX_ALLOWED = re.compile(r"maximum allowed batch size (\d+)", re.IGNORECASE)
_NAMES_ENCODING = re.compile(r"encoding[_ ]format", re.IGNORECASE)


@dataclass(frozen=True)
class EmbeddingOptions:
    """How one call batches: `batch_size` caps the server's limit (None: the server's), `concurrency` bounds it."""

    batch_size: int | None
    concurrency: int
    show_progress: bool


def _whole(value: object, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(f"must be a whole number >= 1, got {value!r}", param=param)
    return value


def embedding_options(
    *,
    batch_size: object = None,
    max_concurrency: object = None,
    show_progress: object = False,
    default_batch_size: object = None,
    default_concurrency: object = None,
) -> EmbeddingOptions:
    """Check a call's batching options; a call's own value wins over the module or client setting (`default_*`)."""
    size = (
        _whole(batch_size, "batch_size")
        if batch_size is not None
        else _whole(default_batch_size, "embedding_batch_size")
        if default_batch_size is not None
        else None
    )
    concurrency = (
        _whole(max_concurrency, "max_concurrency")
        if max_concurrency is not None
        else _whole(default_concurrency, "embedding_concurrency")
        if default_concurrency is not None
        else DEFAULT_CONCURRENCY
    )
    if not isinstance(show_progress, bool):
        raise InvalidParameterError("must be True or False", param="show_progress")
    return EmbeddingOptions(size, concurrency, show_progress)


def check_embedding_format(normalize: object, encoding_format: object, dimensions: object) -> EncodingFormat:
    """Refuse bad `normalize`, `encoding_format` and `dimensions` before anything is sent.

    Returns the format the caller gets back: `encoding_format`, or floats when it is None (not chosen).
    """
    if not isinstance(normalize, bool):
        raise InvalidParameterError("must be True or False", param="normalize")
    if encoding_format is not None and encoding_format not in ("float", "base64"):
        raise InvalidParameterError(f"must be 'float' or 'base64', got {encoding_format!r}", param="encoding_format")
    if dimensions is not None and (isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1):
        raise InvalidParameterError(f"must be a positive whole number, got {dimensions!r}", param="dimensions")
    return "base64" if encoding_format == "base64" else "float"


def max_batch_size_from_info(info: object) -> int | None:
    """`max_client_batch_size` from a TEI/TGI `/info` answer, if it has a usable one."""
    value = info.get("max_client_batch_size") if isinstance(info, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


@dataclass(frozen=True)
class EmbeddedBatch:
    """The finished embeddings of the inputs `span` (OpenAI `data` items) and what the server said about them."""

    span: range
    data: list[dict[str, Any]]
    tokens: int | None
    model: str


@dataclass(frozen=True)
class EmbeddingPlan:
    """The batches of one embedding call, how to ask for each, and how to shape the answers."""

    model: str
    wire: EmbeddingWire
    url: str
    inputs: Sequence[str]
    batches: tuple[range, ...]
    normalize: bool
    encoding_format: EncodingFormat
    dimensions: int | None
    request_model: str | None = None
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    extras: Extras = NO_EXTRAS
    wire_format: EncodingFormat = "float"

    @property
    def calls(self) -> tuple[HTTPCall, ...]:
        """One request per planned batch."""
        return tuple(self.call(span) for span in self.batches)

    @property
    def sends_encoding(self) -> bool:
        """Only OpenAI-compatible `/embeddings` requests say how vectors travel."""
        return self.wire == "openai"

    def call(self, span: range, wire_format: EncodingFormat | None = None) -> HTTPCall:
        """The request for the inputs `span` (vectors asked for as `wire_format`, else the plan's)."""
        texts = list(self.inputs[span.start : span.stop])
        payload: dict[str, Any]
        if self.wire == "openai":
            wire = wire_format or self.wire_format
            payload = {"input": texts, "encoding_format": wire}
            if self.request_model:
                payload["model"] = self.request_model
            decode = vector_answers.base64_embeddings if wire == "base64" else None
        else:
            payload = {"inputs": texts, "normalize": self.normalize} if self.wire == "tei" else {"inputs": texts}
            decode = vector_answers.float_rows
        return self.extras.apply(HTTPCall("POST", self.url, payload, decode=decode))

    def split(self, span: range, size: int) -> list[range]:
        """`span` in consecutive batches of at most `size` inputs (and the payload limit)."""
        texts = self.inputs[span.start : span.stop]
        parts = tei.plan_batches(texts, max_batch_size=size, max_payload_bytes=self.max_payload_bytes)
        return [range(span.start + part.start, span.start + part.stop) for part in parts]

    def read(self, span: range, reply: Reply) -> EmbeddedBatch:
        """Finish the vectors of one answer (pool, truncate, normalise, encode) as OpenAI `data` items."""
        if self.wire == "openai":
            vectors, tokens, served = _read_openai(reply.body, len(span))
        else:
            vectors, tokens, served = tei.vectors_from_feature_extraction(reply.body, len(span)), _tokens(reply), None
        data = [
            {"object": "embedding", "index": index, "embedding": self._finish(vector)}
            for index, vector in zip(span, vectors, strict=True)
        ]
        return EmbeddedBatch(span, data, tokens, served or self.model)

    def _finish(self, vector: list[float]) -> list[float] | str:
        if self.dimensions is not None:
            vector = tei.truncate_dimensions(vector, self.dimensions)
        elif self.normalize and self.wire != "tei":  # TEI normalises on the server when asked
            vector = tei.unit_length(vector)
        return tei.encode_base64(vector) if self.encoding_format == "base64" else vector

    def combine(self, parts: Sequence[EmbeddedBatch]) -> EmbeddedBatch:
        """The consecutive parts of a split batch as one batch."""
        return _combine(parts)

    def partial(self, batch: EmbeddedBatch) -> dict[str, Any]:
        """One batch as an OpenAI embedding response of its own (`index` stays the input's position)."""
        return merge_batches([batch], batch.data, self.inputs)


def _tokens(reply: Reply) -> int | None:
    count = reply.headers.get("x-compute-tokens")
    return int(count) if count is not None and count.isdigit() else None


def _read_openai(body: object, expected: int) -> tuple[list[list[float]], int | None, str | None]:
    items = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(body, Mapping) or not isinstance(items, list) or len(items) != expected:
        raise APIResponseValidationError(f"expected {expected} embeddings in `data`, got {str(body)[:200]!r}")
    ordered = sorted(items, key=lambda item: int(item.get("index", 0)))
    embeddings = [item.get("embedding") for item in ordered]
    kinds = {type(embedding) for embedding in embeddings}
    if kinds == {bytes} or kinds == {str}:  # asked for and sent as base64 (bytes: decoded on arrival)
        decode = tei.floats_from_float32 if kinds == {bytes} else tei.decode_base64
        vectors = [decode(embedding) for embedding in embeddings]
        if len({len(vector) for vector in vectors}) != 1 or not vectors[0]:
            raise APIResponseValidationError("The base64 embeddings are empty or of different lengths.")
    else:
        # Some servers (llama.cpp with an unpooled model) send a token matrix per input: pooled like TEI's.
        vectors = tei.vectors_from_feature_extraction(embeddings, expected)
    usage = body.get("usage") or {}
    count = usage.get("prompt_tokens") if isinstance(usage, Mapping) else None
    model = body.get("model")
    return vectors, count if isinstance(count, int) else None, model if isinstance(model, str) and model else None


def merge_batches(batches: Sequence[EmbeddedBatch], data: Sequence[Any], inputs: Sequence[str]) -> dict[str, Any]:
    """One OpenAI embedding response from consecutive batches; `data` is their items (shaped by the caller).

    Usage is the servers' token count when every batch had one, else an estimate that says so.
    """
    counts = [batch.tokens for batch in batches]
    if None in counts:
        spans = (inputs[batch.span.start : batch.span.stop] for batch in batches)
        estimate = sum(estimate_tokens(text) for texts in spans for text in texts)
        usage: dict[str, Any] = {"prompt_tokens": estimate, "total_tokens": estimate, "estimated": True}
    else:
        total = sum(count for count in counts if count is not None)
        usage = {"prompt_tokens": total, "total_tokens": total}
    return {"object": "list", "data": list(data), "model": batches[-1].model, "usage": usage}


def _combine(parts: Sequence[EmbeddedBatch]) -> EmbeddedBatch:
    if len(parts) == 1:
        return parts[0]
    counts = [part.tokens for part in parts]
    tokens = None if None in counts else sum(count for count in counts if count is not None)
    span = range(parts[0].span.start, parts[-1].span.stop)
    return EmbeddedBatch(span, [item for part in parts for item in part.data], tokens, parts[-1].model)


def smaller_batch_size(status: int, message: str, size: int) -> tuple[int, bool] | None:
    """The batch size to retry with after the server refused a batch of `size`, and whether to remember it.

    TEI answers a batch over `max_client_batch_size` with 413 (422 from v1.9) "batch size N > maximum allowed
    batch size M": retry with M (or half), remembered for the server. A 413 that is not about tokens is the
    payload limit: retry with half, for this call only. Anything else (and a batch of one) is not a size problem.
    """
    if size <= 1:
        return None
    text = message.lower()
    if status in (413, 422) and "batch size" in text:
        found = _MAX_ALLOWED.search(message)
        limit = int(found.group(1)) if found else 0
        return (limit if 0 < limit < size else size // 2), True
    if status == 413 and "token" not in text:
        return size // 2, False
    return None


def _answered_floats(body: object) -> bool:
    """Whether an OpenAI-compatible embedding answer carries its vectors as JSON numbers (not base64 text)."""
    items = body.get("data") if isinstance(body, Mapping) else None
    first = items[0] if isinstance(items, list) and items else None
    return isinstance(first, Mapping) and isinstance(first.get("embedding"), list)


def refuses_base64(status: int, message: str) -> bool:
    """Whether an error answers a base64 request by refusing `encoding_format` (a 4xx that names it).

    Example:
        >>> refuses_base64(400, "encoding_format: Input should be 'float'")
        True
    """
    return 400 <= status < 500 and status not in (408, 429) and _NAMES_ENCODING.search(message) is not None


class BatchLimit:
    """What one call learns about the server as its batches go: the batch size and how vectors travel.

    The batch size is lowered (for every batch of the call) when the server refuses one; `encoding` falls back
    from base64 to floats for the rest of the call when the server answers base64 with floats or refuses it.
    """

    def __init__(self, size: int, encoding: EncodingFormat = "float") -> None:
        self.size = size
        self.learned: int | None = None  # a server limit found out by a refusal, to remember per server
        self.encoding: EncodingFormat = encoding
        self.floats_only = False  # the server does not send base64, to remember per server

    def lower(self, size: int, *, remember: bool) -> None:
        """Use at most `size` inputs per batch from now on."""
        self.size = min(self.size, size)
        if remember:
            self.learned = size if self.learned is None else min(self.learned, size)

    def use_floats(self) -> None:
        """Ask for vectors as floats from now on (the server does not send base64)."""
        self.encoding = "float"
        self.floats_only = True


class BatchedPlan(Protocol[B]):
    """What `batch_flow` needs of a plan: embeddings here; rerank and classification batches alike."""

    @property
    def sends_encoding(self) -> bool:
        """Whether its requests say how vectors travel (`encoding_format`: base64, or floats after a refusal)."""

    def call(self, span: range, wire_format: EncodingFormat | None = None) -> HTTPCall:
        """The request for the inputs `span` (vectors asked for as `wire_format` where `sends_encoding`)."""

    def split(self, span: range, size: int) -> list[range]:
        """`span` in consecutive batches of at most `size` inputs."""

    def read(self, span: range, reply: Reply) -> B:
        """The answer to the request for `span`."""

    def combine(self, parts: Sequence[B]) -> B:
        """Consecutive parts of a split batch as one batch."""


def batch_flow(plan: BatchedPlan[B], span: range, limit: BatchLimit) -> Generator[HTTPCall, Reply, B]:
    """Send the inputs `span` and return their answer: yields each request, is sent its reply.

    A shell drives it (`calls.drive`): it sends what is yielded, `send`s back the reply, or `throw`s in an
    `APIStatusError`. A batch refused as too large is split to the smaller size and its parts sent in order.
    """
    todo = deque([span])
    done: list[B] = []
    while todo:
        part = todo.popleft()
        if len(part) > limit.size:  # this or another batch of the call has found a smaller limit
            todo.extendleft(reversed(plan.split(part, limit.size)))
            continue
        asked = limit.encoding if plan.sends_encoding else "float"
        try:
            reply = yield plan.call(part, asked)
        except APIStatusError as err:
            if asked == "base64" and refuses_base64(err.status_code, str(err)):
                limit.use_floats()
                todo.appendleft(part)
                continue
            smaller = smaller_batch_size(err.status_code, str(err), len(part))
            if smaller is None:
                raise
            limit.lower(smaller[0], remember=smaller[1])
            todo.appendleft(part)
            continue
        if asked == "base64" and _answered_floats(reply.body):
            limit.use_floats()  # the server ignored `encoding_format`: no need to ask it again
        done.append(plan.read(part, reply))
    return plan.combine(done)


def plan_embeddings(
    inputs: Sequence[str],
    *,
    url: str,
    wire: EmbeddingWire,
    model: str,
    normalize: bool,
    encoding_format: str | None,
    dimensions: int | None,
    max_batch_size: int,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    request_model: str | None = None,
    extras: Extras = NO_EXTRAS,
    wire_format: EncodingFormat = "float",
) -> EmbeddingPlan:
    """Split the inputs into batches the server accepts; one request per batch, in input order.

    `encoding_format` is what the caller gets back (None: floats); `wire_format` how an OpenAI-compatible route
    is asked to send the vectors.
    """
    fmt = check_embedding_format(normalize, encoding_format, dimensions)
    batches = tuple(tei.plan_batches(inputs, max_batch_size=max_batch_size, max_payload_bytes=max_payload_bytes))
    return EmbeddingPlan(
        model, wire, url, inputs, batches, normalize, fmt, dimensions, request_model, max_payload_bytes, extras,
        wire_format,
    )  # fmt: skip

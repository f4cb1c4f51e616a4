"""What rerank and classification batches share: the answered batch, splitting, merging usage, input checks.

Both tasks run through `easyllm.protocol.embeddings.batch_flow` (a batch refused as too large is split and the
smaller limit kept), so a plan here offers `call`, `split`, `read` and `combine` like `EmbeddingPlan`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from easyllm.errors import APIResponseValidationError, InvalidParameterError
from easyllm.protocol import tei
from easyllm.protocol.embeddings import DEFAULT_MAX_PAYLOAD_BYTES
from easyllm.protocol.extras import NO_EXTRAS, Extras
from easyllm.protocol.generation import Reply

if TYPE_CHECKING:
    from easyllm.settings import Settings

__all__ = [
    "TaskBatch",
    "TaskCall",
    "TaskPlan",
    "check_model",
    "check_texts",
    "combine_batches",
    "merged_usage",
    "reply_tokens",
    "split_span",
]


@dataclass(frozen=True)
class TaskBatch:
    """The answers for the inputs `span`, each a dict whose `index` is the input's position in the call.

    Attributes:
        span: the inputs answered.
        items: one answer per input (rerank: fewer when the server cut to `top_n`).
        tokens: the tokens the server counted, if it said.
        model: the model the server named, if it did.
    """

    span: range
    items: list[dict[str, Any]]
    tokens: int | None
    model: str | None


A = TypeVar("A")
R = TypeVar("R", bound=str)


@dataclass(frozen=True)
class TaskCall(Generic[A]):
    """What a dialect plans a rerank or classification from.

    The checked arguments, the server's settings, the batch size the shell chose, the call's `extra_*` options.
    """

    settings: Settings
    args: A
    max_batch_size: int
    extras: Extras = NO_EXTRAS


@dataclass(frozen=True)
class TaskPlan(Generic[A, R]):
    """The batches of one rerank or classification call on a route: each task adds how to ask and how to read.

    Subclasses give `inputs` (what is batched), `call`, `split` and `read`, as `easyllm.protocol.embeddings`'
    `batch_flow` needs them.
    """

    route: R
    url: str
    args: A
    batches: tuple[range, ...]
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    extras: Extras = NO_EXTRAS

    #: Scores travel as JSON numbers: nothing to ask for.
    sends_encoding = False

    def combine(self, parts: Sequence[TaskBatch]) -> TaskBatch:
        """The consecutive parts of a split batch as one batch."""
        return combine_batches(parts)


def combine_batches(parts: Sequence[TaskBatch]) -> TaskBatch:
    """Consecutive batches as one (token counts add up only if every part had one)."""
    if len(parts) == 1:
        return parts[0]
    counts = [part.tokens for part in parts]
    tokens = None if None in counts else sum(count for count in counts if count is not None)
    span = range(parts[0].span.start, parts[-1].span.stop)
    return TaskBatch(span, [item for part in parts for item in part.items], tokens, parts[-1].model)


def split_span(texts: Sequence[str], span: range, size: int, max_payload_bytes: int) -> list[range]:
    """`span` of `texts` in consecutive batches of at most `size` texts and `max_payload_bytes` bytes."""
    parts = tei.plan_batches(texts[span.start : span.stop], max_batch_size=size, max_payload_bytes=max_payload_bytes)
    return [range(span.start + part.start, span.start + part.stop) for part in parts]


def payload_room(max_payload_bytes: int, *fixed: str) -> int:
    """Bytes left for the batched texts once the strings sent with every batch (a query) are counted."""
    return max(1, max_payload_bytes - sum(len(json.dumps(text)) for text in fixed))


def reply_tokens(reply: Reply) -> int | None:
    """Tokens the server counted: OpenAI `usage` in the body, else TEI's `x-compute-tokens` header."""
    body = reply.body
    usage = body.get("usage") if isinstance(body, Mapping) else None
    if isinstance(usage, Mapping):
        for key in ("prompt_tokens", "total_tokens"):
            count = usage.get(key)
            if isinstance(count, int) and not isinstance(count, bool):
                return count
    header = reply.headers.get("x-compute-tokens")
    return int(header) if header is not None and header.isdigit() else None


def reply_model(reply: Reply) -> str | None:
    """The `model` an OpenAI-shaped answer names, if any."""
    model = reply.body.get("model") if isinstance(reply.body, Mapping) else None
    return model if isinstance(model, str) and model else None


def merged_usage(batches: Sequence[TaskBatch], estimate: Callable[[], int]) -> dict[str, Any]:
    """Usage of the call: the servers' counts when every batch had one, else `estimate()`, flagged as estimated.

    The estimate is asked for only when it is used (it reads every text).
    """
    counts = [batch.tokens for batch in batches]
    if None in counts:
        guess = estimate()
        return {"prompt_tokens": guess, "total_tokens": guess, "estimated": True}
    total = sum(count for count in counts if count is not None)
    return {"prompt_tokens": total, "total_tokens": total}


def check_texts(value: object, param: str, *, single: bool) -> list[str]:
    """A non-empty list of non-empty strings (or, when `single`, a string as a list of one)."""
    items: Any = [value] if single and isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        wanted = "a string or a list of strings" if single else "a list of strings"
        raise InvalidParameterError(f"must be {wanted}, got {type(value).__name__}", param=param)
    if not items:
        raise InvalidParameterError("must not be an empty list", param=param)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidParameterError(f"must be a string, got {type(item).__name__}", param=f"{param}[{i}]")
        if not item:
            raise InvalidParameterError("must not be an empty string", param=f"{param}[{i}]")
    return list(items)


def check_model(model: object) -> str | None:
    """`model` is None or a non-empty string."""
    if model is not None and (not isinstance(model, str) or not model):
        raise InvalidParameterError(f"must be a non-empty string, got {model!r}", param="model")
    return model


def score(value: object, where: str) -> float:
    """A JSON number from an answer, as a float (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise APIResponseValidationError(f"expected a number for {where}, got {value!r}")
    return float(value)

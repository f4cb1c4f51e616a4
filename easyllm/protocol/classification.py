"""Text classification as pure code: plan batches of texts, read each server's labels and scores, merge.

Routes (`ClassifyRoute`):

- `"tei"`: TEI's `POST /predict` `{"inputs": [texts], "raw_scores": false}` → one list of `{label, score}` per
  text (`[[...], ...]`; a server answering one text may send the flat `[{label, score}, ...]`).
- `"pipeline"`: the router's hf-inference text-classification, `POST /models/{id}` `{"inputs": text}` → the
  labels of that text, `[[{label, score}, ...]]` (or flat). One text per request: a list input would get only
  the top label of each text from the pipeline.

The answer keeps every label the server sent, sorted by score (highest first): `data[i].labels`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from easyllm.errors import APIResponseValidationError
from easyllm.protocol.embeddings import DEFAULT_MAX_PAYLOAD_BYTES, EncodingFormat
from easyllm.protocol.extras import NO_EXTRAS, Extras
from easyllm.protocol.generation import HTTPCall, Reply, estimate_tokens
from easyllm.protocol.task_batches import (
    TaskBatch,
    TaskCall,
    TaskPlan,
    check_model,
    check_texts,
    merged_usage,
    reply_model,
    reply_tokens,
    score,
    split_span,
)

if TYPE_CHECKING:
    pass

__all__ = [
    "ClassifyArgs",
    "ClassifyPlan",
    "ClassifyRoute",
    "check_classify",
    "classification_response",
    "plan_classify",
]

ClassifyRoute = Literal["tei", "pipeline"]


@dataclass(frozen=True)
class ClassifyArgs:
    """A classification call's checked arguments."""

    inputs: list[str]
    model: str | None


def check_classify(input: object, model: object = None) -> ClassifyArgs:
    """Refuse bad classification arguments before anything is sent.

    Example:
        >>> check_classify("hello").inputs
        ['hello']
    """
    return ClassifyArgs(check_texts(input, "input", single=True), check_model(model))


class ClassifyCall(TaskCall[ClassifyArgs]):
    """What a dialect plans a classification from."""


class ClassifyPlan(TaskPlan[ClassifyArgs, ClassifyRoute]):
    """The batches of one classification call, how to ask for each, and how to read the answers."""

    @property
    def inputs(self) -> Sequence[str]:
        """The texts (what is batched)."""
        return self.args.inputs

    def call(self, span: range, wire_format: EncodingFormat | None = None) -> HTTPCall:
        """The request for the texts `span` (`wire_format` does not apply)."""
        texts = self.args.inputs[span.start : span.stop]
        payload = {"inputs": texts[0]} if self.route == "pipeline" else {"inputs": texts, "raw_scores": False}
        return self.extras.apply(HTTPCall("POST", self.url, payload))

    def split(self, span: range, size: int) -> list[range]:
        """`span` in consecutive batches of at most `size` texts (one per request on the pipeline route)."""
        limit = 1 if self.route == "pipeline" else size
        return split_span(self.args.inputs, span, limit, self.max_payload_bytes)

    def read(self, span: range, reply: Reply) -> TaskBatch:
        """The labels of each text of one answer, highest score first."""
        per_text = _labels_per_text(reply.body, len(span))
        items = [{"index": span.start + local, "labels": labels} for local, labels in enumerate(per_text)]
        return TaskBatch(span, items, reply_tokens(reply), reply_model(reply))


def _labels(item: object, position: int) -> list[dict[str, Any]]:
    if not isinstance(item, list) or not item:
        raise APIResponseValidationError(f"text {position}: expected a list of labels, got {str(item)[:200]!r}")
    labels = []
    for entry in item:
        label = entry.get("label") if isinstance(entry, Mapping) else None
        if not isinstance(label, str):
            raise APIResponseValidationError(f"text {position}: expected {{label, score}}, got {str(entry)[:200]!r}")
        labels.append({"label": label, "score": score(entry.get("score"), f"text {position}'s {label!r}")})
    return sorted(labels, key=lambda entry: -entry["score"])


def _labels_per_text(body: object, size: int) -> list[list[dict[str, Any]]]:
    """`[[labels], ...]` with one list per text; a flat `[labels]` is the answer for a single text."""
    if isinstance(body, list) and size == 1 and body and isinstance(body[0], Mapping):
        return [_labels(body, 0)]
    if not isinstance(body, list) or len(body) != size:
        raise APIResponseValidationError(f"expected labels for {size} texts, got {str(body)[:200]!r}")
    return [_labels(item, position) for position, item in enumerate(body)]


def plan_classify(
    args: ClassifyArgs,
    *,
    url: str,
    route: ClassifyRoute,
    max_batch_size: int,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    extras: Extras = NO_EXTRAS,
) -> ClassifyPlan:
    """Split the texts into batches the server accepts; one request per batch, in input order."""
    plan = ClassifyPlan(route, url, args, (), max_payload_bytes, extras)
    batches = tuple(plan.split(range(len(args.inputs)), max_batch_size))
    return ClassifyPlan(route, url, args, batches, max_payload_bytes, extras)


def classification_response(plan: ClassifyPlan, batches: Sequence[TaskBatch]) -> dict[str, Any]:
    """One classification response: `data[i]` holds every label of input `i`, highest score first.

    Example:
        >>> plan = plan_classify(check_classify("hi"), url="http://h/predict", route="tei", max_batch_size=8)
        >>> labels = [{"label": "SAFE", "score": 0.2}, {"label": "INJECTION", "score": 0.8}]
        >>> batch = plan.read(range(1), Reply(labels, {}))
        >>> classification_response(plan, [batch])["data"][0]["labels"][0]
        {'label': 'INJECTION', 'score': 0.8}
    """
    args = plan.args
    served = next((batch.model for batch in reversed(batches) if batch.model), None)
    return {
        "id": f"clf-{uuid.uuid4().hex}",
        "object": "list",
        "model": served or args.model or "tei",
        "data": [item for batch in batches for item in batch.items],
        "usage": merged_usage(batches, lambda: sum(estimate_tokens(text) for text in args.inputs)),
    }

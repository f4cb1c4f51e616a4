"""Rerank as pure code: check the arguments, plan batches of documents, read each server's answer, merge.

Routes (`RerankRoute`), one request per batch of documents:

- `"tei"`: TEI's `POST /rerank` `{query, texts, raw_scores: false}` → `[{index, score, text?}]` sorted by score.
- `"openai"`: vLLM's, llama.cpp's and Cohere/Jina-style `POST /v1/rerank` `{model, query, documents, top_n}` →
  `{results: [{index, relevance_score, document?}], usage?, model?, id?}`.
- `"pipeline"`: the router's hf-inference text-classification of a cross encoder, `POST /models/{id}`
  `{"inputs": [{"text": query, "text_pair": document}, ...]}` → one `{label, score}` (or a list of one) per pair.

Each batch's `index` is local to it; `read` makes it the document's position in the call. `rerank_response`
joins the batches: every scored document sorted by `relevance_score` (ties by input order), cut to `top_n`.
Scores of different batches compare because a cross encoder scores each pair on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

from easyllm.errors import APIResponseValidationError, InvalidParameterError
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
    payload_room,
    reply_model,
    reply_tokens,
    score,
    split_span,
)

if TYPE_CHECKING:
    pass

__all__ = ["RerankArgs", "RerankCall", "RerankPlan", "RerankRoute", "check_rerank", "plan_rerank", "rerank_response"]

RerankRoute = Literal["tei", "openai", "pipeline"]


@dataclass(frozen=True)
class RerankArgs:
    """A rerank call's checked arguments."""

    query: str
    documents: list[str]
    model: str | None
    top_n: int | None
    return_documents: bool


def check_rerank(
    query: object, documents: object, *, model: object = None, top_n: object = None, return_documents: object = False
) -> RerankArgs:
    """Refuse bad rerank arguments before anything is sent.

    Example:
        >>> check_rerank("q", ["a", "b"], top_n=1).top_n
        1
    """
    if not isinstance(query, str) or not query:
        raise InvalidParameterError("must be a non-empty string", param="query")
    docs = check_texts(documents, "documents", single=False)
    if top_n is not None and (isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1):
        raise InvalidParameterError(f"must be a whole number >= 1, got {top_n!r}", param="top_n")
    if not isinstance(return_documents, bool):
        raise InvalidParameterError("must be True or False", param="return_documents")
    return RerankArgs(query, docs, check_model(model), top_n, return_documents)


class RerankCall(TaskCall[RerankArgs]):
    """What a dialect plans a rerank from."""


class RerankPlan(TaskPlan[RerankArgs, RerankRoute]):
    """The batches of one rerank call, how to ask for each, and how to read the answers."""

    @property
    def inputs(self) -> Sequence[str]:
        """The documents (what is batched)."""
        return self.args.documents

    def call(self, span: range, wire_format: EncodingFormat | None = None) -> HTTPCall:
        """The request for the documents `span` (`wire_format` does not apply)."""
        args = self.args
        texts = args.documents[span.start : span.stop]
        payload: dict[str, Any]
        if self.route == "tei":
            payload = {"query": args.query, "texts": texts, "raw_scores": False, "return_text": False}
        elif self.route == "openai":
            payload = {"query": args.query, "documents": texts, "top_n": min(args.top_n or len(span), len(span))}
            payload["return_documents"] = False  # the client has them; a smaller answer
            if args.model:
                payload = {"model": args.model, **payload}
        else:
            payload = {"inputs": [{"text": args.query, "text_pair": text} for text in texts]}
        return self.extras.apply(HTTPCall("POST", self.url, payload))

    def split(self, span: range, size: int) -> list[range]:
        """`span` in consecutive batches of at most `size` documents (and the payload limit, query included)."""
        return split_span(self.args.documents, span, size, payload_room(self.max_payload_bytes, self.args.query))

    def read(self, span: range, reply: Reply) -> TaskBatch:
        """The scores of one answer, indexed by the documents' positions in the call."""
        if self.route == "pipeline":
            scores = list(enumerate(_pipeline_scores(reply.body, len(span))))
        else:
            scores = _ranked_scores(reply.body, len(span), self.route)
        items = [{"index": span.start + local, "relevance_score": value} for local, value in scores]
        return TaskBatch(span, items, reply_tokens(reply), reply_model(reply))


def _ranked_scores(body: object, size: int, route: RerankRoute) -> list[tuple[int, float]]:
    """`(index, score)` pairs from TEI's list or an OpenAI-style `results`; indexes unique and in range."""
    items = body if route == "tei" else body.get("results") if isinstance(body, Mapping) else None
    if not isinstance(items, list) or len(items) > size:
        raise APIResponseValidationError(f"expected a rerank answer for {size} documents, got {str(body)[:200]!r}")
    key = "score" if route == "tei" else "relevance_score"
    pairs: dict[int, float] = {}
    for item in items:
        mapping = type(item) is dict or isinstance(item, Mapping)  # the exact type first: JSON gives dicts
        index = item.get("index") if mapping else None
        if not _whole(index) or not 0 <= index < size or index in pairs:
            raise APIResponseValidationError(f"bad or repeated `index` in rerank answer: {str(item)[:200]!r}")
        value = (item[key] if key in item else item.get("score")) if mapping else None
        pairs[index] = value if type(value) is float else score(value, f"document {index}'s {key}")
    return list(pairs.items())


def _whole(value: object) -> TypeGuard[int]:
    """An int that is not a bool (the exact type is asked first: JSON gives ints)."""
    return type(value) is int or (isinstance(value, int) and not isinstance(value, bool))


def _pipeline_scores(body: object, size: int) -> list[float]:
    """One score per pair from a text-classification answer of a one-label cross encoder."""
    if not isinstance(body, list) or len(body) != size:
        raise APIResponseValidationError(f"expected one score per document ({size}), got {str(body)[:200]!r}")
    scores = []
    for position, item in enumerate(body):
        labels = item if isinstance(item, list) else [item]
        if len(labels) != 1 or not isinstance(labels[0], Mapping):
            raise APIResponseValidationError(
                f"document {position}: expected one label per pair (a cross encoder), got {str(item)[:200]!r}"
            )
        scores.append(score(labels[0].get("score"), f"document {position}'s score"))
    return scores


def plan_rerank(
    args: RerankArgs,
    *,
    url: str,
    route: RerankRoute,
    max_batch_size: int,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    extras: Extras = NO_EXTRAS,
) -> RerankPlan:
    """Split the documents into batches the server accepts; one request per batch, in input order."""
    plan = RerankPlan(route, url, args, (), max_payload_bytes, extras)
    batches = tuple(plan.split(range(len(args.documents)), max_batch_size))
    return RerankPlan(route, url, args, batches, max_payload_bytes, extras)


def _estimate(args: RerankArgs, batches: Sequence[TaskBatch]) -> int:
    query = estimate_tokens(args.query)
    return sum(query + estimate_tokens(args.documents[i]) for batch in batches for i in batch.span)


def rerank_response(plan: RerankPlan, batches: Sequence[TaskBatch]) -> dict[str, Any]:
    """One rerank response: results sorted by `relevance_score` (ties in input order), cut to `top_n`.

    Example:
        >>> args = check_rerank("q", ["a", "b"], top_n=1, return_documents=True)
        >>> plan = plan_rerank(args, url="http://h/rerank", route="tei", max_batch_size=8)
        >>> batch = plan.read(range(2), Reply([{"index": 1, "score": 0.9}, {"index": 0, "score": 0.1}], {}))
        >>> rerank_response(plan, [batch])["results"]
        [{'index': 1, 'relevance_score': 0.9, 'document': {'text': 'b'}}]
    """
    args = plan.args
    ranked = sorted(
        (item for batch in batches for item in batch.items), key=lambda r: (-r["relevance_score"], r["index"])
    )
    results = ranked[: args.top_n] if args.top_n is not None else ranked
    if args.return_documents:
        results = [{**item, "document": {"text": args.documents[item["index"]]}} for item in results]
    served = next((batch.model for batch in reversed(batches) if batch.model), None)
    return {
        "id": f"rerank-{uuid.uuid4().hex}",
        "object": "list",
        "model": served or args.model or "tei",
        "results": results,
        "usage": merged_usage(batches, lambda: _estimate(args, batches)),
    }

"""Rerank and classification routes, shaped like the servers users meet.

- TEI `POST /rerank` `{query, texts, raw_scores?, return_text?, truncate?}` → `[{index, score, text?}]` (sorted).
- vLLM / Cohere-style `POST /v1/rerank` `{model?, query, documents, top_n?, return_documents?}` →
  `{id, model, usage, results: [{index, document: {text}, relevance_score}]}` (sorted, cut to `top_n`).
- TEI `POST /predict` `{inputs: str | [str] | [[a, b]], raw_scores?}` → `[{label, score}]`, or one list per input.
- The Inference API's text-classification (`POST /models/{name}`): `{inputs: str | {text, text_pair} | [...],
  parameters: {top_k?}}` → one list of labels per input (`[[...]]` for a single one).
- TEI `GET /info` with `model_type` `reranker` or `classifier`.

Embedding models answer `/rerank` and `/v1/rerank` too (TEI refuses them): a document's score is the cosine
similarity of its vector and the query's, mapped to [0, 1] (`(cos + 1) / 2`), a bi-encoder reranker. So the demo
server reranks with MiniLM and no extra model; a cross encoder (`task: rerank`) judges each pair on its own.

TEI's errors: `{"error", "error_type"}` with 413 `Validation` (a batch over `max_client_batch_size`, a long input
without truncation), 400 `Empty`; the `/v1` route answers OpenAI's `{"error": {message, type, code}}`.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from easyllm import __version__
from easyllm.serve.routes.common import FastJSON, read_body, tgi_error
from easyllm.serve.routes.tei import VALIDATION_STATUS, EmbedError
from easyllm.serve.scoring_service import ScoringService
from easyllm.serve.services import EmbeddingService, Timed

Scorer = ScoringService | EmbeddingService


class TEIRerankRequest(BaseModel):
    """`POST /rerank`."""

    model_config = ConfigDict(extra="ignore")

    query: str
    texts: list[str]
    raw_scores: bool = False
    return_text: bool = False
    truncate: bool | None = None


class OpenAIRerankRequest(BaseModel):
    """`POST /v1/rerank`."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    query: str
    documents: list[str]
    top_n: int | None = Field(None, ge=0)
    return_documents: bool = True


class PredictRequest(BaseModel):
    """`POST /predict`."""

    model_config = ConfigDict(extra="ignore")

    inputs: str | list[str] | list[list[str]]
    raw_scores: bool = False
    truncate: bool | None = None


class Pair(BaseModel):
    """A text pair of the Inference API."""

    text: str
    text_pair: str | None = None


class PipelineRequest(BaseModel):
    """The Inference API's text-classification body."""

    model_config = ConfigDict(extra="ignore")

    inputs: str | Pair | list[str | Pair]
    parameters: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)


def _logit(score: float) -> float:
    clipped = min(max(score, 1e-7), 1 - 1e-7)
    return math.log(clipped / (1 - clipped))


async def _check(service: Scorer, counts: list[int], size: int, truncate: bool | None, limit: bool) -> None:
    """TEI's checks: not empty, at most `max_client_batch_size` inputs, not too long without truncation."""
    if size == 0:
        raise EmbedError("`inputs` cannot be empty", "Empty", 400)
    if limit and size > service.config.batch_limit:
        raise EmbedError(f"batch size {size} > maximum allowed batch size {service.config.batch_limit}")
    auto = service.config.auto_truncate if truncate is None else truncate
    longest = service.model.max_input_length
    if counts and not auto and max(counts) > longest:
        raise EmbedError(f"`inputs` must have less than {longest} tokens. Given: {max(counts)}")


async def _bi_encoder(service: EmbeddingService, query: str, texts: list[str]) -> Timed:
    """Cosine similarity of each document's vector with the query's, mapped to [0, 1]."""
    timed = await service.embed([query, *texts], normalize=True, prompt_name=None)
    vectors = timed.value
    cosines = vectors[1:] @ vectors[0]
    return Timed([float((value + 1) / 2) for value in cosines], timed.queue_time, timed.inference_time)


async def _scores(
    service: Scorer, query: str, texts: list[str], truncate: bool | None, *, limit: bool = True
) -> tuple[list[float], int, dict[str, str]]:
    started = time.perf_counter()
    if isinstance(service, EmbeddingService):
        counts = await service.count_tokens([query, *texts]) if texts else []
        await _check(service, counts, len(texts), truncate, limit)
        timed = await _bi_encoder(service, query, texts)
        counts = [counts[0] + count for count in counts[1:]]
    else:
        if not service.reranks:
            raise EmbedError("this model is a classifier, not a reranker: use /predict", "Backend", 424)
        counts = await service.count_pairs(query, texts) if texts else []
        await _check(service, counts, len(texts), truncate, limit)
        timed = await service.rerank(query, texts)
    used = sum(min(count, service.model.max_input_length) for count in counts)
    headers = {
        "x-compute-type": "cpu",
        "x-compute-tokens": str(used),
        "x-total-time": str(round((time.perf_counter() - started) * 1000)),
        "x-queue-time": str(round(timed.queue_time * 1000)),
        "x-inference-time": str(round(timed.inference_time * 1000)),
    }
    return list(timed.value), used, headers


async def tei_rerank(request: Request, service: Scorer) -> Response:
    """TEI's `POST /rerank`: every text scored against the query, highest first."""
    body = await read_body(request, TEIRerankRequest)
    try:
        scores, _, headers = await _scores(service, body.query, body.texts, body.truncate)
    except EmbedError as err:
        return tgi_error(str(err), err.error_type, err.status)
    ranks = []
    for index, score in enumerate(scores):
        rank: dict[str, Any] = {"index": index, "score": _logit(score) if body.raw_scores else score}
        if body.return_text:
            rank["text"] = body.texts[index]
        ranks.append(rank)
    return FastJSON(sorted(ranks, key=lambda r: -r["score"]), headers=headers)


def _openai_error(message: str, status: int) -> JSONResponse:
    error = {"message": message, "type": "BadRequestError" if status < 500 else "InternalServerError", "code": status}
    return JSONResponse({"error": error}, status_code=status)


async def openai_rerank(request: Request, service: Scorer) -> Response:
    """`POST /v1/rerank` as vLLM and Cohere answer it: results sorted by `relevance_score`, cut to `top_n`."""
    body = await read_body(request, OpenAIRerankRequest)
    if not body.documents:
        return _openai_error("documents must not be empty", 400)
    try:
        scores, used, headers = await _scores(service, body.query, body.documents, None, limit=False)
    except EmbedError as err:
        return _openai_error(str(err), err.status)
    results = []
    for index, score in enumerate(scores):
        result: dict[str, Any] = {"index": index, "relevance_score": score}
        if body.return_documents:
            result["document"] = {"text": body.documents[index]}
        results.append(result)
    results.sort(key=lambda r: -r["relevance_score"])
    if body.top_n:
        results = results[: body.top_n]
    answer = {
        "id": f"rerank-{uuid.uuid4().hex}",
        "model": service.config.name,
        "usage": {"prompt_tokens": used, "total_tokens": used},
        "results": results,
    }
    return FastJSON(answer, headers=headers)


def _labels(rows: list[list[tuple[str, float]]], raw: bool) -> list[list[dict[str, Any]]]:
    return [[{"label": label, "score": _logit(score) if raw else score} for label, score in row] for row in rows]


async def _classify(
    service: ScoringService, texts: list[str], pairs: list[str] | None, truncate: bool | None, *, limit: bool
) -> list[list[tuple[str, float]]]:
    counts = await service.count_texts(texts) if texts and not service.reranks else []
    await _check(service, counts, len(texts), truncate, limit)
    timed = await service.classify(texts, pairs)
    rows: list[list[tuple[str, float]]] = timed.value
    return rows


async def predict(request: Request, service: ScoringService) -> Response:
    """TEI's `POST /predict`: every label's score; one list for one text, a list of lists for a batch."""
    body = await read_body(request, PredictRequest)
    inputs = body.inputs
    single = isinstance(inputs, str)
    items = [inputs] if isinstance(inputs, str) else list(inputs)
    if any(isinstance(item, list) and len(item) != 2 for item in items):
        return tgi_error("a pair must have exactly two texts", "Validation", VALIDATION_STATUS)
    texts = [item if isinstance(item, str) else item[0] for item in items]
    pairs = [item[1] for item in items if isinstance(item, list)] or None
    try:
        rows = await _classify(service, texts, pairs, body.truncate, limit=True)
    except EmbedError as err:
        return tgi_error(str(err), err.error_type, err.status)
    labels = _labels(rows, body.raw_scores)
    return FastJSON(labels[0] if single else labels)


async def pipeline(request: Request, service: ScoringService) -> Response:
    """The Inference API's text-classification: one list of labels per input (`top_k` keeps the best k)."""
    body = await read_body(request, PipelineRequest)
    items = body.inputs if isinstance(body.inputs, list) else [body.inputs]
    texts = [item if isinstance(item, str) else item.text for item in items]
    seconds = [item.text_pair for item in items if isinstance(item, Pair) and item.text_pair is not None]
    if seconds and len(seconds) != len(items):
        return JSONResponse({"error": "every input must be a pair, or none"}, status_code=400)
    try:
        rows = await _classify(service, texts, seconds or None, None, limit=False)
    except EmbedError as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    top_k = body.parameters.get("top_k")
    labels = _labels(rows, False)
    if isinstance(top_k, int) and top_k > 0:
        labels = [row[:top_k] for row in labels]
    return FastJSON(labels)


def info_json(service: ScoringService) -> dict[str, Any]:
    """TEI's `/info` for a reranker or classifier.

    Args:
        service: The model.

    Returns:
        The JSON object.
    """
    config = service.config
    id2label = {str(i): label for i, label in service.model.labels.items()}
    kind = "reranker" if service.reranks else "classifier"
    return {
        "model_id": config.served_model_id,
        "model_sha": None,
        "model_dtype": "float32",
        "served_model_name": config.name,
        "model_type": {kind: {"id2label": id2label, "label2id": {v: int(k) for k, v in id2label.items()}}},
        "max_concurrent_requests": 512,
        "max_input_length": service.model.max_input_length,
        "max_batch_tokens": 16384,
        "max_batch_requests": None,
        "max_client_batch_size": config.batch_limit,
        "auto_truncate": config.auto_truncate,
        "tokenization_workers": 1,
        "version": __version__,
        "sha": None,
        "docker_label": None,
    }


async def info(request: Request, service: ScoringService) -> Response:
    """`GET /info` for a reranker or classifier."""
    return FastJSON(info_json(service))

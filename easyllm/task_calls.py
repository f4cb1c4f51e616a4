"""Rerank, classification, moderation and model-info calls in both shells.

Every rule is pure: the dialect the call's server has (`easyllm.dialects`: `rerank`, `classification`,
`model_routes`) plans it, `easyllm.protocol.rerank`, `classification`, `moderation` and `models_info` shape it.
Rerank and classification batches run exactly like embedding batches (`easyllm.embedding_calls`): the server's
batch limit from `/info` (remembered per server), `batch_flow` per batch (a refused batch is split and the
smaller limit remembered), batches in flight at once, results in input order. The shells only wait. No call
here probes the server: a server's root takes TEI's shapes whichever server it is, a `/v1` base the
OpenAI-compatible ones, a collection the Inference API's (`easyllm.dialects.scoring`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx

from easyllm import probing
from easyllm.dialects import Dialect
from easyllm.embedding_calls import (
    _ain_order,
    _batch_size,
    _batch_sizes,
    _in_order,
    _learn_info,
    _learn_refusal,
    adrive,
    drive,
)
from easyllm.errors import NotFoundError
from easyllm.protocol.classification import ClassifyArgs, ClassifyCall, ClassifyPlan, classification_response
from easyllm.protocol.embeddings import BatchLimit, EmbeddingOptions, batch_flow
from easyllm.protocol.extras import NO_EXTRAS, Extras
from easyllm.protocol.generation import HTTPCall, Reply
from easyllm.protocol.models_info import find_model, models_flow, models_list
from easyllm.protocol.moderation import LabelMap, moderation_response
from easyllm.protocol.rerank import RerankArgs, RerankCall, RerankPlan, rerank_response
from easyllm.protocol.task_batches import TaskBatch
from easyllm.settings import Settings
from easyllm.transport import AsyncTransport, SyncTransport

__all__ = [
    "aclassify",
    "aget_model",
    "alist_models",
    "amoderate",
    "arerank",
    "classify",
    "get_model",
    "list_models",
    "moderate",
    "rerank",
]

T = TypeVar("T")
P = TypeVar("P", RerankPlan, ClassifyPlan)
Convert = Callable[[dict[str, Any]], T]


Planner = Callable[[Dialect, int], P]


def _rerank_plan(settings: Settings, args: RerankArgs, extras: Extras) -> Planner[RerankPlan]:
    return lambda dialect, size: dialect.rerank(RerankCall(settings, args, size, extras))


def _classify_plan(settings: Settings, args: ClassifyArgs, extras: Extras) -> Planner[ClassifyPlan]:
    return lambda dialect, size: dialect.classification(ClassifyCall(settings, args, size, extras))


def _info_call(settings: Settings, dialect: Dialect) -> HTTPCall | None:
    """`/info`, for the batch limit, unless it is known (or probing already read it)."""
    known = probing.info(settings, dialect)
    if known is not None:
        _learn_info(settings, known)
    url = dialect.info_url(settings)
    return HTTPCall("GET", url) if url is not None and settings.api_base not in _batch_sizes else None


def _first_plan(
    settings: Settings, make_plan: Planner[P], options: EmbeddingOptions, engine: str
) -> tuple[Dialect, int, P, HTTPCall | None]:
    """The plan for the batch limit known so far, and the `/info` call that may teach a smaller one.

    What the server cannot do, and every bad argument, is refused here: before anything is sent.
    """
    dialect = probing.current(settings, engine)
    size = _batch_size(settings, options)
    return dialect, size, make_plan(dialect, size), _info_call(settings, dialect)


def _replanned(
    settings: Settings,
    make_plan: Planner[P],
    options: EmbeddingOptions,
    dialect: Dialect,
    planned: tuple[int, P],
    info: Reply | None,
) -> tuple[int, P]:
    """After `/info` answered (or did not): the plan again only when the batch limit it taught differs."""
    _learn_info(settings, info.body if info is not None else None)
    size = _batch_size(settings, options)
    return planned if size == planned[0] else (size, make_plan(dialect, size))


def _not_found(model_id: str, url: str) -> NotFoundError:
    response = httpx.Response(404, request=httpx.Request("GET", url))
    return NotFoundError(f"The server does not serve a model {model_id!r}", response=response)


# ---------------------------------------------------------------- sync


def _run(
    settings: Settings,
    make_plan: Planner[P],
    transport: SyncTransport,
    options: EmbeddingOptions,
    engine: str,
) -> tuple[P, list[TaskBatch]]:
    """Plan (bad arguments refused before any I/O), learn the batch limit once per server, send every batch."""
    dialect, size, plan, info = _first_plan(settings, make_plan, options, engine)
    if info is not None:
        reply = transport.probe(info)
        size, plan = _replanned(settings, make_plan, options, dialect, (size, plan), reply)
    limit = BatchLimit(size)
    try:
        one = lambda span: drive(batch_flow(plan, span, limit), transport.send)  # noqa: E731
        return plan, list(_in_order(one, plan.batches, options.concurrency, len(plan.batches)))
    finally:
        _learn_refusal(settings, limit)


def rerank(
    settings: Settings,
    args: RerankArgs,
    transport: SyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    engine: str = "auto",
    extras: Extras = NO_EXTRAS,
) -> T:
    """Score every document against the query; one response sorted by relevance."""
    plan, batches = _run(settings, _rerank_plan(settings, args, extras), transport, options, engine)
    return convert(rerank_response(plan, batches))


def _classification(
    settings: Settings,
    args: ClassifyArgs,
    transport: SyncTransport,
    options: EmbeddingOptions,
    engine: str,
    extras: Extras,
) -> dict[str, Any]:
    plan, batches = _run(settings, _classify_plan(settings, args, extras), transport, options, engine)
    return classification_response(plan, batches)


def classify(
    settings: Settings,
    args: ClassifyArgs,
    transport: SyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    engine: str = "auto",
    extras: Extras = NO_EXTRAS,
) -> T:
    """Every label and score of each input."""
    return convert(_classification(settings, args, transport, options, engine, extras))


def moderate(
    settings: Settings,
    args: ClassifyArgs,
    transport: SyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    moderation: tuple[float, LabelMap | None],
    engine: str = "auto",
    extras: Extras = NO_EXTRAS,
) -> T:
    """Classify, then answer in OpenAI's moderation shape (`moderation` is the threshold and label map)."""
    answer = _classification(settings, args, transport, options, engine, extras)
    threshold, label_map = moderation
    return convert(moderation_response(answer, threshold=threshold, label_map=label_map, model=args.model))


def _models(settings: Settings, transport: SyncTransport, engine: str) -> list[dict[str, Any]]:
    return drive(models_flow(probing.current(settings, engine).model_routes(settings)), transport.send)


def list_models(settings: Settings, transport: SyncTransport, convert: Convert[T], engine: str = "auto") -> T:
    """The server's models, with their limits and capabilities."""
    return convert(models_list(_models(settings, transport, engine)))


def get_model(
    settings: Settings, model_id: str, transport: SyncTransport, convert: Convert[T], engine: str = "auto"
) -> T:
    """One model of the server; `NotFoundError` when it does not serve it."""
    found = find_model(_models(settings, transport, engine), model_id)
    if found is None:
        raise _not_found(model_id, settings.api_base)
    return convert(found)


# ---------------------------------------------------------------- async


async def _arun(
    settings: Settings,
    make_plan: Planner[P],
    transport: AsyncTransport,
    options: EmbeddingOptions,
    engine: str,
) -> tuple[P, list[TaskBatch]]:
    """Async twin of `_run`."""
    dialect, size, plan, info = _first_plan(settings, make_plan, options, engine)
    if info is not None:
        reply = await transport.probe(info)
        size, plan = _replanned(settings, make_plan, options, dialect, (size, plan), reply)
    limit = BatchLimit(size)

    async def one(span: range) -> TaskBatch:
        return await adrive(batch_flow(plan, span, limit), transport.send)

    try:
        done: Sequence[TaskBatch] = [
            batch async for batch in _ain_order(one, plan.batches, options.concurrency, len(plan.batches))
        ]
        return plan, list(done)
    finally:
        _learn_refusal(settings, limit)


async def arerank(
    settings: Settings,
    args: RerankArgs,
    transport: AsyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    engine: str = "auto",
    extras: Extras = NO_EXTRAS,
) -> T:
    """Async twin of `rerank`."""
    plan, batches = await _arun(settings, _rerank_plan(settings, args, extras), transport, options, engine)
    return convert(rerank_response(plan, batches))


async def _aclassification(
    settings: Settings,
    args: ClassifyArgs,
    transport: AsyncTransport,
    options: EmbeddingOptions,
    engine: str,
    extras: Extras,
) -> dict[str, Any]:
    plan, batches = await _arun(settings, _classify_plan(settings, args, extras), transport, options, engine)
    return classification_response(plan, batches)


async def aclassify(
    settings: Settings,
    args: ClassifyArgs,
    transport: AsyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    engine: str = "auto",
    extras: Extras = NO_EXTRAS,
) -> T:
    """Async twin of `classify`."""
    return convert(await _aclassification(settings, args, transport, options, engine, extras))


async def amoderate(
    settings: Settings,
    args: ClassifyArgs,
    transport: AsyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    moderation: tuple[float, LabelMap | None],
    engine: str = "auto",
    extras: Extras = NO_EXTRAS,
) -> T:
    """Async twin of `moderate`."""
    answer = await _aclassification(settings, args, transport, options, engine, extras)
    threshold, label_map = moderation
    return convert(moderation_response(answer, threshold=threshold, label_map=label_map, model=args.model))


async def _amodels(settings: Settings, transport: AsyncTransport, engine: str) -> list[dict[str, Any]]:
    return await adrive(models_flow(probing.current(settings, engine).model_routes(settings)), transport.send)


async def alist_models(settings: Settings, transport: AsyncTransport, convert: Convert[T], engine: str = "auto") -> T:
    """Async twin of `list_models`."""
    return convert(models_list(await _amodels(settings, transport, engine)))


async def aget_model(
    settings: Settings, model_id: str, transport: AsyncTransport, convert: Convert[T], engine: str = "auto"
) -> T:
    """Async twin of `get_model`."""
    found = find_model(await _amodels(settings, transport, engine), model_id)
    if found is None:
        raise _not_found(model_id, settings.api_base)
    return convert(found)

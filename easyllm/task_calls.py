"""Rerank, classification, moderation and model-info calls in both shells.

Every rule is pure (`easyllm.protocol.rerank`, `classification`, `moderation`, `models_info`, `task_routes`).
Rerank and classification batches run exactly like embedding batches (`easyllm.embedding_calls`): the server's
batch limit from `/info` (remembered per server), `batch_flow` per batch (a refused batch is split and the
smaller limit remembered), batches in flight at once, results in input order. The shells only wait.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx

from easyllm.embedding_calls import (
    _INFO_MISSES,
    _ain_order,
    _batch_size,
    _in_order,
    _info_call,
    _learn_info,
    _learn_refusal,
    adrive,
    drive,
)
from easyllm.errors import NotFoundError
from easyllm.protocol.classification import ClassifyArgs, ClassifyPlan, classification_response, plan_classify
from easyllm.protocol.embeddings import BatchLimit, EmbeddingOptions, batch_flow
from easyllm.protocol.models_info import find_model, models_flow, models_list
from easyllm.protocol.moderation import LabelMap, moderation_response
from easyllm.protocol.rerank import RerankArgs, RerankPlan, plan_rerank, rerank_response
from easyllm.protocol.task_batches import TaskBatch
from easyllm.protocol.task_routes import info_routes, task_routes
from easyllm.protocol.urls import ServerProtocol
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


def _rerank_plan(settings: Settings, args: RerankArgs, protocol: ServerProtocol) -> Callable[[int], RerankPlan]:
    routes = task_routes(settings, args.model, protocol)
    return lambda size: plan_rerank(args, url=routes.rerank, kind=routes.kind, max_batch_size=size)


def _classify_plan(settings: Settings, args: ClassifyArgs, protocol: ServerProtocol) -> Callable[[int], ClassifyPlan]:
    routes = task_routes(settings, args.model, protocol)
    return lambda size: plan_classify(args, url=routes.classify, kind=routes.kind, max_batch_size=size)


def _not_found(model_id: str, url: str) -> NotFoundError:
    response = httpx.Response(404, request=httpx.Request("GET", url))
    return NotFoundError(f"The server does not serve a model {model_id!r}", response=response)


# ---------------------------------------------------------------- sync


def _run(
    settings: Settings,
    make_plan: Callable[[int], P],
    transport: SyncTransport,
    options: EmbeddingOptions,
    protocol: ServerProtocol,
) -> tuple[P, list[TaskBatch]]:
    """Learn the server's batch limit (once per server), then send every batch; answers in input order."""
    info = _info_call(settings, protocol)
    if info is not None:
        try:
            _learn_info(settings, transport.send(info))
        except _INFO_MISSES:
            _learn_info(settings, None)
    size = _batch_size(settings, options)
    plan, limit = make_plan(size), BatchLimit(size)
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
    protocol: ServerProtocol = "auto",
) -> T:
    """Score every document against the query; one response sorted by relevance."""
    plan, batches = _run(settings, _rerank_plan(settings, args, protocol), transport, options, protocol)
    return convert(rerank_response(plan, batches))


def _classification(
    settings: Settings,
    args: ClassifyArgs,
    transport: SyncTransport,
    options: EmbeddingOptions,
    protocol: ServerProtocol,
) -> dict[str, Any]:
    plan, batches = _run(settings, _classify_plan(settings, args, protocol), transport, options, protocol)
    return classification_response(plan, batches)


def classify(
    settings: Settings,
    args: ClassifyArgs,
    transport: SyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    protocol: ServerProtocol = "auto",
) -> T:
    """Every label and score of each input."""
    return convert(_classification(settings, args, transport, options, protocol))


def moderate(
    settings: Settings,
    args: ClassifyArgs,
    transport: SyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    moderation: tuple[float, LabelMap | None],
    protocol: ServerProtocol = "auto",
) -> T:
    """Classify, then answer in OpenAI's moderation shape (`moderation` is the threshold and label map)."""
    answer = _classification(settings, args, transport, options, protocol)
    threshold, label_map = moderation
    return convert(moderation_response(answer, threshold=threshold, label_map=label_map, model=args.model))


def _models(settings: Settings, transport: SyncTransport, protocol: ServerProtocol) -> list[dict[str, Any]]:
    return drive(models_flow(info_routes(settings, protocol)), transport.send)


def list_models(
    settings: Settings, transport: SyncTransport, convert: Convert[T], protocol: ServerProtocol = "auto"
) -> T:
    """The server's models, with their limits and capabilities."""
    return convert(models_list(_models(settings, transport, protocol)))


def get_model(
    settings: Settings, model_id: str, transport: SyncTransport, convert: Convert[T], protocol: ServerProtocol = "auto"
) -> T:
    """One model of the server; `NotFoundError` when it does not serve it."""
    found = find_model(_models(settings, transport, protocol), model_id)
    if found is None:
        raise _not_found(model_id, settings.api_base)
    return convert(found)


# ---------------------------------------------------------------- async


async def _arun(
    settings: Settings,
    make_plan: Callable[[int], P],
    transport: AsyncTransport,
    options: EmbeddingOptions,
    protocol: ServerProtocol,
) -> tuple[P, list[TaskBatch]]:
    """Async twin of `_run`."""
    info = _info_call(settings, protocol)
    if info is not None:
        try:
            _learn_info(settings, await transport.send(info))
        except _INFO_MISSES:
            _learn_info(settings, None)
    size = _batch_size(settings, options)
    plan, limit = make_plan(size), BatchLimit(size)

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
    protocol: ServerProtocol = "auto",
) -> T:
    """Async twin of `rerank`."""
    plan, batches = await _arun(settings, _rerank_plan(settings, args, protocol), transport, options, protocol)
    return convert(rerank_response(plan, batches))


async def _aclassification(
    settings: Settings,
    args: ClassifyArgs,
    transport: AsyncTransport,
    options: EmbeddingOptions,
    protocol: ServerProtocol,
) -> dict[str, Any]:
    plan, batches = await _arun(settings, _classify_plan(settings, args, protocol), transport, options, protocol)
    return classification_response(plan, batches)


async def aclassify(
    settings: Settings,
    args: ClassifyArgs,
    transport: AsyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    protocol: ServerProtocol = "auto",
) -> T:
    """Async twin of `classify`."""
    return convert(await _aclassification(settings, args, transport, options, protocol))


async def amoderate(
    settings: Settings,
    args: ClassifyArgs,
    transport: AsyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    moderation: tuple[float, LabelMap | None],
    protocol: ServerProtocol = "auto",
) -> T:
    """Async twin of `moderate`."""
    answer = await _aclassification(settings, args, transport, options, protocol)
    threshold, label_map = moderation
    return convert(moderation_response(answer, threshold=threshold, label_map=label_map, model=args.model))


async def _amodels(settings: Settings, transport: AsyncTransport, protocol: ServerProtocol) -> list[dict[str, Any]]:
    return await adrive(models_flow(info_routes(settings, protocol)), transport.send)


async def alist_models(
    settings: Settings, transport: AsyncTransport, convert: Convert[T], protocol: ServerProtocol = "auto"
) -> T:
    """Async twin of `list_models`."""
    return convert(models_list(await _amodels(settings, transport, protocol)))


async def aget_model(
    settings: Settings, model_id: str, transport: AsyncTransport, convert: Convert[T], protocol: ServerProtocol = "auto"
) -> T:
    """Async twin of `get_model`."""
    found = find_model(await _amodels(settings, transport, protocol), model_id)
    if found is None:
        raise _not_found(model_id, settings.api_base)
    return convert(found)

"""Run planned calls: `build (pure) -> send (transport) -> parse (pure)`, once for sync and once for async.

The two shells below differ only in how they wait (threads vs. asyncio); every rule they apply lives in
`easyllm.protocol`. Embedding calls (many batches, bounded and ordered) are in `easyllm.embedding_calls`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from easyllm import embedding_calls
from easyllm.errors import APIStatusError
from easyllm.protocol.embeddings import DEFAULT_CONCURRENCY
from easyllm.protocol.generation import CompletionPlan, HTTPCall
from easyllm.protocol.messages import MessagesPlan, lacks_messages_api, reclassify_error
from easyllm.protocol.samples import split_opened
from easyllm.streaming import AsyncStream, Stream
from easyllm.transport import AsyncTransport, SyncTransport

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_CONCURRENCY", "acomplete", "complete", "forget_servers"]

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")
Convert = Callable[[dict[str, Any]], T]

# Which servers have TGI's Messages API, by that route's URL: found out once (by trying it), then remembered.
_messages_api: dict[str, bool] = {}


def _map_threads(fn: Callable[[HTTPCall], R], calls: Sequence[HTTPCall], limit: int) -> list[R]:
    if len(calls) == 1:
        return [fn(calls[0])]
    with ThreadPoolExecutor(max_workers=max(1, min(limit, len(calls)))) as pool:
        return list(pool.map(fn, calls))


async def _map_tasks(fn: Callable[[HTTPCall], Awaitable[R]], calls: Sequence[HTTPCall], limit: int) -> list[R]:
    if len(calls) == 1:
        return [await fn(calls[0])]
    gate = asyncio.Semaphore(max(1, limit))

    async def one(call: HTTPCall) -> R:
        async with gate:
            return await fn(call)

    return list(await asyncio.gather(*(one(c) for c in calls)))


def forget_servers() -> None:
    """Forget what was learned about servers (batch limits, which have the Messages API); they are asked again."""
    embedding_calls.forget_batch_sizes()
    _messages_api.clear()


# ---------------------------------------------------------------- completions


def _route(plan: CompletionPlan) -> CompletionPlan:
    """The plan to run: a remembered "no Messages API here" switches to the plan's native fallback at once."""
    known = _messages_api.get(plan.probe_key) if isinstance(plan, MessagesPlan) and plan.probe_key else None
    if known is False and isinstance(plan, MessagesPlan) and plan.fallback is not None:
        return plan.fallback()
    return plan


def _after_error(plan: CompletionPlan, err: APIStatusError) -> CompletionPlan:
    """The plan to run after `err` (the native fallback of a server without the Messages API), or raise."""
    if not isinstance(plan, MessagesPlan):
        raise err
    if plan.fallback is not None and plan.probe_key is not None and lacks_messages_api(err):
        _messages_api[plan.probe_key] = False
        logger.info("no Messages API at %s (%s); using TGI's native route", plan.probe_key, err.status_code)
        return plan.fallback()
    normalised = reclassify_error(err)
    if normalised is err:
        raise err
    raise normalised from err


def _remember(plan: CompletionPlan) -> None:
    if isinstance(plan, MessagesPlan) and plan.probe_key is not None:
        _messages_api[plan.probe_key] = True


def _open_streams(transport: SyncTransport, calls: Sequence[HTTPCall]) -> list[httpx.Response]:
    """Open every sample's stream at once (the server then generates them together); all or none stay open."""
    if len(calls) == 1:
        return [transport.open_stream(calls[0])]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(transport.open_stream, call) for call in calls]
    opened, failed = split_opened([f.exception() or f.result() for f in futures])
    if failed is not None:
        for response in opened:
            response.close()
        raise failed
    return opened


async def _aopen_streams(transport: AsyncTransport, calls: Sequence[HTTPCall]) -> list[httpx.Response]:
    """Async twin of `_open_streams`; a caller cancelled while opening leaves no stream open either."""
    if len(calls) == 1:
        return [await transport.open_stream(calls[0])]
    tasks = [asyncio.ensure_future(transport.open_stream(call)) for call in calls]
    try:
        await asyncio.wait(tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in tasks:
            if not task.cancelled() and task.exception() is None:
                await task.result().aclose()
        raise
    opened, failed = split_opened([task.exception() or task.result() for task in tasks])
    if failed is not None:
        for response in opened:
            await response.aclose()
        raise failed
    return opened


def _run(plan: CompletionPlan, transport: SyncTransport, convert: Convert[T], chunk: Convert[C]) -> T | Stream[C]:
    if plan.stream:
        responses = _open_streams(transport, plan.calls)
        return Stream([(r, plan.consumer(r.request, i)) for i, r in enumerate(responses)], chunk)
    replies = _map_threads(transport.send, plan.calls, DEFAULT_CONCURRENCY)
    return convert(plan.build(replies))


async def _arun(
    plan: CompletionPlan, transport: AsyncTransport, convert: Convert[T], chunk: Convert[C]
) -> T | AsyncStream[C]:
    if plan.stream:
        responses = await _aopen_streams(transport, plan.calls)
        return AsyncStream([(r, plan.consumer(r.request, i)) for i, r in enumerate(responses)], chunk)
    replies = await _map_tasks(transport.send, plan.calls, DEFAULT_CONCURRENCY)
    return convert(plan.build(replies))


def complete(
    plan: CompletionPlan, transport: SyncTransport, convert: Convert[T], chunk_convert: Convert[C]
) -> T | Stream[C]:
    """Send a planned chat/text completion: `convert` shapes a whole answer, `chunk_convert` each streamed chunk.

    On a Messages API plan, a 404/405 switches to the plan's native fallback (remembered per server) and a 500
    that reads like a validation error becomes `UnprocessableEntityError`.
    """
    plan = _route(plan)
    try:
        result = _run(plan, transport, convert, chunk_convert)
    except APIStatusError as err:
        return _run(_after_error(plan, err), transport, convert, chunk_convert)
    _remember(plan)
    return result


async def acomplete(
    plan: CompletionPlan, transport: AsyncTransport, convert: Convert[T], chunk_convert: Convert[C]
) -> T | AsyncStream[C]:
    """Async twin of `complete`."""
    plan = _route(plan)
    try:
        result = await _arun(plan, transport, convert, chunk_convert)
    except APIStatusError as err:
        return await _arun(_after_error(plan, err), transport, convert, chunk_convert)
    _remember(plan)
    return result

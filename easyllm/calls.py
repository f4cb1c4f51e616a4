"""Run chat and text calls: `plan (pure) -> send (transport) -> parse (pure)`, once for sync and once for async.

A call is planned by the dialect of its server (`easyllm.dialects`, found by `easyllm.probing`); the two shells
below differ only in how they wait (threads vs. asyncio); every rule they apply lives in `easyllm.protocol` and
`easyllm.dialects`. A plan whose route the server lacks (404/405) is replaced by the plan's `alternative`, and
the missing route is remembered. Embedding calls (many batches, bounded and ordered) are in
`easyllm.embedding_calls`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from easyllm import embedding_calls, prices, probing
from easyllm.dialects import ChatCall, Dialect, TextCall, check_model
from easyllm.errors import APIStatusError
from easyllm.protocol.embeddings import DEFAULT_CONCURRENCY
from easyllm.protocol.generation import CompletionPlan, HTTPCall
from easyllm.protocol.messages import MessagesPlan, lacks_route, reclassify_error
from easyllm.protocol.samples import split_opened
from easyllm.streaming import AsyncStream, Stream
from easyllm.transport import AsyncTransport, SyncTransport

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "acomplete",
    "aprepare",
    "asend_plan",
    "complete",
    "forget_servers",
    "plan_call",
    "prepare",
    "send_plan",
]

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")
Convert = Callable[[dict[str, Any]], T]

# Routes a server turned out not to have (404/405), by URL: their plans' alternatives run at once from then on.
_missing_routes: set[str] = set()


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
    """Forget what was learned about servers (kinds, batch limits, missing routes, the router's prices)."""
    embedding_calls.forget_batch_sizes()
    probing.forget()
    prices.forget_router_prices()
    _missing_routes.clear()


# ---------------------------------------------------------------- completions

Call = ChatCall | TextCall


def _purpose(call: Call) -> str:
    """What the call needs to know about the server: structured output is the one request whose form differs."""
    return "structured" if call.options.get("response_format") is not None else "generation"


def _plan_with(dialect: Dialect, call: Call) -> CompletionPlan:
    plan = dialect.chat(call) if isinstance(call, ChatCall) else dialect.completion(call)
    key = plan.route_key
    if key is not None and key in _missing_routes and plan.alternative is not None:
        return plan.alternative()
    return plan


def _after_error(plan: CompletionPlan, err: APIStatusError) -> CompletionPlan:
    """The plan to run after `err` (the alternative of a plan whose route the server lacks), or raise."""
    if plan.alternative is not None and plan.route_key is not None and lacks_route(err):
        _missing_routes.add(plan.route_key)
        logger.info("no %s at this server (%s); using its alternative route", plan.route_key, err.status_code)
        return plan.alternative()
    if not isinstance(plan, MessagesPlan):
        raise err
    normalised = reclassify_error(err)
    if normalised is err:
        raise err
    raise normalised from err


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


def plan_call(call: Call) -> CompletionPlan:
    """Plan a call with the dialect known so far, without I/O: every argument is checked here, before sending."""
    check_model(call.settings, call.engine, call.model)
    return _plan_with(probing.current(call.settings, call.engine), call)


def prepare(call: Call, transport: SyncTransport) -> tuple[Dialect, CompletionPlan]:
    """The dialect and plan of a call, checked and planned before anything is sent.

    Where the server's kind changes the request and is not known yet, the server is probed once and the call
    planned again.
    """
    plan = plan_call(call)
    if not probing.pending(call.settings, call.engine, _purpose(call)):
        return probing.current(call.settings, call.engine), plan
    dialect = probing.dialect(call.settings, call.engine, _purpose(call), transport)
    return dialect, _plan_with(dialect, call)


async def aprepare(call: Call, transport: AsyncTransport) -> tuple[Dialect, CompletionPlan]:
    """Async twin of `prepare`."""
    plan = plan_call(call)
    if not probing.pending(call.settings, call.engine, _purpose(call)):
        return probing.current(call.settings, call.engine), plan
    dialect = await probing.adialect(call.settings, call.engine, _purpose(call), transport)
    return dialect, _plan_with(dialect, call)


def send_plan(
    plan: CompletionPlan, transport: SyncTransport, convert: Convert[T], chunk_convert: Convert[C]
) -> T | Stream[C]:
    """Send a prepared plan.

    A 404/405 on a route with an alternative switches to it (remembered per route); a 500 that reads like a
    validation error becomes `UnprocessableEntityError`.
    """
    try:
        return _run(plan, transport, convert, chunk_convert)
    except APIStatusError as err:
        return _run(_after_error(plan, err), transport, convert, chunk_convert)


async def asend_plan(
    plan: CompletionPlan, transport: AsyncTransport, convert: Convert[T], chunk_convert: Convert[C]
) -> T | AsyncStream[C]:
    """Async twin of `send_plan`."""
    try:
        return await _arun(plan, transport, convert, chunk_convert)
    except APIStatusError as err:
        return await _arun(_after_error(plan, err), transport, convert, chunk_convert)


def complete(call: Call, transport: SyncTransport, convert: Convert[T], chunk_convert: Convert[C]) -> T | Stream[C]:
    """Send a chat/text call (`prepare`, then `send_plan`).

    `convert` shapes a whole answer, `chunk_convert` each streamed chunk.
    """
    return send_plan(prepare(call, transport)[1], transport, convert, chunk_convert)


async def acomplete(
    call: Call, transport: AsyncTransport, convert: Convert[T], chunk_convert: Convert[C]
) -> T | AsyncStream[C]:
    """Async twin of `complete`."""
    return await asend_plan((await aprepare(call, transport))[1], transport, convert, chunk_convert)

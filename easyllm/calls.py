"""Run planned calls: `build (pure) -> send (transport) -> parse (pure)`, once for sync and once for async.

The two shells below differ only in how they wait (threads vs. asyncio); every rule they apply lives in
`easyllm.protocol`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from easyllm.errors import APIConnectionError, APIStatusError
from easyllm.protocol import urls
from easyllm.protocol.embeddings import (
    DEFAULT_BATCH_SIZE,
    EmbeddingPlan,
    build_embeddings,
    max_batch_size_from_info,
)
from easyllm.protocol.generation import GenerationPlan, GenerationStream, HTTPCall, Reply, build_completion
from easyllm.settings import Settings
from easyllm.streaming import AsyncStream, Stream
from easyllm.transport import AsyncTransport, SyncTransport

__all__ = [
    "DEFAULT_CONCURRENCY",
    "acomplete",
    "aembed",
    "amax_batch_size",
    "complete",
    "embed",
    "max_batch_size",
]

T = TypeVar("T")
R = TypeVar("R")
Convert = Callable[[dict[str, Any]], T]

#: Requests in flight at once for one call (samples of `n`, embedding batches).
DEFAULT_CONCURRENCY = 4

# `/info` answers per server, so a batch limit is asked for once per base URL.
_batch_sizes: dict[str, int] = {}


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


# ---------------------------------------------------------------- completions


def complete(plan: GenerationPlan, transport: SyncTransport, convert: Convert[T]) -> T | Stream[T]:
    """Send a planned chat/text completion; a `Stream` when the plan streams."""
    if plan.stream:
        response = transport.open_stream(plan.calls[0])
        return Stream(response, GenerationStream(plan, response.request), convert)
    replies = _map_threads(transport.send, plan.calls, DEFAULT_CONCURRENCY)
    return convert(build_completion(plan, replies))


async def acomplete(plan: GenerationPlan, transport: AsyncTransport, convert: Convert[T]) -> T | AsyncStream[T]:
    """Async twin of `complete`."""
    if plan.stream:
        response = await transport.open_stream(plan.calls[0])
        return AsyncStream(response, GenerationStream(plan, response.request), convert)
    replies = await _map_tasks(transport.send, plan.calls, DEFAULT_CONCURRENCY)
    return convert(build_completion(plan, replies))


# ---------------------------------------------------------------- embeddings


def _info_call(settings: Settings) -> HTTPCall | None:
    url = urls.info_url(settings)
    if url is None or settings.api_base in _batch_sizes:
        return None
    return HTTPCall("GET", url)


def _remember_batch_size(settings: Settings, reply: Reply | None) -> int:
    size = max_batch_size_from_info(reply.body) if reply is not None else None
    _batch_sizes.setdefault(settings.api_base, size or DEFAULT_BATCH_SIZE)
    return _batch_sizes[settings.api_base]


_INFO_MISSES = (APIStatusError, APIConnectionError)


def max_batch_size(transport: SyncTransport) -> int:
    """The server's `max_client_batch_size` from `/info` (asked once per base URL), or the default."""
    call = _info_call(transport.settings)
    if call is None:
        return _batch_sizes.get(transport.settings.api_base, DEFAULT_BATCH_SIZE)
    try:
        reply: Reply | None = transport.send(call)
    except _INFO_MISSES:
        reply = None
    return _remember_batch_size(transport.settings, reply)


async def amax_batch_size(transport: AsyncTransport) -> int:
    """Async twin of `max_batch_size`."""
    call = _info_call(transport.settings)
    if call is None:
        return _batch_sizes.get(transport.settings.api_base, DEFAULT_BATCH_SIZE)
    try:
        reply: Reply | None = await transport.send(call)
    except _INFO_MISSES:
        reply = None
    return _remember_batch_size(transport.settings, reply)


def embed(
    plan: EmbeddingPlan,
    inputs: Sequence[str],
    transport: SyncTransport,
    convert: Convert[T],
    concurrency: int,
) -> T:
    """Send every batch (at most `concurrency` at once) and merge the answers in input order."""
    replies = _map_threads(transport.send, plan.calls, concurrency)
    return convert(build_embeddings(plan, replies, inputs))


async def aembed(
    plan: EmbeddingPlan,
    inputs: Sequence[str],
    transport: AsyncTransport,
    convert: Convert[T],
    concurrency: int,
) -> T:
    """Async twin of `embed`."""
    replies = await _map_tasks(transport.send, plan.calls, concurrency)
    return convert(build_embeddings(plan, replies, inputs))

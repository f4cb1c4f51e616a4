"""Run planned calls: `build (pure) -> send (transport) -> parse (pure)`, once for sync and once for async.

The two shells below differ only in how they wait (threads vs. asyncio); every rule they apply lives in
`easyllm.protocol`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from easyllm.errors import APIConnectionError, APIStatusError
from easyllm.log import logger
from easyllm.protocol import urls
from easyllm.protocol.embeddings import (
    DEFAULT_BATCH_SIZE,
    EmbeddingPlan,
    build_embeddings,
    max_batch_size_from_info,
)
from easyllm.protocol.generation import CompletionPlan, HTTPCall, Reply
from easyllm.protocol.messages import MessagesPlan, lacks_messages_api, reclassify_error
from easyllm.protocol.openai_embeddings import OpenAIEmbeddingPlan
from easyllm.protocol.requests import prepare_embeddings
from easyllm.protocol.urls import ServerProtocol
from easyllm.settings import Settings
from easyllm.streaming import AsyncStream, Stream
from easyllm.transport import AsyncTransport, SyncTransport

__all__ = [
    "DEFAULT_CONCURRENCY",
    "acomplete",
    "aembed",
    "aembed_inputs",
    "amax_batch_size",
    "complete",
    "embed",
    "embed_inputs",
    "forget_servers",
    "max_batch_size",
]

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")
Convert = Callable[[dict[str, Any]], T]

#: Requests in flight at once for one call (samples of `n`, embedding batches). Eight keeps 10,000 texts at
#: a 20 ms-per-batch server within 1.3x of the ideal and over 5x faster than sequential batches (bench/, C).
DEFAULT_CONCURRENCY = 8

# `/info` answers per server, so a batch limit is asked for once per base URL.
_batch_sizes: dict[str, int] = {}
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
    _batch_sizes.clear()
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


def _run(plan: CompletionPlan, transport: SyncTransport, convert: Convert[T], chunk: Convert[C]) -> T | Stream[C]:
    if plan.stream:
        response = transport.open_stream(plan.calls[0])
        return Stream(response, plan.consumer(response.request), chunk)
    replies = _map_threads(transport.send, plan.calls, DEFAULT_CONCURRENCY)
    return convert(plan.build(replies))


async def _arun(
    plan: CompletionPlan, transport: AsyncTransport, convert: Convert[T], chunk: Convert[C]
) -> T | AsyncStream[C]:
    if plan.stream:
        response = await transport.open_stream(plan.calls[0])
        return AsyncStream(response, plan.consumer(response.request), chunk)
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


def _build_embeddings(
    plan: EmbeddingPlan | OpenAIEmbeddingPlan, replies: Sequence[Reply], inputs: Sequence[str]
) -> dict[str, Any]:
    if isinstance(plan, OpenAIEmbeddingPlan):
        return plan.build(replies, inputs)
    return build_embeddings(plan, replies, inputs)


def embed(
    plan: EmbeddingPlan | OpenAIEmbeddingPlan,
    inputs: Sequence[str],
    transport: SyncTransport,
    convert: Convert[T],
    concurrency: int,
) -> T:
    """Send every batch (at most `concurrency` at once) and merge the answers in input order."""
    replies = _map_threads(transport.send, plan.calls, concurrency)
    return convert(_build_embeddings(plan, replies, inputs))


async def aembed(
    plan: EmbeddingPlan | OpenAIEmbeddingPlan,
    inputs: Sequence[str],
    transport: AsyncTransport,
    convert: Convert[T],
    concurrency: int,
) -> T:
    """Async twin of `embed`."""
    replies = await _map_tasks(transport.send, plan.calls, concurrency)
    return convert(_build_embeddings(plan, replies, inputs))


def embed_inputs(
    settings: Settings,
    args: Mapping[str, Any],
    transport: SyncTransport,
    convert: Convert[T],
    concurrency: int,
    protocol: ServerProtocol = "auto",
) -> T:
    """Plan and send one embedding call (`args` as `prepare_embeddings` takes them, bar the batch size)."""
    size = DEFAULT_BATCH_SIZE if urls.is_openai_server(settings, protocol) else max_batch_size(transport)
    inputs, plan = prepare_embeddings(settings, max_batch_size=size, protocol=protocol, **args)
    return embed(plan, inputs, transport, convert, concurrency)


async def aembed_inputs(
    settings: Settings,
    args: Mapping[str, Any],
    transport: AsyncTransport,
    convert: Convert[T],
    concurrency: int,
    protocol: ServerProtocol = "auto",
) -> T:
    """Async twin of `embed_inputs`."""
    size = DEFAULT_BATCH_SIZE if urls.is_openai_server(settings, protocol) else await amax_batch_size(transport)
    inputs, plan = prepare_embeddings(settings, max_batch_size=size, protocol=protocol, **args)
    return await aembed(plan, inputs, transport, convert, concurrency)

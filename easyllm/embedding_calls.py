"""Embedding calls in both shells: batches sent with bounded concurrency, read as they arrive, kept in order.

Every rule is pure (`easyllm.protocol.embeddings`): the plan, one `batch_flow` per batch (which splits a batch
the server refuses as too large), reading and merging. The shells only wait: threads for the sync one, asyncio
tasks for the async one. Each batch is read (vectors checked, pooled, finished) and shaped by `convert` in the
worker that received it, so that work overlaps the other batches' waiting instead of following it.

- `embed_inputs` / `aembed_inputs`: the whole call, one response (`Embedding.create`).
- `iter_embeddings` / `aiter_embeddings`: one response per batch in input order, at most `concurrency` batches
  in flight and at most twice that many held (`Embedding.iter_batches`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import Any, TypeVar

from easyllm.errors import APIConnectionError, APIStatusError, InvalidParameterError
from easyllm.protocol import urls
from easyllm.protocol.embeddings import (
    DEFAULT_BATCH_SIZE,
    BatchLimit,
    EmbeddedBatch,
    EmbeddingOptions,
    EmbeddingPlan,
    batch_flow,
    max_batch_size_from_info,
    merge_batches,
)
from easyllm.protocol.generation import HTTPCall, Reply
from easyllm.protocol.requests import check_embeddings, prepare_embeddings
from easyllm.protocol.urls import ServerProtocol
from easyllm.settings import Settings
from easyllm.transport import AsyncTransport, SyncTransport

__all__ = [
    "aembed_inputs",
    "aiter_embeddings",
    "embed_inputs",
    "forget_batch_sizes",
    "iter_embeddings",
]

T = TypeVar("T")
R = TypeVar("R")
Convert = Callable[[dict[str, Any]], T]
Flow = Generator[HTTPCall, Reply, EmbeddedBatch]

# Batch limits per base URL: `/info`'s (None when the server has none) or a smaller one a refusal taught us.
_batch_sizes: dict[str, int | None] = {}
_INFO_MISSES = (APIStatusError, APIConnectionError)


def forget_batch_sizes() -> None:
    """Forget every server's batch limit; `/info` is asked again."""
    _batch_sizes.clear()


def _batch_size(settings: Settings, options: EmbeddingOptions) -> int:
    """The caller's batch size under the server's limit; TEI's default when neither is known."""
    known = [size for size in (_batch_sizes.get(settings.api_base), options.batch_size) if size is not None]
    return min(known) if known else DEFAULT_BATCH_SIZE


def _info_call(settings: Settings, protocol: ServerProtocol) -> HTTPCall | None:
    url = None if urls.is_openai_server(settings, protocol) else urls.info_url(settings)
    return None if url is None or settings.api_base in _batch_sizes else HTTPCall("GET", url)


def _learn_info(settings: Settings, reply: Reply | None) -> None:
    _batch_sizes.setdefault(settings.api_base, max_batch_size_from_info(reply.body) if reply is not None else None)


def _learn_refusal(settings: Settings, limit: BatchLimit) -> None:
    if limit.learned is not None:
        known = _batch_sizes.get(settings.api_base)
        _batch_sizes[settings.api_base] = limit.learned if known is None else min(known, limit.learned)


def _plan(
    settings: Settings, args: Mapping[str, Any], options: EmbeddingOptions, protocol: ServerProtocol
) -> tuple[EmbeddingPlan, BatchLimit]:
    size = _batch_size(settings, options)
    plan = prepare_embeddings(settings, max_batch_size=size, protocol=protocol, **args)[1]
    return plan, BatchLimit(size)


def _tqdm(options: EmbeddingOptions) -> Any:
    """The tqdm bar class when a progress bar is asked for (refused at once if tqdm is missing), else None."""
    if not options.show_progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        raise InvalidParameterError(
            "needs tqdm: pip install tqdm (or pip install 'easyllm[progress]')", param="show_progress"
        ) from None
    return tqdm


def _items(part: Any) -> Sequence[Any]:
    """The `data` items of a shaped response (an `OpenAIObject` or a pydantic model)."""
    return part.data  # type: ignore[no-any-return]


# ---------------------------------------------------------------- sync


def drive(flow: Flow, send: Callable[[HTTPCall], Reply]) -> EmbeddedBatch:
    """Run a `batch_flow`: send what it yields, hand back replies and status errors, return its batch."""
    try:
        call = next(flow)
        while True:
            try:
                reply = send(call)
            except APIStatusError as err:
                call = flow.throw(err)
            else:
                call = flow.send(reply)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _in_order(fn: Callable[[range], R], spans: Sequence[range], limit: int, window: int) -> Iterator[R]:
    """`fn` over `spans` in threads, at most `limit` running and `window` submitted, results in order."""
    if len(spans) == 1:
        yield fn(spans[0])
        return
    with ThreadPoolExecutor(max_workers=min(limit, len(spans))) as pool:
        todo = iter(spans)
        pending: deque[Future[R]] = deque(pool.submit(fn, span) for span in islice(todo, window))
        try:
            while pending:
                result = pending.popleft().result()
                pending.extend(pool.submit(fn, span) for span in islice(todo, 1))
                yield result
        finally:
            for future in pending:  # a failure, or the caller stopped early: running batches finish, no new ones
                future.cancel()


def _batches(
    settings: Settings,
    args: Mapping[str, Any],
    transport: SyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    protocol: ServerProtocol,
    window: int | None,
) -> Iterator[tuple[EmbeddedBatch, T]]:
    bar_class = _tqdm(options)
    info = _info_call(settings, protocol)
    if info is not None:
        try:
            _learn_info(settings, transport.send(info))
        except _INFO_MISSES:
            _learn_info(settings, None)
    plan, limit = _plan(settings, args, options, protocol)

    def one(span: range) -> tuple[EmbeddedBatch, T]:
        batch = drive(batch_flow(plan, span, limit), transport.send)
        return batch, convert(plan.partial(batch))

    bar = bar_class(total=len(plan.inputs), unit="text", desc="embeddings") if bar_class else None
    try:
        for batch, part in _in_order(one, plan.batches, options.concurrency, window or len(plan.batches)):
            if bar is not None:
                bar.update(len(batch.span))
            yield batch, part
    finally:
        _learn_refusal(settings, limit)
        if bar is not None:
            bar.close()


def embed_inputs(
    settings: Settings,
    args: Mapping[str, Any],
    transport: SyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    protocol: ServerProtocol = "auto",
) -> T:
    """Embed every input (`args` as `prepare_embeddings` takes them, bar the batch size): one response."""
    check_embeddings(args)
    done = list(_batches(settings, args, transport, convert, options, protocol, None))
    data = [item for _, part in done for item in _items(part)]
    return convert(merge_batches([batch for batch, _ in done], data, args["input"]))


def iter_embeddings(
    settings: Settings,
    args: Mapping[str, Any],
    transport: SyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    protocol: ServerProtocol = "auto",
) -> Iterator[T]:
    """One response per batch, in input order; bad arguments are refused now, before anything is sent."""
    check_embeddings(args)
    _tqdm(options)
    window = 2 * options.concurrency
    return (part for _, part in _batches(settings, args, transport, convert, options, protocol, window))


# ---------------------------------------------------------------- async


async def adrive(flow: Flow, send: Callable[[HTTPCall], Awaitable[Reply]]) -> EmbeddedBatch:
    """Async twin of `drive`."""
    try:
        call = next(flow)
        while True:
            try:
                reply = await send(call)
            except APIStatusError as err:
                call = flow.throw(err)
            else:
                call = flow.send(reply)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def _ain_order(
    fn: Callable[[range], Awaitable[R]], spans: Sequence[range], limit: int, window: int
) -> AsyncIterator[R]:
    """Async twin of `_in_order`: tasks, at most `limit` running (a semaphore) and `window` created."""
    gate = asyncio.Semaphore(limit)

    async def one(span: range) -> R:
        async with gate:
            return await fn(span)

    todo = iter(spans)
    pending: deque[asyncio.Task[R]] = deque(asyncio.ensure_future(one(span)) for span in islice(todo, window))
    try:
        while pending:
            result = await pending.popleft()
            pending.extend(asyncio.ensure_future(one(span)) for span in islice(todo, 1))
            yield result
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def _abatches(
    settings: Settings,
    args: Mapping[str, Any],
    transport: AsyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    protocol: ServerProtocol,
    window: int | None,
) -> AsyncIterator[tuple[EmbeddedBatch, T]]:
    bar_class = _tqdm(options)
    info = _info_call(settings, protocol)
    if info is not None:
        try:
            _learn_info(settings, await transport.send(info))
        except _INFO_MISSES:
            _learn_info(settings, None)
    plan, limit = _plan(settings, args, options, protocol)

    async def one(span: range) -> tuple[EmbeddedBatch, T]:
        batch = await adrive(batch_flow(plan, span, limit), transport.send)
        return batch, convert(plan.partial(batch))

    bar = bar_class(total=len(plan.inputs), unit="text", desc="embeddings") if bar_class else None
    try:
        async for batch, part in _ain_order(one, plan.batches, options.concurrency, window or len(plan.batches)):
            if bar is not None:
                bar.update(len(batch.span))
            yield batch, part
    finally:
        _learn_refusal(settings, limit)
        if bar is not None:
            bar.close()


async def aembed_inputs(
    settings: Settings,
    args: Mapping[str, Any],
    transport: AsyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    protocol: ServerProtocol = "auto",
) -> T:
    """Async twin of `embed_inputs`."""
    check_embeddings(args)
    done = [pair async for pair in _abatches(settings, args, transport, convert, options, protocol, None)]
    data = [item for _, part in done for item in _items(part)]
    return convert(merge_batches([batch for batch, _ in done], data, args["input"]))


def aiter_embeddings(
    settings: Settings,
    args: Mapping[str, Any],
    transport: Callable[[], AsyncTransport],
    convert: Convert[T],
    options: EmbeddingOptions,
    protocol: ServerProtocol = "auto",
) -> AsyncIterator[T]:
    """Async twin of `iter_embeddings` (use `async for`); bad arguments are refused at the call.

    `transport` makes the transport once iteration starts (a pooled one belongs to the running event loop).
    """
    check_embeddings(args)
    _tqdm(options)
    return _aparts(settings, args, transport, convert, options, protocol)


async def _aparts(
    settings: Settings,
    args: Mapping[str, Any],
    transport: Callable[[], AsyncTransport],
    convert: Convert[T],
    options: EmbeddingOptions,
    protocol: ServerProtocol,
) -> AsyncIterator[T]:
    batches = _abatches(settings, args, transport(), convert, options, protocol, 2 * options.concurrency)
    try:
        async for _, part in batches:
            yield part
    finally:
        await batches.aclose()  # type: ignore[attr-defined]

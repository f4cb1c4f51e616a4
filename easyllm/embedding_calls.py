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

from easyllm import probing
from easyllm.dialects import Dialect, EmbedCall, check_model
from easyllm.errors import APIStatusError, InvalidParameterError
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
from easyllm.protocol.extras import NO_EXTRAS
from easyllm.protocol.generation import HTTPCall, Reply
from easyllm.protocol.requests import check_embeddings
from easyllm.settings import Settings
from easyllm.transport import AsyncTransport, SyncTransport

__all__ = [
    "aembed_inputs",
    "aiter_embeddings",
    "aprepared",
    "embed_inputs",
    "forget_batch_sizes",
    "iter_embeddings",
    "prepared",
]

T = TypeVar("T")
R = TypeVar("R")
B = TypeVar("B")
Convert = Callable[[dict[str, Any]], T]
Flow = Generator[HTTPCall, Reply, B]

# Batch limits per base URL: `/info`'s (None when the server has none) or a smaller one a refusal taught us.
_batch_sizes: dict[str, int | None] = {}
# Base URLs whose OpenAI-compatible `/embeddings` answered a base64 request with floats or refused it.
_floats_only: set[str] = set()


def forget_batch_sizes() -> None:
    """Forget every server's batch limit and vector encoding; `/info` is asked again."""
    _batch_sizes.clear()
    _floats_only.clear()


def _batch_size(settings: Settings, options: EmbeddingOptions) -> int:
    """The caller's batch size under the server's limit; TEI's default when neither is known."""
    known = [size for size in (_batch_sizes.get(settings.api_base), options.batch_size) if size is not None]
    return min(known) if known else DEFAULT_BATCH_SIZE


def _check(settings: Settings, args: Mapping[str, Any], engine: str) -> None:
    """Refuse bad arguments, the model included, before anything is sent (the server's `/info` included)."""
    check_embeddings(args)
    check_model(settings, engine, args.get("model"))


def _learn_info(settings: Settings, info: object) -> None:
    _batch_sizes.setdefault(settings.api_base, max_batch_size_from_info(info))


def _learn_refusal(settings: Settings, limit: BatchLimit) -> None:
    if limit.floats_only:
        _floats_only.add(settings.api_base)
    if limit.learned is not None:
        known = _batch_sizes.get(settings.api_base)
        _batch_sizes[settings.api_base] = limit.learned if known is None else min(known, limit.learned)


def _plan(
    settings: Settings, args: Mapping[str, Any], options: EmbeddingOptions, engine: str, dialect: Dialect
) -> tuple[EmbeddingPlan, BatchLimit]:
    size = _batch_size(settings, options)
    call = EmbedCall(
        settings,
        args["input"],
        args["model"],
        args["normalize"],
        args["encoding_format"],
        args["dimensions"],
        size,
        engine,
        args.get("extras", NO_EXTRAS),
        settings.api_base in _floats_only,
    )
    plan = dialect.embeddings(call)
    return plan, BatchLimit(size, plan.wire_format)


def prepared(
    settings: Settings, args: Mapping[str, Any], options: EmbeddingOptions, engine: str, transport: SyncTransport
) -> tuple[EmbeddingPlan, BatchLimit]:
    """Plan the call (refusing bad arguments before any I/O); probe the server first where its kind matters."""
    planned = _plan(settings, args, options, engine, probing.current(settings, engine))
    if not probing.pending(settings, engine, "embeddings"):
        return planned
    dialect = probing.dialect(settings, engine, "embeddings", transport)
    _learn_info(settings, probing.info(settings, dialect))
    return _plan(settings, args, options, engine, dialect)


async def aprepared(
    settings: Settings, args: Mapping[str, Any], options: EmbeddingOptions, engine: str, transport: AsyncTransport
) -> tuple[EmbeddingPlan, BatchLimit]:
    """Async twin of `prepared`."""
    planned = _plan(settings, args, options, engine, probing.current(settings, engine))
    if not probing.pending(settings, engine, "embeddings"):
        return planned
    dialect = await probing.adialect(settings, engine, "embeddings", transport)
    _learn_info(settings, probing.info(settings, dialect))
    return _plan(settings, args, options, engine, dialect)


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


def drive(flow: Flow[B], send: Callable[[HTTPCall], Reply]) -> B:
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
    engine: str,
    window: int | None,
) -> Iterator[tuple[EmbeddedBatch, T]]:
    bar_class = _tqdm(options)
    plan, limit = prepared(settings, args, options, engine, transport)

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
    engine: str = "auto",
) -> T:
    """Embed every input: one response.

    `args`: `input`, `model`, `normalize`, `encoding_format`, `dimensions`, and optionally `extras`.
    """
    _check(settings, args, engine)
    done = list(_batches(settings, args, transport, convert, options, engine, None))
    data = [item for _, part in done for item in _items(part)]
    return convert(merge_batches([batch for batch, _ in done], data, args["input"]))


def iter_embeddings(
    settings: Settings,
    args: Mapping[str, Any],
    transport: SyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    engine: str = "auto",
) -> Iterator[T]:
    """One response per batch, in input order; bad arguments are refused now, before anything is sent."""
    _check(settings, args, engine)
    _tqdm(options)
    window = 2 * options.concurrency
    return (part for _, part in _batches(settings, args, transport, convert, options, engine, window))


# ---------------------------------------------------------------- async


async def adrive(flow: Flow[B], send: Callable[[HTTPCall], Awaitable[Reply]]) -> B:
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
    engine: str,
    window: int | None,
) -> AsyncIterator[tuple[EmbeddedBatch, T]]:
    bar_class = _tqdm(options)
    plan, limit = await aprepared(settings, args, options, engine, transport)

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
    engine: str = "auto",
) -> T:
    """Async twin of `embed_inputs`."""
    _check(settings, args, engine)
    done = [pair async for pair in _abatches(settings, args, transport, convert, options, engine, None)]
    data = [item for _, part in done for item in _items(part)]
    return convert(merge_batches([batch for batch, _ in done], data, args["input"]))


def aiter_embeddings(
    settings: Settings,
    args: Mapping[str, Any],
    transport: Callable[[], AsyncTransport],
    convert: Convert[T],
    options: EmbeddingOptions,
    engine: str = "auto",
) -> AsyncIterator[T]:
    """Async twin of `iter_embeddings` (use `async for`); bad arguments are refused at the call.

    `transport` makes the transport once iteration starts (a pooled one belongs to the running event loop).
    """
    _check(settings, args, engine)
    _tqdm(options)
    return _aparts(settings, args, transport, convert, options, engine)


async def _aparts(
    settings: Settings,
    args: Mapping[str, Any],
    transport: Callable[[], AsyncTransport],
    convert: Convert[T],
    options: EmbeddingOptions,
    engine: str,
) -> AsyncIterator[T]:
    batches = _abatches(settings, args, transport(), convert, options, engine, 2 * options.concurrency)
    try:
        async for _, part in batches:
            yield part
    finally:
        await batches.aclose()  # type: ignore[attr-defined]

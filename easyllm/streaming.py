"""`Stream` and `AsyncStream`: iterate typed chunks as they arrive; close to release the connections.

Both run the same pure pipeline (`SSEPipeline` over a stream state machine) and differ only in how they read.
A stream reads one response per sample: with `n > 1` every request is already open (the server generates the
samples concurrently) and the chunks come sample by sample, all of `index` 0, then all of `index` 1, and so on,
then one usage chunk for the whole call when asked (`easyllm.protocol.samples`). Breaking out of a loop,
`close()`, leaving a `with` block, an error, or garbage collection close every response.

Example:
    >>> from easyllm.clients import huggingface  # doctest: +SKIP
    >>> with huggingface.ChatCompletion.create(messages=msgs, stream=True) as stream:  # doctest: +SKIP
    ...     for chunk in stream:
    ...         print(chunk.choices[0].delta.get("content", ""), end="")
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar

import httpx

from easyllm.protocol.samples import Samples
from easyllm.protocol.sse import EventConsumer, SSEPipeline
from easyllm.transport import AsyncTransport, SyncTransport

__all__ = ["AsyncStream", "ChunkReader", "Stream"]

T = TypeVar("T")
Convert = Callable[[dict[str, Any]], T]
Part = tuple[httpx.Response, EventConsumer]
Done = list[Callable[[], None]]


def _iterate(
    responses: list[httpx.Response], pipes: list[SSEPipeline], samples: Samples, convert: Convert[T], done: Done
) -> Generator[T, None, None]:
    try:
        for response, pipe in zip(responses, pipes, strict=True):
            events, consume, consumer = pipe.events, pipe.consume, pipe.consumer
            with SyncTransport.chunks(response) as chunks:
                for chunk in chunks:
                    for data in events(chunk):
                        for item in consume(data):
                            yield convert(item)
                        if consumer.done:
                            break
                    if consumer.done:
                        break
                else:
                    for item in pipe.end():
                        yield convert(item)
        for item in samples.end():
            yield convert(item)
        for callback in done:
            callback()
    finally:
        for response in responses:
            response.close()


async def _aiterate(
    responses: list[httpx.Response], pipes: list[SSEPipeline], samples: Samples, convert: Convert[T], done: Done
) -> AsyncGenerator[T, None]:
    try:
        for response, pipe in zip(responses, pipes, strict=True):
            async with AsyncTransport.chunks(response) as chunks:
                async for chunk in chunks:
                    for data in pipe.events(chunk):
                        for item in pipe.consume(data):
                            yield convert(item)
                        if pipe.done:
                            break
                    if pipe.done:
                        break
                else:
                    for item in pipe.end():
                        yield convert(item)
        for item in samples.end():
            yield convert(item)
        for callback in done:
            callback()
    finally:
        for response in responses:
            await response.aclose()


def _replay(items: Iterable[dict[str, Any]], convert: Convert[T]) -> Generator[T, None, None]:
    for item in items:
        yield convert(item)


async def _areplay(items: Iterable[dict[str, Any]], convert: Convert[T]) -> AsyncGenerator[T, None]:
    for item in items:
        yield convert(item)


class ChunkReader(Generic[T]):
    """A chunk conversion that can also read a stream's events itself (`easyllm.typed_stream.ChatChunks`).

    Called on each item a consumer hands out; `consumer` may wrap the consumer of a one-sample stream so that it
    builds some chunks straight from the events (the conversion then passes those through).
    """

    def __call__(self, item: Any) -> T:
        """The chunk for one item a consumer handed out."""
        raise NotImplementedError

    def consumer(self, consumer: EventConsumer) -> EventConsumer:
        """The consumer to read a one-sample stream with (by default `consumer` itself)."""
        return consumer


def _pipelines(parts: Sequence[Part], convert: Convert[T]) -> tuple[list[httpx.Response], list[SSEPipeline], Samples]:
    """The responses, one SSE pipeline per sample, and the combiner over the samples (shared by both shells)."""
    if isinstance(convert, ChunkReader) and len(parts) == 1:
        parts = [(response, convert.consumer(consumer)) for response, consumer in parts]
    samples = Samples([consumer for _, consumer in parts])
    return [response for response, _ in parts], [SSEPipeline(c) for c in samples.consumers], samples


class Stream(Generic[T]):
    """A synchronous stream of chunks (an iterator and a context manager) over one response per sample.

    `response` is the first sample's response; `responses` has them all (none for a stream replayed from the
    cache, whose `response` is None).
    """

    response: httpx.Response | None

    def __init__(self, parts: Sequence[Part], convert: Convert[T]) -> None:
        self.responses, pipes, samples = _pipelines(parts, convert)
        self.response = self.responses[0]
        self._done: Done = []
        # The generator does not reference the Stream, so a loop that breaks out frees it (and closes the
        # responses) at once, without waiting for the garbage collector to break a cycle.
        self._iterator: Generator[T, None, None] = _iterate(self.responses, pipes, samples, convert, self._done)

    @classmethod
    def replay(cls, items: Iterable[dict[str, Any]], convert: Convert[T]) -> Stream[T]:
        """A stream over chunks already at hand (an answer from the cache): no connection behind it."""
        stream = cls.__new__(cls)
        stream.responses, stream.response, stream._done = [], None, []
        stream._iterator = _replay(items, convert)
        return stream

    def add_done_callback(self, callback: Callable[[], None]) -> None:
        """Call `callback()` once the last chunk has been handed out (not when the stream is closed early or fails)."""
        self._done.append(callback)

    def __iter__(self) -> Iterator[T]:
        # `for chunk in stream` drives the generator itself (no `__next__` frame per chunk); `next(stream)` works too.
        return self._iterator

    def __next__(self) -> T:
        return next(self._iterator)

    def close(self) -> None:
        """Stop the stream and release its connections."""
        self._iterator.close()
        for response in self.responses:
            response.close()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncStream(Generic[T]):
    """An asynchronous stream of chunks (an async iterator and an async context manager); see `Stream`."""

    response: httpx.Response | None

    def __init__(self, parts: Sequence[Part], convert: Convert[T]) -> None:
        self.responses, pipes, samples = _pipelines(parts, convert)
        self.response = self.responses[0]
        self._done: Done = []
        self._iterator: AsyncGenerator[T, None] = _aiterate(self.responses, pipes, samples, convert, self._done)

    @classmethod
    def replay(cls, items: Iterable[dict[str, Any]], convert: Convert[T]) -> AsyncStream[T]:
        """A stream over chunks already at hand (an answer from the cache): no connection behind it."""
        stream = cls.__new__(cls)
        stream.responses, stream.response, stream._done = [], None, []
        stream._iterator = _areplay(items, convert)
        return stream

    def add_done_callback(self, callback: Callable[[], None]) -> None:
        """Call `callback()` once the last chunk has been handed out (not when the stream is closed early or fails)."""
        self._done.append(callback)

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterator

    async def __anext__(self) -> T:
        return await self._iterator.__anext__()

    async def close(self) -> None:
        """Stop the stream and release its connections."""
        await self._iterator.aclose()
        for response in self.responses:
            await response.aclose()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

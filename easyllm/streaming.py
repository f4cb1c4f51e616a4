"""`Stream` and `AsyncStream`: iterate typed chunks as they arrive; close to release the connection.

Both run the same pure pipeline (`SSEPipeline` over a stream state machine) and differ only in how they read.
Breaking out of a loop, `close()`, leaving a `with` block, or garbage collection all close the response.

Example:
    >>> from easyllm.clients import huggingface  # doctest: +SKIP
    >>> with huggingface.ChatCompletion.create(messages=msgs, stream=True) as stream:  # doctest: +SKIP
    ...     for chunk in stream:
    ...         print(chunk.choices[0].delta.get("content", ""), end="")
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

import httpx

from easyllm.protocol.sse import EventConsumer, SSEPipeline
from easyllm.transport import AsyncTransport, SyncTransport

__all__ = ["AsyncStream", "Stream"]

T = TypeVar("T")
Convert = Callable[[dict[str, Any]], T]


class Stream(Generic[T]):
    """A synchronous stream of chunks (an iterator and a context manager)."""

    def __init__(self, response: httpx.Response, consumer: EventConsumer, convert: Convert[T]) -> None:
        self.response = response
        self._iterator = self._iterate(SSEPipeline(consumer), convert)

    def _iterate(self, pipe: SSEPipeline, convert: Convert[T]) -> Generator[T, None, None]:
        feed_line = pipe.feed_line
        with SyncTransport.lines(self.response) as lines:
            for line in lines:
                for item in feed_line(line):
                    yield convert(item)
                if pipe.done:
                    return
            for item in pipe.end():
                yield convert(item)

    def __iter__(self) -> Iterator[T]:
        # `for chunk in stream` drives the generator itself (no `__next__` frame per chunk); `next(stream)` works too.
        return self._iterator

    def __next__(self) -> T:
        return next(self._iterator)

    def close(self) -> None:
        """Stop the stream and release its connection."""
        self._iterator.close()
        self.response.close()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncStream(Generic[T]):
    """An asynchronous stream of chunks (an async iterator and an async context manager)."""

    def __init__(self, response: httpx.Response, consumer: EventConsumer, convert: Convert[T]) -> None:
        self.response = response
        self._iterator = self._iterate(SSEPipeline(consumer), convert)

    async def _iterate(self, pipe: SSEPipeline, convert: Convert[T]) -> AsyncGenerator[T, None]:
        async with AsyncTransport.lines(self.response) as lines:
            async for line in lines:
                for item in pipe.feed_line(line):
                    yield convert(item)
                if pipe.done:
                    return
            for item in pipe.end():
                yield convert(item)

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterator

    async def __anext__(self) -> T:
        return await self._iterator.__anext__()

    async def close(self) -> None:
        """Stop the stream and release its connection."""
        await self._iterator.aclose()
        await self.response.aclose()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

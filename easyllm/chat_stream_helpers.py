"""`client.chat.completions.stream`: openai's streaming helper, as thin sync and async shells over one chat stream.

The request is sent when the `with` block is entered (as the openai SDK sends it); the events come from
`easyllm.schema.chat_stream_state`, the same for both shells; leaving the block closes the connection.

Example:
    >>> with client.chat.completions.stream(messages=messages, response_format=City) as stream:  # doctest: +SKIP
    ...     for event in stream:
    ...         if event.type == "content.delta":
    ...             print(event.delta, end="")
    ...     city = stream.get_final_completion().choices[0].message.parsed
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from easyllm.schema.chat_stream_state import ChatStreamState
from easyllm.schema.types import ChatCompletionChunk, ParsedChatCompletion
from easyllm.streaming import AsyncStream, Stream

__all__ = [
    "AsyncChatCompletionStream",
    "AsyncChatCompletionStreamManager",
    "ChatCompletionStream",
    "ChatCompletionStreamManager",
]

T = TypeVar("T")


class ChatCompletionStream(Generic[T]):
    """The events of one chat stream (iterate it), and the whole answer once read (`get_final_completion`)."""

    def __init__(self, chunks: Stream[ChatCompletionChunk], state: ChatStreamState[T]) -> None:
        self._chunks = chunks
        self._state = state
        self.response = chunks.response
        self._events = self._iterate()

    def _iterate(self) -> Iterator[Any]:
        for chunk in self._chunks:
            yield from self._state.handle_chunk(chunk)

    def __iter__(self) -> Iterator[Any]:
        return self._events

    def __next__(self) -> Any:
        return next(self._events)

    def until_done(self) -> ChatCompletionStream[T]:
        """Read the stream to its end (its events are dropped)."""
        for _ in self._events:
            pass
        return self

    def get_final_completion(self) -> ParsedChatCompletion[T]:
        """Read the stream to its end; the whole answer, as `chat.completions.parse` returns it."""
        return self.until_done()._state.final_completion()

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[Any]:
        """The answer so far."""
        return self._state.snapshot()

    def close(self) -> None:
        """Stop the stream and release its connection."""
        self._chunks.close()

    def __enter__(self) -> ChatCompletionStream[T]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class ChatCompletionStreamManager(Generic[T]):
    """What `stream()` returns: enter it (`with`) to send the request and get the `ChatCompletionStream`."""

    def __init__(self, open_chunks: Callable[[], Stream[ChatCompletionChunk]], state: ChatStreamState[T]) -> None:
        self._open = open_chunks
        self._state = state
        self._stream: ChatCompletionStream[T] | None = None

    def __enter__(self) -> ChatCompletionStream[T]:
        self._stream = ChatCompletionStream(self._open(), self._state)
        return self._stream

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._stream is not None:
            self._stream.close()


class AsyncChatCompletionStream(Generic[T]):
    """Async `ChatCompletionStream` (`async for`)."""

    def __init__(self, chunks: AsyncStream[ChatCompletionChunk], state: ChatStreamState[T]) -> None:
        self._chunks = chunks
        self._state = state
        self.response = chunks.response
        self._events = self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        async for chunk in self._chunks:
            for event in self._state.handle_chunk(chunk):
                yield event

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._events

    async def __anext__(self) -> Any:
        return await self._events.__anext__()

    async def until_done(self) -> AsyncChatCompletionStream[T]:
        """Read the stream to its end (its events are dropped)."""
        async for _ in self._events:
            pass
        return self

    async def get_final_completion(self) -> ParsedChatCompletion[T]:
        """Read the stream to its end; the whole answer, as `chat.completions.parse` returns it."""
        return (await self.until_done())._state.final_completion()

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[Any]:
        """The answer so far."""
        return self._state.snapshot()

    async def close(self) -> None:
        """Stop the stream and release its connection."""
        await self._chunks.close()

    async def __aenter__(self) -> AsyncChatCompletionStream[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class AsyncChatCompletionStreamManager(Generic[T]):
    """What async `stream()` returns: enter it (`async with`) to send the request."""

    def __init__(
        self, open_chunks: Callable[[], Awaitable[AsyncStream[ChatCompletionChunk]]], state: ChatStreamState[T]
    ) -> None:
        self._open = open_chunks
        self._state = state
        self._stream: AsyncChatCompletionStream[T] | None = None

    async def __aenter__(self) -> AsyncChatCompletionStream[T]:
        self._stream = AsyncChatCompletionStream(await self._open(), self._state)
        return self._stream

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._stream is not None:
            await self._stream.close()

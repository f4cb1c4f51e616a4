"""openai's streaming helpers, `chat.completions.stream` and `responses.stream`: thin sync and async shells.

Each helper is entered with `with` (which sends the request, as the openai SDK does) and iterated for events; the
events come from a pure state, the same for both shells (`easyllm.schema.chat_stream_state`,
`easyllm.schema.response_stream_state`); leaving the block closes the connection.

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
from easyllm.schema.response_stream_state import ResponseStreamState
from easyllm.schema.responses import ParsedResponse
from easyllm.schema.types import ParsedChatCompletion
from easyllm.streaming import AsyncStream, Stream

__all__ = [
    "AsyncChatCompletionStream",
    "AsyncResponseStream",
    "AsyncStreamManager",
    "ChatCompletionStream",
    "ResponseStream",
    "StreamManager",
]

T = TypeVar("T")
S = TypeVar("S", bound="_Events")
A = TypeVar("A", bound="_AsyncEvents")


class _Events:
    """The events of one stream: each raw item handed to `handle`, its events handed out in turn."""

    def __init__(self, items: Stream[Any], handle: Callable[[Any], list[Any]]) -> None:
        self._items = items
        self.response = items.response
        self._events = (event for item in items for event in handle(item))

    def __iter__(self) -> Iterator[Any]:
        return self._events

    def __next__(self) -> Any:
        return next(self._events)

    def until_done(self: S) -> S:
        """Read the stream to its end (its events are dropped)."""
        for _ in self._events:
            pass
        return self

    def close(self) -> None:
        """Stop the stream and release its connection."""
        self._items.close()

    def __enter__(self: S) -> S:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class ChatCompletionStream(_Events, Generic[T]):
    """`chat.completions.stream`'s events, and the whole answer once read (`get_final_completion`)."""

    def __init__(self, chunks: Stream[Any], state: ChatStreamState[T]) -> None:
        super().__init__(chunks, state.handle_chunk)
        self._state = state

    def get_final_completion(self) -> ParsedChatCompletion[T]:
        """Read the stream to its end; the whole answer, as `chat.completions.parse` returns it."""
        return self.until_done()._state.final_completion()

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[Any]:
        """The answer so far."""
        return self._state.snapshot()


class ResponseStream(_Events, Generic[T]):
    """`responses.stream`'s events, and the completed response once read (`get_final_response`)."""

    def __init__(self, events: Stream[Any], state: ResponseStreamState[T]) -> None:
        super().__init__(events, state.handle_event)
        self._state = state

    def get_final_response(self) -> ParsedResponse[T]:
        """Read the stream to its end; the completed response, as `responses.parse` returns it."""
        return self.until_done()._state.final_response()


class StreamManager(Generic[S]):
    """What a `stream()` returns: entering it (`with`) sends the request and gives the stream of events."""

    def __init__(self, open_stream: Callable[[], S]) -> None:
        self._open = open_stream
        self._stream: S | None = None

    def __enter__(self) -> S:
        self._stream = self._open()
        return self._stream

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._stream is not None:
            self._stream.close()


class _AsyncEvents:
    """Async `_Events` (`async for`)."""

    def __init__(self, items: AsyncStream[Any], handle: Callable[[Any], list[Any]]) -> None:
        self._items = items
        self.response = items.response
        self._events = self._iterate(items, handle)

    @staticmethod
    async def _iterate(items: AsyncStream[Any], handle: Callable[[Any], list[Any]]) -> AsyncIterator[Any]:
        async for item in items:
            for event in handle(item):
                yield event

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._events

    async def __anext__(self) -> Any:
        return await self._events.__anext__()

    async def until_done(self: A) -> A:
        """Read the stream to its end (its events are dropped)."""
        async for _ in self._events:
            pass
        return self

    async def close(self) -> None:
        """Stop the stream and release its connection."""
        await self._items.close()

    async def __aenter__(self: A) -> A:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class AsyncChatCompletionStream(_AsyncEvents, Generic[T]):
    """Async `ChatCompletionStream`."""

    def __init__(self, chunks: AsyncStream[Any], state: ChatStreamState[T]) -> None:
        super().__init__(chunks, state.handle_chunk)
        self._state = state

    async def get_final_completion(self) -> ParsedChatCompletion[T]:
        """Read the stream to its end; the whole answer, as `chat.completions.parse` returns it."""
        return (await self.until_done())._state.final_completion()

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[Any]:
        """The answer so far."""
        return self._state.snapshot()


class AsyncResponseStream(_AsyncEvents, Generic[T]):
    """Async `ResponseStream`."""

    def __init__(self, events: AsyncStream[Any], state: ResponseStreamState[T]) -> None:
        super().__init__(events, state.handle_event)
        self._state = state

    async def get_final_response(self) -> ParsedResponse[T]:
        """Read the stream to its end; the completed response, as `responses.parse` returns it."""
        return (await self.until_done())._state.final_response()


class AsyncStreamManager(Generic[A]):
    """What an async `stream()` returns: entering it (`async with`) sends the request."""

    def __init__(self, open_stream: Callable[[], Awaitable[A]]) -> None:
        self._open = open_stream
        self._stream: A | None = None

    async def __aenter__(self) -> A:
        self._stream = await self._open()
        return self._stream

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._stream is not None:
            await self._stream.close()

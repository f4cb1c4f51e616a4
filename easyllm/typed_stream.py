"""The typed client's chat chunks: a plain text delta validated by pydantic-core straight from the event's JSON.

Most events of a chat stream are plain text deltas: one choice, some `content`, nothing else. For those the
state machine (`MessagesStream`) only passes the text through its stop trimmer, and the chunk it hands out is the
server's chunk with the stream's own header. Going through it costs a JSON decode, a dict chunk, and a pydantic
validation of that dict; pydantic-core validates the event's bytes into a `ChatCompletionChunk` for less than the
validation alone. So `TypedChatStream` asks pydantic-core first, gives the text to `MessagesStream.text`, and
hands out the server's chunk made exactly what `chat_chunk` would have built (the stream's header, its choice
index, no `role`, no extra fields, the same fields set). Any other event, text the stop trimmer holds back or
cuts, and every event once three in a row were not plain, go through `MessagesStream.feed` as before, so the
chunks are the same either way (a property test holds the two paths to each other).

Only the typed client's one-sample chat streams without add-ons read this way (`ChatChunks.consumer`); the
facade, samples (`n > 1`), the cache and the Responses translation take the general path.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from easyllm.protocol.messages_stream import PLAIN_DELTA, MessagesStream
from easyllm.protocol.sse import DONE, EventConsumer
from easyllm.schema.types import ChatCompletionChunk, ChunkChoice, chat_chunk
from easyllm.streaming import ChunkReader

__all__ = ["CHAT_CHUNKS", "ChatChunks", "TypedChatStream"]

#: After this many plain-looking events in a row that were not plain, the rest of the stream takes the general path.
_MISSES = 3
#: The fields `chat_chunk` sets from a text chunk of the state machine.
_CHUNK_FIELDS = frozenset({"id", "object", "created", "model", "system_fingerprint", "choices"})
_CHOICE_FIELDS = frozenset({"index", "delta", "logprobs", "finish_reason"})
_DELTA_FIELDS = frozenset({"content"})
_validate_json = ChatCompletionChunk.__pydantic_validator__.validate_json
_set = object.__setattr__


def _plain(data: bytes) -> ChatCompletionChunk | None:
    """The event as a chunk when it is a plain text delta, else None."""
    if data == DONE:
        return None
    try:
        chunk: ChatCompletionChunk = _validate_json(data)
    except ValidationError:
        return None
    extra = chunk.__pydantic_extra__
    if (extra and "error" in extra) or chunk.usage is not None or len(chunk.choices) != 1:
        return None
    choice = chunk.choices[0]
    delta = choice.delta
    if (
        choice.logprobs is not None
        or choice.finish_reason is not None
        or delta.__pydantic_extra__
        or not delta.__pydantic_fields_set__ <= PLAIN_DELTA
        or not delta.content
    ):
        return None
    return chunk


def _as_built(
    chunk: ChatCompletionChunk, choice: ChunkChoice, header: dict[str, Any], index: int
) -> ChatCompletionChunk:
    """`chunk` (and its one `choice`) made what `chat_chunk` builds from the state machine's text chunk."""
    chunk.__dict__.update(header)
    if chunk.__pydantic_fields_set__ != _CHUNK_FIELDS:
        _set(chunk, "__pydantic_fields_set__", set(_CHUNK_FIELDS))
    if chunk.__pydantic_extra__:
        _set(chunk, "__pydantic_extra__", {})
    if choice.index != index:
        choice.__dict__["index"] = index
    if choice.__pydantic_fields_set__ != _CHOICE_FIELDS:
        _set(choice, "__pydantic_fields_set__", set(_CHOICE_FIELDS))
    if choice.__pydantic_extra__:
        _set(choice, "__pydantic_extra__", {})
    delta = choice.delta
    if delta.__pydantic_fields_set__ != _DELTA_FIELDS:
        delta.__dict__["role"] = None
        _set(delta, "__pydantic_fields_set__", set(_DELTA_FIELDS))
    return chunk


class TypedChatStream:
    """An `EventConsumer` over a `MessagesStream`: plain text deltas read by pydantic-core, the rest by the stream.

    Hands out `ChatCompletionChunk`s for plain text deltas and the state machine's dict chunks for everything
    else (`ChatChunks` validates those).
    """

    __slots__ = ("_header", "_misses", "_ready", "_stream", "done")

    def __init__(self, stream: MessagesStream) -> None:
        self._stream = stream
        self._misses = 0
        self._header: dict[str, Any] = {}
        #: Whether the next event is tried as a plain text delta. A plain one leaves the stream's state as it
        #: was for this (`MessagesStream.takes_text`), so it is asked again only after anything else.
        self._ready = False
        #: True once the answer is complete (kept in step with the stream's after each event: read per token).
        self.done = stream.done

    def _step(self) -> None:
        stream = self._stream
        self.done = stream.done
        self._ready = self._misses < _MISSES and stream.takes_text
        if self._ready and stream.header is not None:
            self._header = stream.header

    def feed(self, data: bytes) -> list[Any]:
        """Take one event's data; return the chunks it produced."""
        stream = self._stream
        if self._ready:
            chunk = _plain(data)
            if chunk is not None:
                self._misses = 0
                choice = chunk.choices[0]
                instead = stream.text(choice.delta.content or "")
                if instead is None:
                    return [_as_built(chunk, choice, self._header, stream.index)]
                self._step()
                return instead
            self._misses += 1
        out = stream.feed(data)
        self._step()
        return out

    def finish(self) -> list[Any]:
        """The body ended: the stream's last chunks, or its error."""
        out = self._stream.finish()
        self._step()
        return out


class ChatChunks(ChunkReader[ChatCompletionChunk]):
    """The typed client's chat chunk conversion: dicts validated (`chat_chunk`), chunks already built passed on.

    Example:
        >>> CHAT_CHUNKS({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
        ...     "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]}).choices[0].delta.content
        'Hi'
    """

    def __call__(self, item: Any) -> ChatCompletionChunk:
        """The chunk for one item: validated when it is a dict."""
        return item if type(item) is ChatCompletionChunk else chat_chunk(item)

    def consumer(self, consumer: EventConsumer) -> EventConsumer:
        """A `MessagesStream` wrapped in a `TypedChatStream`; any other consumer as it is."""
        return TypedChatStream(consumer) if type(consumer) is MessagesStream else consumer


#: The conversion the typed client's chat streams use.
CHAT_CHUNKS = ChatChunks()

r"""Server-sent events: turn the bytes of a response body into event payloads.

The shells hand over the body's bytes as they arrive, split anywhere; this module frames them into lines and
events for both the sync and the async shell. It works on bytes (a stream event is framed, and its data decoded
from UTF-8, once), which costs less than httpx's text decoder and line splitter per event. It accepts `\n`,
`\r\n` and `\r` line ends, `data:` with or without the space (old TGI wrote `data:{`), ignores comments
(`:` keep-alives), other fields and a leading byte-order mark, and joins multi-line data with newlines, as the
SSE specification says. An event's data stays bytes (JSON decoders read bytes; `[DONE]` is compared as bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from easyllm.errors import APIResponseValidationError
from easyllm.protocol.json_decode import loads

if TYPE_CHECKING:
    import httpx

__all__ = ["DONE", "EventConsumer", "SSEDecoder", "SSEPipeline", "decode_event"]

_BOM = b"\xef\xbb\xbf"
#: The data of the event that ends an OpenAI-style stream.
DONE = b"[DONE]"


def _shown(data: bytes) -> str:
    """The start of an event's data, as text for an error message."""
    return data[:200].decode("utf-8", "replace")


class SSEDecoder:
    r"""Assemble body bytes into the data of events.

    Example:
        >>> decoder = SSEDecoder()
        >>> decoder.feed(b'data:{"a": 1}\n\n: keep-alive\n\ndata: [DO')
        [b'{"a": 1}']
        >>> decoder.feed(b"NE]\r\n\r\n")
        [b'[DONE]']
    """

    __slots__ = ("_data", "_started", "_tail")

    def __init__(self) -> None:
        self._data: list[bytes] = []
        #: an unfinished line in the pieces it came in (and a `\r` that may be the first half of `\r\n`); joined
        #: once, when its line ends, so a long line costs its length, not its length times its pieces
        self._tail: list[bytes] = []
        self._started = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """Take the next bytes of the body; return the data of every event they complete."""
        if (
            self._started  # the usual read: exactly one `data:` line and its blank line (one event per token)
            and not self._tail
            and not self._data
            and chunk[-2:] == b"\n\n"
            and chunk.startswith(b"data:")
            and chunk.count(b"\n") == 2
            and b"\r" not in chunk
        ):
            return [chunk[6:-2] if chunk[5:6] == b" " else chunk[5:-2]]
        tail = self._tail
        if tail:
            if self._started and b"\n" not in chunk and b"\r" not in chunk:
                tail.append(chunk)  # the line goes on (a large event arriving in many reads)
                return []
            tail.append(chunk)
            chunk = b"".join(tail)
            tail.clear()
        if not self._started:
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                tail.append(chunk)  # too short to tell yet
                return []
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
        if b"\r" in chunk:
            held = b"\r" if chunk.endswith(b"\r") else b""
            chunk = (chunk[:-1] if held else chunk).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        else:
            held = b""
        lines = chunk.split(b"\n")
        rest = lines.pop() + held
        if rest:
            tail.append(rest)
        out: list[bytes] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    out.append(b"\n".join(data))
                    data.clear()
            elif line.startswith(b"data:"):
                data.append(line[6:] if line[5:6] == b" " else line[5:])
        return out

    def flush(self) -> bytes | None:
        """End of body: return an event whose closing blank line never came, if any."""
        self._started = True
        tail = b"".join(self._tail)
        self._tail.clear()
        events = self.feed(tail.rstrip(b"\r") + b"\n\n") if tail else self.feed(b"\n")
        return events[0] if events else None


class EventConsumer(Protocol):
    """A stream state machine: event data in, items out (see `easyllm.protocol.generation.GenerationStream`)."""

    @property
    def done(self) -> bool:
        """True once the answer is complete (the shell stops reading then)."""
        ...

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Take one event's data (`DONE` for `[DONE]`); return the items it produced."""
        ...

    def finish(self) -> list[dict[str, Any]]:
        """The body ended; return final items or raise if it ended too early."""
        ...


class SSEPipeline:
    """Bytes in, items out: an `SSEDecoder` feeding an `EventConsumer`. Shared by both stream shells.

    Example:
        >>> pipe = SSEPipeline(consumer)  # doctest: +SKIP
        >>> for chunk in body:  # doctest: +SKIP
        ...     for data in pipe.events(chunk):
        ...         items = pipe.consume(data)
        ...         if pipe.done:
        ...             break
    """

    __slots__ = ("_decoder", "consume", "consumer", "events")

    def __init__(self, consumer: EventConsumer) -> None:
        self._decoder = SSEDecoder()
        self.consumer = consumer
        #: Take the next bytes of the body; return the data of the events they completed (give each to `consume`).
        #: The shells hand each event's items out before consuming the next event, so the chunks that came before
        #: an error event reach the caller before the error is raised.
        self.events: Callable[[bytes], list[bytes]] = self._decoder.feed
        #: Take one event's data; return the items it produced (`consumer.feed`, bound once: it runs per token).
        self.consume: Callable[[bytes], list[dict[str, Any]]] = consumer.feed

    @property
    def done(self) -> bool:
        """True once the consumer has seen the end of the answer; the shell stops reading then."""
        return self.consumer.done

    def end(self) -> list[dict[str, Any]]:
        """The body ended: flush a last unterminated event, then let the consumer check completeness."""
        data = self._decoder.flush()
        items = [] if data is None else self.consume(data)
        return items + self.consumer.finish()


def decode_event(data: bytes, request: httpx.Request) -> dict[str, Any]:
    """One event's JSON object; data that is not a JSON object raises `APIResponseValidationError`."""
    try:
        event = loads(data)
    except ValueError as err:
        try:  # bytes that are not UTF-8 read as U+FFFD, as httpx's text decoding of a stream gives them
            event = loads(data.decode("utf-8", "replace"))
        except ValueError:
            raise APIResponseValidationError(f"unreadable stream event: {_shown(data)!r}", request) from err
    if not isinstance(event, dict):
        raise APIResponseValidationError(f"unexpected stream event: {_shown(data)!r}", request)
    return event

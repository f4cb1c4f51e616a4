"""Server-sent events: turn the lines of a response body into event payloads.

Framing into lines is httpx's job (`Response.iter_lines()` / `aiter_lines()` share one incremental line
decoder); this module assembles those lines into events for both the sync and the async shell. It accepts
`data:` with or without the space (old TGI wrote `data:{`), ignores comments (`:` keep-alives) and other fields,
and joins multi-line data with newlines, as the SSE specification says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from easyllm.errors import APIResponseValidationError
from easyllm.protocol.json_decode import loads

if TYPE_CHECKING:
    import httpx

__all__ = ["EventConsumer", "SSEDecoder", "SSEPipeline", "decode_event"]


class SSEDecoder:
    """Assemble SSE lines into event data strings.

    Example:
        >>> decoder = SSEDecoder()
        >>> [decoder.feed_line(line) for line in ['data:{"a": 1}', "", ": keep-alive", "data: [DONE]", ""]]
        [None, '{"a": 1}', None, None, '[DONE]']
    """

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed_line(self, line: str) -> str | None:
        """Take one line (without its line break); return an event's data when a blank line ends it."""
        if not line:
            if not self._data:
                return None
            data = "\n".join(self._data)
            self._data.clear()
            return data
        if line.startswith("data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> str | None:
        """End of body: return an event whose closing blank line never came, if any."""
        return self.feed_line("")


class EventConsumer(Protocol):
    """A stream state machine: event data in, items out (see `easyllm.protocol.generation.GenerationStream`)."""

    @property
    def done(self) -> bool:
        """True once the answer is complete (the shell stops reading then)."""
        ...

    def feed(self, data: str) -> list[dict[str, Any]]:
        """Take one event's data; return the items it produced."""
        ...

    def finish(self) -> list[dict[str, Any]]:
        """The body ended; return final items or raise if it ended too early."""
        ...


class SSEPipeline:
    """Lines in, items out: an `SSEDecoder` feeding an `EventConsumer`. Shared by both stream shells."""

    __slots__ = ("_consumer", "_decoder")

    def __init__(self, consumer: EventConsumer) -> None:
        self._decoder = SSEDecoder()
        self._consumer = consumer

    @property
    def done(self) -> bool:
        """True once the consumer has seen the end of the answer; the shell stops reading then."""
        return self._consumer.done

    def feed_line(self, line: str) -> list[dict[str, Any]]:
        """Take one body line; return the items it completed."""
        data = self._decoder.feed_line(line)
        return [] if data is None else self._consumer.feed(data)

    def end(self) -> list[dict[str, Any]]:
        """The body ended: flush a last unterminated event, then let the consumer check completeness."""
        data = self._decoder.flush()
        items = [] if data is None else self._consumer.feed(data)
        return items + self._consumer.finish()


def decode_event(data: str, request: httpx.Request) -> dict[str, Any]:
    """One event's JSON object; data that is not a JSON object raises `APIResponseValidationError`."""
    try:
        event = loads(data)
    except ValueError as err:
        raise APIResponseValidationError(f"unreadable stream event: {data[:200]!r}", request) from err
    if not isinstance(event, dict):
        raise APIResponseValidationError(f"unexpected stream event: {data[:200]!r}", request)
    return event

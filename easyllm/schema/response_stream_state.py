"""The events of `responses.stream` (openai's Responses streaming helper), from Responses events; pure, both shells.

Every event is handed on as it came, but four: `response.output_text.delta` gains `snapshot` (the part's text so
far), `response.output_text.done` gains `parsed` (its text read into `text_format`, unless its message's `phase` is
not the final answer), `response.function_call_arguments.delta` gains `snapshot` (the call's arguments so far), and
`response.completed` carries a `ParsedResponse` (what `responses.parse` returns), which `final_response` returns.

Example:
    >>> state = ResponseStreamState(None, None)
    >>> delta = event({"type": "response.output_text.delta", "sequence_number": 1, "item_id": "m",
    ...                "output_index": 0, "content_index": 0, "delta": "Hi"})
    >>> state.handle_event(delta)[0].snapshot
    'Hi'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from easyllm.errors import APIResponseValidationError
from easyllm.schema.responses import (
    ArgumentsDeltaEvent,
    OutputItemEvent,
    OutputMessage,
    ParsedResponse,
    ResponseEvent,
    TextDeltaEvent,
    TextDoneEvent,
    event,
)
from easyllm.schema.structured import fields_of, final_answer_format, parse_response, read_json_into
from easyllm.schema.types import validate

__all__ = [
    "ParsedArgumentsDeltaEvent",
    "ParsedCompletedEvent",
    "ParsedTextDeltaEvent",
    "ParsedTextDoneEvent",
    "ResponseStreamState",
    "event",
]

T = TypeVar("T")


class ParsedTextDeltaEvent(TextDeltaEvent):
    """`response.output_text.delta` with `snapshot`, the part's text so far."""

    snapshot: str


class ParsedTextDoneEvent(TextDoneEvent, Generic[T]):
    """`response.output_text.done` with `parsed`, the text read into `text_format`."""

    parsed: T | None = None


class ParsedArgumentsDeltaEvent(ArgumentsDeltaEvent):
    """`response.function_call_arguments.delta` with `snapshot`, the call's arguments so far."""

    snapshot: str


class ParsedCompletedEvent(ResponseEvent, Generic[T]):
    """`response.completed` with the whole response read as `responses.parse` reads it."""

    response: ParsedResponse[T]


class ResponseStreamState(Generic[T]):
    """The text and arguments of one Responses stream so far, and the events each raw event becomes."""

    def __init__(self, text_format: object, tools: Sequence[Mapping[str, Any]] | None) -> None:
        self._format = text_format
        self._tools = list(tools or ())
        self._texts: dict[tuple[int, int], str] = {}
        self._arguments: dict[int, str] = {}
        #: each output message as announced (`response.output_item.added`), for its `phase`
        self._messages: dict[int, OutputMessage] = {}
        self._completed: ParsedResponse[T] | None = None

    def handle_event(self, raw: Any) -> list[Any]:
        """The event(s) to hand out for one raw event."""
        fields = fields_of(raw)
        if isinstance(raw, OutputItemEvent) and isinstance(raw.item, OutputMessage):
            self._messages[raw.output_index] = raw.item
        if isinstance(raw, TextDeltaEvent):
            key = (raw.output_index, raw.content_index)
            text = self._texts[key] = self._texts.get(key, "") + raw.delta
            return [validate(ParsedTextDeltaEvent, {**fields, "snapshot": text})]
        if isinstance(raw, TextDoneEvent):
            message = self._messages.get(raw.output_index)
            target = final_answer_format(self._format, message) if message is not None else None
            parsed = None if target is None else read_json_into(target, raw.text)
            return [validate(ParsedTextDoneEvent, {**fields, "parsed": parsed})]
        if isinstance(raw, ArgumentsDeltaEvent):
            arguments = self._arguments[raw.output_index] = self._arguments.get(raw.output_index, "") + raw.delta
            return [validate(ParsedArgumentsDeltaEvent, {**fields, "snapshot": arguments})]
        if isinstance(raw, ResponseEvent) and raw.type == "response.completed":
            self._completed = parse_response(raw.response, self._format, self._tools)
            return [validate(ParsedCompletedEvent, {**fields, "response": self._completed})]
        return [raw]

    def final_response(self) -> ParsedResponse[T]:
        """The completed response, read as `responses.parse` reads it.

        Raises:
            APIResponseValidationError: the stream ended without `response.completed` (failed or incomplete).
        """
        if self._completed is None:
            raise APIResponseValidationError("the stream ended without a `response.completed` event")
        return self._completed

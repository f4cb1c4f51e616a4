"""Reading an answer generated under a tool plan's schema back into OpenAI's message, or its stream deltas.

The call's id, type and name go out first, then the arguments' text as it comes; an answer in words streams as
decoded text (or, under a `response_format`, as its JSON text).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from easyllm.serve.tools.plan import ToolPlan

# The start of an answer under the schema: a call's name (a JSON string) up to its arguments, or `content`.
_HEAD = re.compile(r'\s*\{\s*"(?:name"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"arguments|(content))"\s*:')


@dataclass
class _Extent:
    """Where one JSON value starts and ends in a growing text (the grammar guarantees it is well formed)."""

    start: int | None = None
    end: int | None = None
    depth: int = 0
    in_string: bool = False
    escaped: bool = False
    pos: int = 0

    def scan(self, text: str) -> None:
        i = self.pos
        while self.end is None and i < len(text):
            c = text[i]
            i += 1
            if self.start is None:
                if not c.isspace():
                    self.start = i - 1
                    self.depth = 1 if c in "{[" else 0
                    self.in_string = c == '"'
                continue
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif c == "\\":
                    self.escaped = True
                elif c == '"':
                    self.in_string = False
                    if self.depth == 0:
                        self.end = i
                continue
            if self.depth == 0:  # a number or literal: ends where the wrapper's punctuation starts
                if c in ",}] \t\r\n":
                    self.end = i - 1
            elif c in "{[":
                self.depth += 1
            elif c in "}]":
                self.depth -= 1
                if self.depth == 0:
                    self.end = i
            elif c == '"':
                self.in_string = True
        self.pos = i


@dataclass
class AnswerReader:
    """Read an answer generated under `plan.schema()` into OpenAI's message or stream deltas.

    Feed the generated text as it comes (`feed` returns the deltas it completes); `message()` gives the whole
    answer. Text that is not yet a call's head stays held; if generation stops before the head is complete (a
    length limit), `finish()` hands the held text on as content, so nothing is lost.
    """

    plan: ToolPlan
    call_id: str
    _raw: str = ""
    _kind: Literal["head", "call", "words", "json", "raw"] = "head"
    _name: str | None = None
    _body: int = 0  # where the value starts in `_raw`
    _extent: _Extent = field(default_factory=_Extent)
    _sent: int = 0  # how much of the value has gone out (raw characters)
    _announced: bool = False
    _content: list[str] = field(default_factory=list)
    _arguments: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """A named call has no head: its value is the arguments."""
        if self.plan.mode == "named":
            self._kind, self._name = "call", self.plan.named

    @property
    def called(self) -> bool:
        """Whether the answer is a function call."""
        return self._kind == "call"

    @property
    def complete(self) -> bool:
        """Whether the answer's value has ended (a cut-off call is not complete)."""
        return self._extent.end is not None

    def feed(self, text: str) -> list[dict[str, Any]]:
        """Take more generated text.

        Args:
            text: The next piece.

        Returns:
            Chat deltas (`{"content": ...}` or `{"tool_calls": [...]}`, without `role`), possibly none.
        """
        self._raw += text
        if self._kind == "head":
            head = _HEAD.match(self._raw)
            if head is None:
                return []
            self._body = head.end()
            if head.group(2):
                self._kind = "words" if self.plan.content_schema is None else "json"
            else:
                self._kind, self._name = "call", json.loads(head.group(1))
        if self._kind == "raw":
            return self._words(text)
        return self._value()

    def finish(self) -> list[dict[str, Any]]:
        """End the answer: text still held because no head was complete goes out as content.

        Returns:
            The last deltas.
        """
        if self._kind != "head":
            return []
        self._kind = "raw"
        return self._words(self._raw)

    def message(self) -> tuple[str | None, list[dict[str, Any]] | None]:
        """The whole answer, once fed: `(content, tool_calls)`.

        Returns:
            The content (None for a call) and the calls (None for an answer in words).
        """
        self.finish()
        if self.called:
            function = {"name": self._name, "arguments": "".join(self._arguments)}
            return None, [{"id": self.call_id, "type": "function", "function": function}]
        return "".join(self._content), None

    def _value(self) -> list[dict[str, Any]]:
        value = self._raw[self._body :]
        extent = self._extent
        extent.scan(value)
        if extent.start is None:
            return self._announce("") if self.called else []
        end = extent.end if extent.end is not None else len(value)
        if self._kind == "words":
            return self._words(self._decoded(value, extent.start + 1, end))
        piece, self._sent = value[max(self._sent, extent.start) : end], end
        if self.called:
            return self._announce(piece)
        return self._words(piece)

    def _decoded(self, value: str, start: int, end: int) -> str:
        """The string's characters from `_sent` that can be decoded already (an escape cut in two waits)."""
        if self.complete:
            end -= 1  # the closing quote
        else:
            end = _decodable(value, max(self._sent, start), end)
        begin, self._sent = max(self._sent, start), end
        return json.loads(f'"{value[begin:end]}"', strict=False) if end > begin else ""

    def _words(self, text: str) -> list[dict[str, Any]]:
        if not text:
            return []
        self._content.append(text)
        return [{"content": text}]

    def _announce(self, arguments: str) -> list[dict[str, Any]]:
        if self._announced and not arguments:
            return []
        self._arguments.append(arguments)
        call: dict[str, Any] = {"index": 0, "function": {"arguments": arguments}}
        if not self._announced:
            self._announced = True
            call = {"index": 0, "id": self.call_id, "type": "function",
                    "function": {"name": self._name, "arguments": arguments}}  # fmt: skip
        return [{"tool_calls": [call]}]


def _decodable(value: str, start: int, end: int) -> int:
    """The end of the longest run of `value[start:end]` (a JSON string's inside) with no escape cut short."""
    i = start
    while i < end:
        if value[i] != "\\":
            i += 1
            continue
        size = 6 if value[i + 1 : i + 2] == "u" else 2
        if value[i + 1 : i + 2] == "u" and 0xD8 <= _hex_byte(value[i + 2 : i + 4]) <= 0xDB:
            size = 12  # a high surrogate decodes only with its low half
        if i + size > end:
            return i
        i += size
    return end


def _hex_byte(text: str) -> int:
    try:
        return int(text, 16) if len(text) == 2 else -1
    except ValueError:
        return -1

"""Function calling on the local server: offering the tools, holding the answer to a call, reading it back.

A request with `tools` and a `tool_choice` other than `"none"` is answered under a JSON schema (the llama.cpp
engine's grammar mask), so that the answer is always a well-formed call:

- `"required"`: `{"name": <one of the tools>, "arguments": <that tool's parameters>}`;
- a named function (`{"type": "function", "function": {"name": ...}}`): that function's arguments alone;
- `"auto"` (the default when tools are given): one of those calls, or `{"content": <the answer>}` so the model
  may answer in words instead (the answer is a string, or a value of the `response_format` schema when one is
  asked).

`AnswerReader` turns the generated JSON back into OpenAI's shapes: a message with `tool_calls` (or `content`),
whole or as stream deltas (the call's id, type and name first, then the arguments' text as it comes; an answer
in words streams as decoded text). One call per answer (`parallel_tool_calls` is accepted; the model makes one).

The model learns of the tools from its chat template when the template takes `tools`; otherwise from a system
message of ours, and a conversation's past calls and results are shown to such a template in words, as the
assistant's and the user's messages (`prompt_messages`): shown as JSON, a small model copies the past call instead of
reading its result.

Example:
    >>> weather = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}
    >>> plan = plan_tools([weather], "required")
    >>> reader = AnswerReader(plan, call_id="call_1")
    >>> reader.feed('{"name": "weather", "arguments": {"city"')
    [{'tool_calls': [{'index': 0, 'id': 'call_1', 'type': 'function', 'function': {'name': 'weather', \
'arguments': '{"city"'}}]}]
    >>> reader.feed(': "Paris"}}')
    [{'tool_calls': [{'index': 0, 'function': {'arguments': ': "Paris"}'}}]}]
    >>> reader.message()
    (None, [{'id': 'call_1', 'type': 'function', 'function': {'name': 'weather', 'arguments': '{"city": "Paris"}'}}])
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from easyllm.serve.params import RequestValidationError

Mode = Literal["none", "auto", "required", "named"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NO_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}
# The start of an answer under the schema: a call's name (a JSON string) up to its arguments, or `content`.
_HEAD = re.compile(r'\s*\{\s*"(?:name"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"arguments|(content))"\s*:')


@dataclass(frozen=True)
class ToolPlan:
    """What a request's `tools` and `tool_choice` ask of the answer.

    Attributes:
        mode: `none` (answer freely, tools not offered), `auto`, `required` or `named`.
        functions: The offered functions, `{"name", "description"?, "parameters"}` each.
        named: The function a named `tool_choice` forces.
        content_schema: In `auto` mode, the schema of an answer in words (None: a string; `{}`: any JSON object,
            as `json_object` asks).
    """

    mode: Mode = "none"
    functions: tuple[dict[str, Any], ...] = ()
    named: str | None = None
    content_schema: dict[str, Any] | None = None

    @property
    def active(self) -> bool:
        """Whether the answer is held to the call schema."""
        return self.mode != "none"

    def schema(self) -> dict[str, Any]:
        """The JSON schema the answer must follow (only when `active`).

        `$defs` of the functions' parameters (pydantic models with nested models have them) are moved to the
        root under a per-function prefix, with their `$ref`s rewritten, so that each reference still resolves.
        """
        defs: dict[str, Any] = {}
        if self.mode == "named":
            schema = _hoisted(self._parameters(self.named), "", defs)
        else:
            options = [
                _object({"name": {"const": f["name"]}, "arguments": _hoisted(f["parameters"], f"f{i}_", defs)})
                for i, f in enumerate(self.functions)
            ]
            if self.mode == "auto":
                content = {"type": "string"} if self.content_schema is None else self.content_schema
                options.append(_object({"content": _hoisted(content or {"type": "object"}, "content_", defs)}))
            schema = options[0] if len(options) == 1 else {"anyOf": options}
        return {**schema, "$defs": {**schema.get("$defs", {}), **defs}} if defs else schema

    def instructions(self) -> str:
        """The system text that offers the tools to a template without tool support."""
        listing = json.dumps(list(self.functions), ensure_ascii=False)
        if self.mode == "named":
            ask = f"Answer with the arguments of a call to {self.named}, as a JSON object."
        else:
            ask = 'To call one, answer {"name": <its name>, "arguments": <an object>}.'
            if self.mode == "auto":
                ask += ' To answer in words, answer {"content": <your answer>}.'
        return f"Functions you can call:\n{listing}\n{ask}"

    def _parameters(self, name: str | None) -> dict[str, Any]:
        return next(f["parameters"] for f in self.functions if f["name"] == name)


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def _hoisted(schema: dict[str, Any], prefix: str, defs: dict[str, Any]) -> dict[str, Any]:
    """The schema without its `$defs` / `definitions`, which go into `defs` renamed `prefix + name`."""
    own = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    if not own:
        return schema
    renamed = {f"#/{where}/{name}": f"#/$defs/{prefix}{name}" for where in ("$defs", "definitions") for name in own}
    for name, sub in own.items():
        defs[f"{prefix}{name}"] = _rewrite(sub, renamed)
    body = {k: v for k, v in schema.items() if k not in ("$defs", "definitions")}
    return dict(_rewrite(body, renamed))


def _rewrite(value: Any, renamed: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: renamed.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite(v, renamed)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(v, renamed) for v in value]
    return value


def plan_tools(tools: Sequence[Any] | None, tool_choice: Any, content_schema: dict[str, Any] | None = None) -> ToolPlan:
    """Check `tools` and `tool_choice` and say what the answer must be.

    Args:
        tools: The request's `tools` (chat-completion form: `{"type": "function", "function": {...}}`).
        tool_choice: `"none"`, `"auto"`, `"required"`, `{"type": "function", "function": {"name": ...}}`, or None
            (`"auto"` with tools, `"none"` without).
        content_schema: The `response_format` schema, which an answer in words must follow in `auto` mode.

    Returns:
        The plan.

    Raises:
        RequestValidationError: A tool is not a function with a valid name and an object schema, two share a
            name, or `tool_choice` is not one of the forms above or names no given tool.
    """
    functions = tuple(_function(i, tool) for i, tool in enumerate(tools or ()))
    names = [f["name"] for f in functions]
    if len(set(names)) != len(names):
        raise RequestValidationError("`tools` has two functions with the same name")
    if tool_choice is None:
        tool_choice = "auto" if functions else "none"
    if tool_choice == "none":
        return ToolPlan("none", functions)
    if not functions:
        raise RequestValidationError("`tool_choice` needs `tools`")
    if tool_choice in ("auto", "required"):
        return ToolPlan(tool_choice, functions, content_schema=content_schema if tool_choice == "auto" else None)
    chosen = tool_choice.get("function") if isinstance(tool_choice, Mapping) else None
    name = chosen.get("name") if isinstance(chosen, Mapping) else None
    if not isinstance(tool_choice, Mapping) or tool_choice.get("type") != "function" or not isinstance(name, str):
        raise RequestValidationError(
            '`tool_choice` must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}'
        )
    if name not in names:
        raise RequestValidationError(f"`tool_choice` names {name!r}, which is not in `tools`")
    return ToolPlan("named", functions, named=name)


def _function(index: int, tool: Any) -> dict[str, Any]:
    where = f"`tools[{index}]`"
    spec = tool.get("function") if isinstance(tool, Mapping) else None
    if not isinstance(tool, Mapping) or tool.get("type") != "function" or not isinstance(spec, Mapping):
        raise RequestValidationError(f'{where} must be {{"type": "function", "function": {{"name": ...}}}}')
    name = spec.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise RequestValidationError(f"{where}.function.name must be 1 to 64 letters, digits, '_' or '-'")
    parameters = spec.get("parameters") or _NO_PARAMETERS
    if not isinstance(parameters, Mapping):
        raise RequestValidationError(f"{where}.function.parameters must be a JSON schema (an object)")
    out = {"name": name, "parameters": dict(parameters)}
    if spec.get("description"):
        out["description"] = str(spec["description"])
    return out


def prompt_messages(
    messages: Sequence[dict[str, Any]], plan: ToolPlan, template: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The messages (and extra template variables) that show a chat template the tools and past calls.

    A template that mentions `tools` gets them as its `tools` variable (as transformers passes them) and the past
    calls as they are, with their arguments read into objects. Any other template gets the offer as a system
    message (merged into the first one when there is one), each past call said in words by the assistant
    (`I will call f({"a": 1}).`), and the results of consecutive calls as one user message (`f returned: ...`).

    Args:
        messages: The request's messages, flattened to text (`message_dict`).
        plan: The tool plan.
        template: The chat template's source.

    Returns:
        The messages and the template variables to render with.
    """
    if "tools" in template:
        extra = {"tools": [{"type": "function", "function": f} for f in plan.functions]} if plan.active else {}
        return [_with_call_objects(m) for m in messages], extra
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for message in messages:
        calls = message.get("tool_calls") or []
        if message.get("role") == "assistant" and calls:
            for call in calls:
                names[str(call.get("id"))] = str(call.get("function", {}).get("name"))
            text = "\n".join(_call_words(call) for call in calls)
            out.append({"role": "assistant", "content": "\n".join(t for t in (message.get("content"), text) if t)})
        elif message.get("role") == "tool":
            name = names.get(str(message.get("tool_call_id")), "the function")
            result = f"{name} returned: {message.get('content', '')}"
            if out and out[-1].get("role") == "user" and out[-1].get("_results"):
                out[-1]["content"] += "\n" + result
            else:
                out.append({"role": "user", "content": result, "_results": True})
        else:
            out.append(message)
    out = [{k: v for k, v in m.items() if k != "_results"} for m in out]
    if plan.active:
        if out and out[0].get("role") == "system":
            out[0] = {**out[0], "content": f"{out[0].get('content', '')}\n\n{plan.instructions()}"}
        else:
            out.insert(0, {"role": "system", "content": plan.instructions()})
    return out, {}


def _call_words(call: Mapping[str, Any]) -> str:
    function = call.get("function") or {}
    arguments = json.dumps(_arguments(function.get("arguments")), ensure_ascii=False)
    return f"I will call {function.get('name')}({arguments})."


def _arguments(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _with_call_objects(message: dict[str, Any]) -> dict[str, Any]:
    calls = message.get("tool_calls")
    if not calls:
        return message
    read = [
        {**c, "function": {**c.get("function", {}), "arguments": _arguments(c.get("function", {}).get("arguments"))}}
        for c in calls
    ]
    return {**message, "tool_calls": read}


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

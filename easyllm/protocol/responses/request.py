"""A Responses call's arguments: checked once, before anything is sent, for both ways of serving it.

`check_request` refuses what no server can take (a `conversation` object, malformed `input` or `tools`) and
returns a `ResponsesRequest`: the body to send to a server's own `/responses`, and the parts the translation onto
chat completions reads. `refuse_untranslatable` refuses what only a server with the Responses API can do (hosted
tools such as web search, file search, MCP, computer use; `background`; stored prompts; item references) before a
translated call is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from easyllm.errors import InvalidParameterError
from easyllm.protocol.extras import NO_EXTRAS, Extras

__all__ = [
    "FUNCTION_TOOL",
    "ResponsesRequest",
    "check_request",
    "refuse_untranslatable",
]

FUNCTION_TOOL = "function"

#: Arguments of `responses.create` that are sent as they are to a server with the Responses API.
BODY_FIELDS = frozenset(
    {
        "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "text", "reasoning",
        "max_output_tokens", "temperature", "top_p", "top_logprobs", "metadata", "previous_response_id", "store",
        "include", "truncation", "user", "service_tier", "background", "prompt", "max_tool_calls",
        "safety_identifier", "prompt_cache_key", "stream_options",
    }
)  # fmt: skip

#: `include` values the translation can honour (the reasoning is always returned; there is no encrypted form).
_TRANSLATED_INCLUDES = frozenset({"message.output_text.logprobs", "reasoning.encrypted_content"})
_ROLES = frozenset({"user", "assistant", "system", "developer"})
_ITEM_TYPES = frozenset({"message", "function_call", "function_call_output", "reasoning"})


@dataclass(frozen=True)
class ResponsesRequest:
    """A checked Responses call.

    Attributes:
        body: the JSON body for a server's own `/responses` (without `stream` and the extras).
        input: the input as a list of items (a string input becomes one user message item).
        options: the checked arguments by name (None values left out).
        stream: whether events are streamed.
        extras: `extra_body`, `extra_headers`, `extra_query`: merged into whichever request is sent (the
            server's `/responses`, or the chat completion a translated call becomes).
    """

    body: dict[str, Any]
    input: list[dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    extras: Extras = NO_EXTRAS

    def get(self, name: str, default: Any = None) -> Any:
        """One argument, or `default` when it was not given."""
        return self.options.get(name, default)

    @property
    def model(self) -> str | None:
        """The model id, when given."""
        model = self.options.get("model")
        return model if isinstance(model, str) else None


def _fail(message: str, param: str) -> InvalidParameterError:
    return InvalidParameterError(message, param=param)


def _check_content(content: object, where: str) -> None:
    if isinstance(content, str):
        return
    if isinstance(content, str | bytes | Mapping) or not isinstance(content, Sequence):
        raise _fail("must be a string or a list of content parts", where)
    for j, part in enumerate(content):
        if not isinstance(part, Mapping) or not isinstance(part.get("type"), str):
            raise _fail("must be a dict with a 'type'", f"{where}[{j}]")


def _as_item(raw: object, i: int) -> dict[str, Any]:
    where = f"input[{i}]"
    if not isinstance(raw, Mapping):
        raise _fail(f"must be a dict, got {type(raw).__name__}", where)
    item = dict(raw)
    kind = item.get("type")
    if kind is None and "role" in item:
        item["type"] = kind = "message"
    if not isinstance(kind, str):
        raise _fail("needs a 'type' (or a 'role' for a message)", where)
    if kind == "message":
        if item.get("role") not in _ROLES:
            raise _fail(f"must be one of {sorted(_ROLES)}, got {item.get('role')!r}", f"{where}.role")
        _check_content(item.get("content"), f"{where}.content")
    elif kind == "function_call":
        for name in ("call_id", "name", "arguments"):
            if not isinstance(item.get(name), str):
                raise _fail("must be a string", f"{where}.{name}")
    elif kind == "function_call_output":
        if not isinstance(item.get("call_id"), str):
            raise _fail("must be a string", f"{where}.call_id")
        _check_content(item.get("output"), f"{where}.output")
    return item


def _input_items(value: object) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if isinstance(value, bytes | Mapping) or not isinstance(value, Sequence):
        raise _fail("must be a string or a list of input items", "input")
    return [_as_item(raw, i) for i, raw in enumerate(value)]


def _check_tools(tools: object) -> None:
    if tools is None:
        return
    if isinstance(tools, str | bytes | Mapping) or not isinstance(tools, Sequence):
        raise _fail("must be a list of tools", "tools")
    for i, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or not isinstance(tool.get("type"), str):
            raise _fail("must be a dict with a 'type'", f"tools[{i}]")
        if tool["type"] == FUNCTION_TOOL and not isinstance(tool.get("name"), str):
            raise _fail("a function tool needs a 'name' (Responses tools are flat: no 'function' key)", f"tools[{i}]")


def _check_text(text: object) -> None:
    if text is None:
        return
    if not isinstance(text, Mapping):
        raise _fail("must be a dict like {'format': {'type': 'json_schema', ...}}", "text")
    fmt = text.get("format")
    if fmt is None:
        return
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise _fail(f"type must be 'text', 'json_object' or 'json_schema', got {kind!r}", "text.format")
    if kind == "json_schema" and (not isinstance(fmt.get("schema"), Mapping) or not isinstance(fmt.get("name"), str)):
        raise _fail("json_schema needs a 'name' and a 'schema' dict", "text.format")


def _check_numbers(options: Mapping[str, Any]) -> None:
    tokens = options.get("max_output_tokens")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1):
        raise _fail("must be a positive integer", "max_output_tokens")
    for name, low, high in (("temperature", 0.0, 2.0), ("top_p", 0.0, 1.0)):
        value = options.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise _fail(f"must be a number between {low:g} and {high:g}", name)
    metadata = options.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, Mapping) or not all(isinstance(v, str) for v in metadata.values())
    ):
        raise _fail("must be a dict of strings", "metadata")


def check_request(options: Mapping[str, Any], *, stream: bool = False) -> ResponsesRequest:
    """Check the arguments of `responses.create` (None values count as not given).

    Raises:
        InvalidParameterError: naming the first bad field; `conversation` objects are refused (no server easyllm
            reaches keeps conversations; use `previous_response_id`).
    """
    given = {k: v for k, v in options.items() if v is not None}
    extras = Extras.check(
        given.pop("extra_body", None), given.pop("extra_headers", None), given.pop("extra_query", None)
    )
    unknown = sorted(set(given) - BODY_FIELDS - {"conversation"})
    if unknown:
        raise _fail("is not a Responses parameter easyllm knows (send it in extra_body)", unknown[0])
    if "conversation" in given:
        raise _fail(
            "conversation objects are not supported (no server easyllm reaches keeps them); "
            "continue a conversation with previous_response_id",
            "conversation",
        )
    if "input" not in given:
        raise _fail("is required: a string or a list of input items", "input")
    items = _input_items(given["input"])
    if "instructions" in given and not isinstance(given["instructions"], str):
        raise _fail("must be a string", "instructions")
    _check_tools(given.get("tools"))
    _check_text(given.get("text"))
    _check_numbers(given)
    body = {k: v for k, v in given.items() if k in BODY_FIELDS}
    return ResponsesRequest(body=body, input=items, options=given, stream=stream, extras=extras)


def refuse_untranslatable(request: ResponsesRequest) -> None:
    """Refuse, before sending, what the translation onto chat completions cannot do.

    Raises:
        InvalidParameterError: hosted tools (web search, file search, MCP, computer use, code interpreter, …),
            a tool choice naming one, `background`, a stored `prompt`, `max_tool_calls`, item references, input
            parts other than text and images, and `include` values other than logprobs.
    """
    for i, tool in enumerate(request.get("tools") or ()):
        if tool.get("type") != FUNCTION_TOOL:
            raise _fail(
                f"hosted tool {tool.get('type')!r} needs a server with the Responses API; only function tools "
                "are translated onto chat completions",
                f"tools[{i}].type",
            )
    choice = request.get("tool_choice")
    if isinstance(choice, Mapping) and choice.get("type") != FUNCTION_TOOL:
        raise _fail(f"{choice.get('type')!r} needs a server with the Responses API", "tool_choice")
    for name in ("background", "prompt", "max_tool_calls"):
        if request.get(name) not in (None, False):
            raise _fail("needs a server with the Responses API", name)
    for value in request.get("include") or ():
        if value not in _TRANSLATED_INCLUDES:
            raise _fail(f"{value!r} needs a server with the Responses API", "include")
    for i, item in enumerate(request.input):
        if item["type"] not in _ITEM_TYPES:
            raise _fail(f"item type {item['type']!r} needs a server with the Responses API", f"input[{i}].type")

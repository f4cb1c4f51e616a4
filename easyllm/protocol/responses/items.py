"""Responses input items as chat messages, and the other Responses arguments as chat-completion options.

- `instructions` becomes a leading `system` message (TGI's and most models' templates know no `developer` role);
- a message item becomes a chat message; text parts are joined into one string, images become `image_url` parts;
- `function_call` items become the `tool_calls` of one assistant message (merged with the assistant message
  before them, as a chat completion returns them); that message's `content` is "" rather than null, since
  llama-cpp-python's server answers 500 to a null content;
- `function_call_output` items become `tool` messages; `reasoning` items are left out (chat templates take no
  earlier reasoning back);
- function tools become chat tools, `text.format` becomes `response_format`, `max_output_tokens` becomes
  `max_tokens`, `reasoning.effort` becomes `reasoning_effort`.

Example:
    >>> to_messages([{"type": "message", "role": "user", "content": "Hi"}], instructions="Be brief.")
    [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Hi'}]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from easyllm.errors import InvalidParameterError
from easyllm.protocol.responses.request import FUNCTION_TOOL, ResponsesRequest

__all__ = ["chat_options", "chat_tool", "to_messages"]

_TEXT_PARTS = frozenset({"input_text", "output_text", "text", "summary_text", "reasoning_text"})


def _part(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    kind = part.get("type")
    if kind in _TEXT_PARTS:
        return {"type": "text", "text": str(part.get("text") or "")}
    if kind == "refusal":
        return {"type": "text", "text": str(part.get("refusal") or "")}
    if kind == "input_image" and isinstance(part.get("image_url"), str):
        image: dict[str, Any] = {"url": part["image_url"]}
        if part.get("detail") in ("low", "high", "auto"):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    raise InvalidParameterError(
        f"content part {kind!r} needs a server with the Responses API (text and image URLs are translated)",
        param=where,
    )


def _content(content: object, where: str) -> str | list[dict[str, Any]]:
    """A chat message's content: one string when every part is text, else the parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, Sequence):
        return ""
    parts = [_part(p, f"{where}[{j}]") for j, p in enumerate(content)]
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _tool_call(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": item["call_id"],
        "type": "function",
        "function": {"name": item["name"], "arguments": item["arguments"]},
    }


def to_messages(items: Sequence[Mapping[str, Any]], *, instructions: str | None = None) -> list[dict[str, Any]]:
    """The chat messages for Responses input items (already checked by `check_request`).

    Example:
        >>> to_messages([
        ...     {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        ...     {"type": "function_call_output", "call_id": "c1", "output": "42"}])
        [{'role': 'assistant', 'content': '', 'tool_calls': [{'id': 'c1', 'type': 'function', \
'function': {'name': 'f', 'arguments': '{}'}}]}, {'role': 'tool', 'tool_call_id': 'c1', 'content': '42'}]
    """
    messages: list[dict[str, Any]] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    open_assistant: dict[str, Any] | None = None  # the assistant message later function calls join
    for i, item in enumerate(items):
        kind = item.get("type", "message")
        if kind == "message":
            message = {"role": item["role"], "content": _content(item.get("content"), f"input[{i}].content")}
            messages.append(message)
            open_assistant = message if item["role"] == "assistant" else None
        elif kind == "function_call":
            if open_assistant is None:
                open_assistant = {"role": "assistant", "content": ""}
                messages.append(open_assistant)
            open_assistant.setdefault("tool_calls", []).append(_tool_call(item))
        elif kind == "function_call_output":
            output = _content(item.get("output"), f"input[{i}].output")
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": output})
            open_assistant = None
        # reasoning items: chat templates take no earlier reasoning back
    return messages


def chat_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A Responses function tool (flat) as a chat tool (`{"type": "function", "function": {...}}`).

    Example:
        >>> chat_tool({"type": "function", "name": "f", "parameters": {"type": "object"}})
        {'type': 'function', 'function': {'name': 'f', 'parameters': {'type': 'object'}}}
    """
    function = {k: tool[k] for k in ("name", "description", "parameters", "strict") if tool.get(k) is not None}
    return {"type": FUNCTION_TOOL, "function": function}


def _tool_choice(choice: object) -> object:
    if isinstance(choice, Mapping):
        return {"type": FUNCTION_TOOL, "function": {"name": choice.get("name")}}
    return choice


def _response_format(fmt: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = fmt.get("type")
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        schema = {k: fmt[k] for k in ("name", "schema", "description", "strict") if fmt.get(k) is not None}
        return {"type": "json_schema", "json_schema": schema}
    return None


def chat_options(request: ResponsesRequest) -> dict[str, Any]:
    """The chat-completion options of a translated call (sampling, tools, structured output, reasoning effort).

    Example:
        >>> from easyllm.protocol.responses.request import check_request
        >>> chat_options(check_request({"input": "Hi", "max_output_tokens": 8, "temperature": 0}))
        {'max_tokens': 8, 'temperature': 0}
    """
    out: dict[str, Any] = {}
    if request.get("max_output_tokens") is not None:
        out["max_tokens"] = request.get("max_output_tokens")
    for name in ("temperature", "top_p", "user"):
        if request.get(name) is not None:
            out[name] = request.get(name)
    top = request.get("top_logprobs")
    if top or "message.output_text.logprobs" in (request.get("include") or ()):
        out["logprobs"] = True
        if top:
            out["top_logprobs"] = top
    tools = request.get("tools")
    if tools:
        out["tools"] = [chat_tool(t) for t in tools]
        if request.get("parallel_tool_calls") is not None:
            out["parallel_tool_calls"] = request.get("parallel_tool_calls")
    if request.get("tool_choice") is not None:
        out["tool_choice"] = _tool_choice(request.get("tool_choice"))
    fmt = (request.get("text") or {}).get("format")
    if isinstance(fmt, Mapping):
        response_format = _response_format(fmt)
        if response_format is not None:
            out["response_format"] = response_format
    effort = (request.get("reasoning") or {}).get("effort")
    if effort is not None:
        out["reasoning_effort"] = effort
    return out

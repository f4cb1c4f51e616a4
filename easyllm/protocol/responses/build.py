"""A chat completion as a Responses `Response`: output items, status, usage, and the request's settings echoed.

Output items come in the order OpenAI gives them: the reasoning (a `reasoning` item, when the server sent
`reasoning` or `reasoning_content`), the message (when there is text, or nothing else), then one `function_call`
item per tool call. `finish_reason="length"` makes the response `incomplete` (`max_output_tokens`), as does a
content filter; usage maps `prompt_tokens` / `completion_tokens` to `input_tokens` / `output_tokens` (and keeps
easyllm's `estimated` flag).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from easyllm.protocol.responses.request import ResponsesRequest

__all__ = [
    "build_response",
    "event_logprobs",
    "new_id",
    "output_items",
    "reasoning_of",
    "response_usage",
    "skeleton",
    "status_of",
    "text_logprobs",
]


def new_id(prefix: str) -> str:
    """A fresh id with OpenAI's prefix (`resp`, `msg`, `fc`, `rs`)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def skeleton(request: ResponsesRequest, *, response_id: str, created_at: float, model: str) -> dict[str, Any]:
    """The response before any output: the request's settings echoed, OpenAI's defaults where none was given."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": "in_progress",
        "error": None,
        "incomplete_details": None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "metadata": dict(request.get("metadata") or {}),
        "model": model,
        "output": [],
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": request.get("previous_response_id"),
        "reasoning": request.get("reasoning"),
        "temperature": request.get("temperature"),
        "text": request.get("text") or {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": list(request.get("tools") or []),
        "top_p": request.get("top_p"),
        "truncation": request.get("truncation", "disabled"),
        "usage": None,
        "user": request.get("user"),
    }


def response_usage(usage: object) -> dict[str, Any] | None:
    """Chat usage (`prompt_tokens`, `completion_tokens`) as Responses usage; None when there is none.

    Example:
        >>> response_usage({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7})["output_tokens"]
        2
    """
    if not isinstance(usage, Mapping):
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    out: dict[str, Any] = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": int(cached), "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": int(reasoning)},
        "total_tokens": int(usage.get("total_tokens") or prompt + completion),
    }
    if usage.get("estimated"):
        out["estimated"] = True
    return out


def status_of(finish_reason: object) -> tuple[str, dict[str, Any] | None]:
    """The response status and `incomplete_details` for a chat finish reason.

    Example:
        >>> status_of("length")
        ('incomplete', {'reason': 'max_output_tokens'})
    """
    if finish_reason == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if finish_reason == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


def _token_bytes(entry: Mapping[str, Any]) -> list[int]:
    raw = entry.get("bytes")
    return list(raw) if isinstance(raw, list) else list(str(entry.get("token", "")).encode("utf-8"))


def text_logprobs(logprobs: object) -> list[dict[str, Any]]:
    """Chat `logprobs.content` as an `output_text` part's `logprobs` (with `bytes`)."""
    content = logprobs.get("content") if isinstance(logprobs, Mapping) else None
    return [
        {
            "token": str(entry.get("token", "")),
            "bytes": _token_bytes(entry),
            "logprob": float(entry.get("logprob") or 0.0),
            "top_logprobs": [
                {"token": str(t.get("token", "")), "bytes": _token_bytes(t), "logprob": float(t.get("logprob") or 0.0)}
                for t in entry.get("top_logprobs") or ()
            ],
        }
        for entry in content or ()
    ]


def event_logprobs(logprobs: object) -> list[dict[str, Any]]:
    """Chat `logprobs.content` as a text event's `logprobs` (no `bytes` there)."""
    return [
        {
            "token": e["token"],
            "logprob": e["logprob"],
            "top_logprobs": [{"token": t["token"], "logprob": t["logprob"]} for t in e["top_logprobs"]],
        }
        for e in text_logprobs(logprobs)
    ]


def reasoning_of(message: Mapping[str, Any]) -> str:
    """A message's or delta's reasoning, whichever name the server used (`reasoning`, `reasoning_content`)."""
    for name in ("reasoning", "reasoning_content"):
        value = message.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def reasoning_item(item_id: str, text: str, status: str) -> dict[str, Any]:
    """A reasoning output item holding `text`."""
    content = [{"type": "reasoning_text", "text": text}]
    return {"type": "reasoning", "id": item_id, "summary": [], "content": content, "status": status}


def message_item(item_id: str, parts: list[dict[str, Any]], status: str) -> dict[str, Any]:
    """An assistant message output item."""
    return {"type": "message", "id": item_id, "role": "assistant", "status": status, "content": parts}


def text_part(text: str, logprobs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An `output_text` part."""
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs or []}


def function_call_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    """A `function_call` output item."""
    return {
        "type": "function_call", "id": item_id, "call_id": call_id, "name": name, "arguments": arguments,
        "status": status,
    }  # fmt: skip


def output_items(message: Mapping[str, Any], logprobs: object, item_status: str) -> list[dict[str, Any]]:
    """The output items of one chat message, in OpenAI's order (reasoning, message, function calls)."""
    items: list[dict[str, Any]] = []
    reasoning = reasoning_of(message)
    if reasoning:
        items.append(reasoning_item(new_id("rs"), reasoning, "completed"))
    content = message.get("content")
    calls: Sequence[Mapping[str, Any]] = message.get("tool_calls") or ()
    if content or not calls:
        text = content if isinstance(content, str) else ""
        items.append(message_item(new_id("msg"), [text_part(text, text_logprobs(logprobs))], item_status))
    for call in calls:
        function = call.get("function") or {}
        items.append(
            function_call_item(
                new_id("fc"), str(call.get("id") or new_id("call")), str(function.get("name") or ""),
                str(function.get("arguments") or ""), "completed",
            )
        )  # fmt: skip
    return items


def build_response(chat: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """The `Response` for a chat completion (easyllm's normalised one), over `base` from `skeleton`."""
    choice = chat["choices"][0]
    status, incomplete = status_of(choice.get("finish_reason"))
    item_status = "incomplete" if status == "incomplete" else "completed"
    model = chat.get("model") if isinstance(chat.get("model"), str) and chat.get("model") else base["model"]
    return {
        **base,
        "model": model,
        "status": status,
        "incomplete_details": incomplete,
        "output": output_items(choice.get("message") or {}, choice.get("logprobs"), item_status),
        "usage": response_usage(chat.get("usage")),
    }

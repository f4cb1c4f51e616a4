"""OpenAI-compatible chat/text servers (TGI's Messages API, vLLM, llama.cpp, `easyllm serve`'s `/v1`), as pure code.

The server applies the model's chat template; this module builds the payloads and normalises what such servers
get wrong (protocols.md §2, §0 traps 2, 8, 12):

- `finish_reason` `stop_sequence` / `eos_token` / `""` become OpenAI's words (`tool_calls` when tools were called);
- empty or missing `id`, `created`, `model` are replaced by easyllm's own;
- an `{"error": ...}` inside a 200 body or stream raises the matching exception (with the text so far);
- a 500 whose message reads like a validation error becomes `UnprocessableEntityError`;
- usage is asked for in streams (`stream_options.include_usage`) and estimated (and flagged) when absent;
- tool calls lose TGI's extra `description` and get string `arguments` and a non-empty `id`;
- stop strings are trimmed client-side too (TGI keeps them in the text and allows only four).

Two flavours: `messages` (TGI's Messages API: `model="tgi"`, TGI's `response_format` shape, no `top_p=1`, no
`logit_bias`) and `openai` (the request passes through as OpenAI wrote it).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from easyllm.errors import (
    APIResponseValidationError,
    APIStatusError,
    InvalidParameterError,
    UnprocessableEntityError,
    error_from_stream_event,
    server_message,
)
from easyllm.protocol.generation import GenerationPlan, HTTPCall, Kind, Reply, new_id, usage
from easyllm.protocol.inputs import ROLES
from easyllm.protocol.options import ChatOptions
from easyllm.protocol.params import MAX_SERVER_STOPS, is_greedy, seeds_for
from easyllm.protocol.stops import trim_stop

__all__ = [
    "MessagesPlan",
    "build_messages_completion",
    "check_chat_messages",
    "finish_reason",
    "lacks_messages_api",
    "plan_messages",
    "reclassify_error",
]

Flavour = Literal["messages", "openai"]

_FINISH = {
    "stop": "stop",
    "eos_token": "stop",
    "eos": "stop",
    "stop_sequence": "stop",
    "end_turn": "stop",
    "length": "length",
    "max_tokens": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


@dataclass(frozen=True)
class MessagesPlan:
    """Everything needed to send one call to an OpenAI-compatible route and shape its answer.

    `fallback` is set when the server may lack the Messages API (TGI without a prompt builder): on 404/405 the
    shells run the plan it returns (TGI's native route) and remember the answer under `probe_key`.
    """

    kind: Kind
    flavour: Flavour
    calls: tuple[HTTPCall, ...]
    model: str
    id: str
    created: int
    stops: tuple[str, ...]
    prompt: str
    options: ChatOptions
    stream: bool
    fallback: Callable[[], GenerationPlan] | None = None
    probe_key: str | None = None

    @property
    def object_name(self) -> str:
        """OpenAI's `object` of the full response."""
        return "chat.completion" if self.kind == "chat" else "text_completion"

    @property
    def include_usage(self) -> bool:
        """Whether the caller asked for a usage chunk at the end of a stream."""
        return bool((self.options.stream_options or {}).get("include_usage"))

    def consumer(self, request: httpx.Request, index: int = 0) -> Any:
        """The stream state machine for sample `index` of this plan."""
        from easyllm.protocol.messages_stream import MessagesStream  # a sibling module that imports this one

        return MessagesStream(self, request, index)

    def build(self, replies: Sequence[Reply]) -> dict[str, Any]:
        """The OpenAI response of a non-stream call, from one reply per sample."""
        return build_messages_completion(self, replies)


# ---------------------------------------------------------------- requests


def check_chat_messages(messages: object, flavour: Flavour) -> list[dict[str, Any]]:
    """Check chat messages and pass them on as written (images, tool calls and tool results included).

    `developer` becomes `system` for TGI, whose templates rarely know it.
    """
    if isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Sequence) or not messages:
        raise InvalidParameterError("must be a non-empty list of {'role', 'content'} dicts", param="messages")
    out = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise InvalidParameterError(f"must be a dict, got {type(message).__name__}", param=f"messages[{i}]")
        role = message.get("role")
        if role not in ROLES:
            raise InvalidParameterError(f"must be one of {sorted(ROLES)}, got {role!r}", param=f"messages[{i}].role")
        copy = dict(message)
        if role == "developer" and flavour == "messages":
            copy["role"] = "system"
        out.append(copy)
    return out


def prompt_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The text of the messages, for usage estimates when the server reports none."""
    parts = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return "\n".join(parts)


def _tgi_response_format(value: Mapping[str, Any]) -> dict[str, Any] | None:
    if value.get("type") == "json_schema":
        return {"type": "json_object", "value": value["json_schema"]["schema"]}
    if value.get("type") == "json_object":
        return {"type": "json_object", "value": {"type": "object"}}
    return None


def _sampling(options: ChatOptions, flavour: Flavour) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if options.max_tokens is not None:
        out["max_tokens"] = options.max_tokens
    if is_greedy(options):
        out["temperature"] = 0.0
    else:
        if options.temperature is not None:
            out["temperature"] = options.temperature
        if options.top_p is not None and (flavour == "openai" or options.top_p < 1):
            out["top_p"] = options.top_p
    for name in ("frequency_penalty", "presence_penalty", "top_k", "repetition_penalty"):
        value = getattr(options, name)
        if value is not None and (flavour == "openai" or name not in ("top_k", "repetition_penalty")):
            out[name] = value
    return out


def _extras(options: ChatOptions, flavour: Flavour, kind: Kind) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if kind == "chat":
        if options.logprobs or options.top_logprobs:
            out["logprobs"] = True
        if options.top_logprobs:
            out["top_logprobs"] = options.top_logprobs
    else:
        if options.logprobs is not None and not isinstance(options.logprobs, bool):
            out["logprobs"] = options.logprobs
        if options.echo:
            out["echo"] = True
    for name in ("tools", "tool_choice"):
        if getattr(options, name) is not None:
            out[name] = getattr(options, name)
    if options.response_format is not None:
        fmt = options.response_format if flavour == "openai" else _tgi_response_format(options.response_format)
        if fmt is not None:
            out["response_format"] = fmt
    if flavour == "openai":
        for name in ("logit_bias", "user", "parallel_tool_calls"):
            if getattr(options, name) is not None:
                out[name] = getattr(options, name)
    elif options.logit_bias:
        raise InvalidParameterError("is not supported by TGI's Messages API", param="logit_bias")
    return out


def _seeds(options: ChatOptions) -> list[int | None]:
    seeds = seeds_for(options)
    if options.n > 1 and options.seed is None and not is_greedy(options):
        return [random.randrange(2**32) for _ in seeds]  # distinct samples, as on the native route
    return seeds


def _payload(
    base: dict[str, Any], options: ChatOptions, flavour: Flavour, kind: Kind, stops: Sequence[str], stream: bool
) -> dict[str, Any]:
    payload = {**base, **_sampling(options, flavour), **_extras(options, flavour, kind)}
    if stops:
        payload["stop"] = list(stops if flavour == "openai" else stops[:MAX_SERVER_STOPS])
    if stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}  # always asked: usage is then exact when possible
    return payload


def plan_messages(
    kind: Kind,
    *,
    flavour: Flavour,
    body: dict[str, Any],
    prompt: str,
    options: ChatOptions,
    stops: tuple[str, ...],
    url: str,
    model: str,
    stream: bool,
    fallback: Callable[[], GenerationPlan] | None = None,
) -> MessagesPlan:
    """Plan the requests of one call: one per sample (`n`), each with its own seed, streamed or not.

    `body` holds `messages` (chat) or `prompt` (text), and `model` when one is sent.
    """
    calls = []
    for seed in _seeds(options):
        payload = _payload(body, options, flavour, kind, stops, stream)
        if seed is not None:
            payload["seed"] = seed
        calls.append(HTTPCall("POST", url, payload))
    probe_key = url if fallback is not None else None
    return MessagesPlan(
        kind, flavour, tuple(calls), model, new_id(kind), int(time.time()), stops, prompt, options, stream,
        fallback, probe_key,
    )  # fmt: skip


# ---------------------------------------------------------------- answers


def finish_reason(raw: object, *, kind: Kind, tools_called: bool = False) -> str | None:
    """OpenAI's finish reason for what a server sent; None for "not finished" (`null` or TGI's `""`).

    Example:
        >>> finish_reason("stop_sequence", kind="chat"), finish_reason("", kind="text")
        ('stop', None)
    """
    if raw is None or raw == "":
        return None
    reason = _FINISH.get(str(raw), "stop")
    if kind == "text" and reason == "tool_calls":
        return "stop"
    if tools_called and reason == "stop":
        return "tool_calls"
    return reason


def tool_calls(raw: object) -> list[dict[str, Any]] | None:
    """Tool calls in OpenAI's shape: string `arguments`, a non-empty `id`, no TGI `description`."""
    if not isinstance(raw, list) or not raw:
        return None
    out = []
    for i, call in enumerate(raw):
        function = dict(call.get("function") or {})
        function.pop("description", None)
        arguments = function.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            function["arguments"] = json.dumps(arguments)
        item: dict[str, Any] = {k: v for k, v in call.items() if k not in ("function",)}
        item["function"] = function
        if "index" not in item and "id" in item:  # a whole message's call, not a stream delta
            item["id"] = item["id"] or f"call_{i}"
            item["type"] = "function"
        out.append(item)
    return out


def _check_body(body: object, url: str) -> Mapping[str, Any]:
    if isinstance(body, Mapping) and "error" in body:
        raise error_from_stream_event(body, httpx.Request("POST", url))
    if not isinstance(body, Mapping) or not isinstance(body.get("choices"), list) or not body["choices"]:
        raise APIResponseValidationError(f"expected an OpenAI answer with `choices`, got {str(body)[:200]!r}")
    return body


def _chat_choice(plan: MessagesPlan, index: int, raw: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    message = raw.get("message") or {}
    content = message.get("content")
    text, stopped = trim_stop(content, plan.stops) if isinstance(content, str) else ("", False)
    calls = tool_calls(message.get("tool_calls"))
    reason = "stop" if stopped else finish_reason(raw.get("finish_reason"), kind="chat", tools_called=bool(calls))
    out_message: dict[str, Any] = {"role": "assistant", "content": text if content is not None else None}
    if calls:
        out_message["tool_calls"] = calls
    choice = {"index": index, "message": out_message, "logprobs": raw.get("logprobs"), "finish_reason": reason}
    choice["finish_reason"] = choice["finish_reason"] or "stop"
    return choice, text


def _text_choice(plan: MessagesPlan, index: int, raw: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    text, stopped = trim_stop(str(raw.get("text") or ""), plan.stops)
    reason = "stop" if stopped else finish_reason(raw.get("finish_reason"), kind="text") or "stop"
    return {"index": index, "text": text, "logprobs": raw.get("logprobs"), "finish_reason": reason}, text


def read_usage(raw: object) -> tuple[int | None, int | None]:
    """Prompt and completion token counts from a server's `usage`, where it gave them."""
    if not isinstance(raw, Mapping):
        return None, None
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    return (
        prompt if isinstance(prompt, int) else None,
        completion if isinstance(completion, int) else None,
    )


def _header(plan: MessagesPlan, body: Mapping[str, Any]) -> dict[str, Any]:
    server_id, created, model = body.get("id"), body.get("created"), body.get("model")
    return {
        "id": server_id if isinstance(server_id, str) and server_id else plan.id,
        "created": created if isinstance(created, int) and created > 0 else plan.created,
        "model": model if plan.flavour == "openai" and isinstance(model, str) and model else plan.model,
        "system_fingerprint": body.get("system_fingerprint"),
    }


def build_messages_completion(plan: MessagesPlan, replies: Sequence[Reply]) -> dict[str, Any]:
    """The OpenAI response for a non-stream call, from one reply per sample (each asked for `n=1`)."""
    bodies = [_check_body(r.body, plan.calls[0].url) for r in replies]
    make = _chat_choice if plan.kind == "chat" else _text_choice
    choices: list[dict[str, Any]] = []
    texts: list[str] = []
    for body in bodies:
        for raw in body["choices"]:
            choice, text = make(plan, len(choices), raw)
            choices.append(choice)
            texts.append(text)
    counts = [read_usage(b.get("usage")) for b in bodies]
    completions = [c for _, c in counts]
    completion = None if None in completions else sum(c for c in completions if c is not None)
    header = _header(plan, bodies[0])
    return {
        "id": header["id"],
        "object": plan.object_name,
        "created": header["created"],
        "model": header["model"],
        "system_fingerprint": header["system_fingerprint"],
        "choices": choices,
        "usage": usage(counts[0][0], completion, plan.prompt, "".join(texts)),
    }


# ---------------------------------------------------------------- errors

_VALIDATION_WORDS = re.compile(
    r"validation|invalid|must be|not supported|unsupported|exceed|too (?:long|many)|expected|missing", re.IGNORECASE
)


def lacks_messages_api(err: APIStatusError) -> bool:
    """Whether an error on the Messages API route means the server has no such route (TGI < 1.4, other servers)."""
    return err.status_code in (404, 405)


def reclassify_error(err: APIStatusError) -> APIStatusError:
    """Turn a 500 that reads like a validation error into `UnprocessableEntityError`.

    Some servers answer 500 for bad requests; any other error is returned as it is.
    """
    text = server_message(err.body) or ""
    if err.status_code != 500 or not _VALIDATION_WORDS.search(text):
        return err
    response = httpx.Response(422, request=err.response.request, json=err.body)
    message = f"Error code: 422 - {text} (the server answered 500; fix the request rather than retrying)"
    return UnprocessableEntityError(message, response=response, body=err.body)

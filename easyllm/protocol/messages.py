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

What differs between servers is a `ChatWire`, which each dialect (`easyllm.dialects`) sets: TGI's Messages API
wants `model="tgi"`, its own `response_format` shape, no `top_p=1`, no `logit_bias`; vLLM, SGLang and llama.cpp
take the request as OpenAI wrote it. Answers are normalised by `easyllm.protocol.openai_answers` (reasoning,
`<think>` blocks, tool calls, finish reasons).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from easyllm.errors import (
    APIResponseValidationError,
    APIStatusError,
    InvalidParameterError,
    UnprocessableEntityError,
    error_from_stream_event,
    server_message,
    with_location,
)
from easyllm.protocol.extras import Extras
from easyllm.protocol.generation import CompletionPlan, HTTPCall, Kind, Reply, new_id, usage
from easyllm.protocol.inputs import ROLES
from easyllm.protocol.messages_stream import MessagesStream
from easyllm.protocol.openai_answers import (
    answer_header,
    finish_reason,
    read_usage,
    reasoning_fields,
    server_reasoning,
    split_think,
    tool_calls,
)
from easyllm.protocol.options import ChatOptions
from easyllm.protocol.params import is_greedy, seeds_for
from easyllm.protocol.stops import trim_stop

__all__ = [
    "ChatWire",
    "MessagesPlan",
    "build_messages_completion",
    "check_chat_messages",
    "lacks_route",
    "plan_messages",
    "prompt_text",
    "reclassify_error",
]


def as_given(response_format: Mapping[str, Any]) -> dict[str, Any] | None:
    """OpenAI's `response_format`, sent as written (vLLM, SGLang, llama.cpp's server, generic servers)."""
    return dict(response_format)


@dataclass(frozen=True)
class ChatWire:
    """How one kind of server wants a chat or text request on its OpenAI-compatible route (set by its dialect).

    The defaults are OpenAI's own: everything passes through as written.
    """

    #: Send `role: "developer"` as `system` (TGI's templates rarely know `developer`).
    developer_as_system: bool = False
    #: Most stop strings the server takes (more are enforced client-side); None: no limit.
    max_stops: int | None = None
    #: Send `top_p=1` (TGI refuses it: its `top_p` must be < 1).
    top_p_one: bool = True
    #: Send the sampling extras OpenAI lacks (`top_k`, `repetition_penalty`).
    extra_sampling: bool = True
    #: Send `logit_bias`, `user`, `parallel_tool_calls`; False refuses `logit_bias` before sending.
    openai_extras: bool = True
    #: The answer's `model` is the server's (False: TGI answers "tgi", so easyllm reports the caller's model).
    server_model: bool = True
    #: An assistant message's `content` may be null (llama-cpp-python's server answers 500 to it).
    null_content: bool = True
    #: `response_format` in the server's own form (None drops it).
    response_format: Callable[[Mapping[str, Any]], dict[str, Any] | None] = field(default=as_given)
    #: Fields sent unless the call sets them, to keep OpenAI's meaning (a server's own defaults may differ).
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: The server's names for options it spells differently (`repetition_penalty` → `repeat_penalty`).
    renames: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MessagesPlan:
    """Everything needed to send one call to an OpenAI-compatible route and shape its answer.

    `alternative` is set when the server may lack this route (TGI without a prompt builder may have no Messages
    API): on 404/405 the shells run the plan it returns instead and remember, under `route_key`, that the route is
    missing.
    """

    kind: Kind
    wire: ChatWire
    calls: tuple[HTTPCall, ...]
    model: str
    id: str
    created: int
    stops: tuple[str, ...]
    prompt: str
    options: ChatOptions
    stream: bool
    alternative: Callable[[], CompletionPlan] | None = None

    @property
    def route_key(self) -> str | None:
        """The route whose absence `alternative` answers (None: no alternative)."""
        return self.calls[0].url if self.alternative is not None else None

    @property
    def object_name(self) -> str:
        """OpenAI's `object` of the full response."""
        return "chat.completion" if self.kind == "chat" else "text_completion"

    @property
    def server_model(self) -> bool:
        """Whether the answer's `model` is the server's (see `ChatWire.server_model`)."""
        return self.wire.server_model

    @property
    def include_usage(self) -> bool:
        """Whether the caller asked for a usage chunk at the end of a stream."""
        return bool((self.options.stream_options or {}).get("include_usage"))

    def consumer(self, request: httpx.Request, index: int = 0) -> MessagesStream:
        """The stream state machine for sample `index` of this plan."""
        return MessagesStream(self, request, index)

    def build(self, replies: Sequence[Reply]) -> dict[str, Any]:
        """The OpenAI response of a non-stream call, from one reply per sample."""
        return build_messages_completion(self, replies)

    def with_extras(self, extras: Extras) -> MessagesPlan:
        """This plan with the caller's `extra_body` / `extra_headers` / `extra_query` on every request."""
        return replace(self, calls=tuple(extras.apply(call) for call in self.calls))


# ---------------------------------------------------------------- requests


def check_chat_messages(messages: object, wire: ChatWire) -> list[dict[str, Any]]:
    """Check chat messages and pass them on as written (images, tool calls and tool results included).

    `developer` becomes `system` where the wire says so; a null assistant `content` becomes `""` where the
    server refuses null.
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
        if role == "developer" and wire.developer_as_system:
            copy["role"] = "system"
        if role == "assistant" and copy.get("content") is None and not wire.null_content:
            copy["content"] = ""
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


def _sampling(options: ChatOptions, wire: ChatWire) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if options.max_tokens is not None:
        out["max_tokens"] = options.max_tokens
    if is_greedy(options):
        out["temperature"] = 0.0
    else:
        if options.temperature is not None:
            out["temperature"] = options.temperature
        if options.top_p is not None and (wire.top_p_one or options.top_p < 1):
            out["top_p"] = options.top_p
    for name in ("frequency_penalty", "presence_penalty", "top_k", "repetition_penalty"):
        value = getattr(options, name)
        if value is not None and (wire.extra_sampling or name not in ("top_k", "repetition_penalty")):
            out[name] = value
    return out


def _extras(options: ChatOptions, wire: ChatWire, kind: Kind) -> dict[str, Any]:
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
    for name in ("tools", "tool_choice", "reasoning_effort"):
        if getattr(options, name) is not None:
            out[name] = getattr(options, name)
    if options.response_format is not None:
        fmt = wire.response_format(options.response_format)
        if fmt is not None:
            out["response_format"] = fmt
    if wire.openai_extras:
        for name in ("logit_bias", "user", "parallel_tool_calls"):
            if getattr(options, name) is not None:
                out[name] = getattr(options, name)
    elif options.logit_bias:
        raise InvalidParameterError("is not supported by this server's chat route", param="logit_bias")
    return out


def _seeds(options: ChatOptions) -> list[int | None]:
    seeds = seeds_for(options)
    if options.n > 1 and options.seed is None and not is_greedy(options):
        return [random.randrange(2**32) for _ in seeds]  # distinct samples, as on the native route
    return seeds


def _payload(
    base: dict[str, Any], options: ChatOptions, wire: ChatWire, kind: Kind, stops: Sequence[str], stream: bool
) -> dict[str, Any]:
    payload = {**wire.defaults, **base, **_sampling(options, wire), **_extras(options, wire, kind)}
    for ours, theirs in wire.renames.items():
        if ours in payload:
            payload[theirs] = payload.pop(ours)
    if stops:
        payload["stop"] = list(stops if wire.max_stops is None else stops[: wire.max_stops])
    if stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}  # always asked: usage is then exact when possible
    return payload


def plan_messages(
    kind: Kind,
    *,
    wire: ChatWire,
    body: dict[str, Any],
    prompt: str,
    options: ChatOptions,
    stops: tuple[str, ...],
    url: str,
    model: str,
    stream: bool,
    alternative: Callable[[], CompletionPlan] | None = None,
) -> MessagesPlan:
    """Plan the requests of one call: one per sample (`n`), each with its own seed, streamed or not.

    `body` holds `messages` (chat) or `prompt` (text), and `model` when one is sent.
    """
    calls = []
    for seed in _seeds(options):
        payload = _payload(body, options, wire, kind, stops, stream)
        if seed is not None:
            payload["seed"] = seed
        calls.append(HTTPCall("POST", url, payload))
    return MessagesPlan(
        kind, wire, tuple(calls), model, new_id(kind), int(time.time()), stops, prompt, options, stream, alternative
    )


# ---------------------------------------------------------------- answers


def _check_body(body: object, url: str) -> Mapping[str, Any]:
    if isinstance(body, Mapping) and "error" in body:
        raise error_from_stream_event(body, httpx.Request("POST", url))
    if not isinstance(body, Mapping) or not isinstance(body.get("choices"), list) or not body["choices"]:
        raise APIResponseValidationError(f"expected an OpenAI answer with `choices`, got {str(body)[:200]!r}")
    return body


def _chat_choice(plan: MessagesPlan, index: int, raw: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    message = raw.get("message") or {}
    content = message.get("content")
    reasoning = server_reasoning(message)
    if isinstance(content, str) and reasoning is None:
        reasoning, content = split_think(content)
    text, stopped = trim_stop(content, plan.stops) if isinstance(content, str) else ("", False)
    calls = tool_calls(message.get("tool_calls"))
    reason = "stop" if stopped else finish_reason(raw.get("finish_reason"), kind="chat", tools_called=bool(calls))
    out_message: dict[str, Any] = {"role": "assistant", "content": text if content is not None else None}
    if isinstance(message.get("refusal"), str):  # the server's own refusal (the router passes providers' on)
        out_message["refusal"] = message["refusal"]
    out_message.update(reasoning_fields(reasoning))
    if calls:
        out_message["tool_calls"] = calls
    choice = {"index": index, "message": out_message, "logprobs": raw.get("logprobs"), "finish_reason": reason}
    choice["finish_reason"] = choice["finish_reason"] or "stop"
    return choice, text


def _text_choice(plan: MessagesPlan, index: int, raw: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    text, stopped = trim_stop(str(raw.get("text") or ""), plan.stops)
    reason = "stop" if stopped else finish_reason(raw.get("finish_reason"), kind="text") or "stop"
    return {"index": index, "text": text, "logprobs": raw.get("logprobs"), "finish_reason": reason}, text


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
    header = answer_header(plan, bodies[0])
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


def lacks_route(err: APIStatusError) -> bool:
    """Whether an error means the server has no such route (404/405: TGI < 1.4 has no Messages API)."""
    return err.status_code in (404, 405)


def reclassify_error(err: APIStatusError) -> APIStatusError:
    """Turn a 500 that reads like a validation error into `UnprocessableEntityError`.

    Some servers answer 500 for bad requests; any other error is returned as it is.
    """
    text = server_message(err.body) or ""
    if err.status_code != 500 or not _VALIDATION_WORDS.search(text):
        return err
    response = httpx.Response(422, request=err.response.request, json=err.body)
    message = with_location(
        f"Error code: 422 - {text} (the server answered 500; fix the request rather than retrying)", response.request
    )
    return UnprocessableEntityError(message, response=response, body=err.body)

"""Chat and text completions over TGI's native routes, as pure code.

Plan the requests, then turn the answers (or the stream events) into OpenAI-shaped dicts. Both the sync and the
async shell call exactly this.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import httpx

from easyllm.errors import (
    APIError,
    error_from_stream_event,
)
from easyllm.protocol import tgi
from easyllm.protocol.extras import Extras
from easyllm.protocol.params import GenerationOptions, seeds_for, tgi_parameters, top_n_tokens
from easyllm.protocol.sse import DONE, EventConsumer, decode_event
from easyllm.protocol.stops import StopTrimmer, TextLog, trim_stop

__all__ = [
    "CompletionPlan",
    "GenerationPlan",
    "GenerationStream",
    "HTTPCall",
    "Reply",
    "build_completion",
    "plan_generation",
]

Kind = Literal["chat", "text"]


@dataclass(frozen=True, slots=True)
class HTTPCall:
    """A request to make, described as data: the shells turn it into I/O."""

    method: str
    url: str
    json: Any = None
    headers: Mapping[str, str] | None = None
    params: Mapping[str, Any] | None = None
    #: How to read a successful answer's body; None: as JSON (`json_decode.loads`). Embedding calls pass a
    #: decoder that knows the answer's shape (`vector_answers`).
    decode: Callable[[bytes], object] | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What the shells hand back for one non-stream request."""

    body: object
    headers: Mapping[str, str]


@dataclass(frozen=True)
class GenerationPlan:
    """Everything needed to send one completion call and shape its answer."""

    kind: Kind
    calls: tuple[HTTPCall, ...]
    model: str
    id: str
    created: int
    stops: tuple[str, ...]
    prompt: str
    options: GenerationOptions
    stream: bool
    route_key: None = None
    alternative: None = None

    @property
    def object_name(self) -> str:
        """OpenAI's `object` of the full response."""
        return "chat.completion" if self.kind == "chat" else "text_completion"

    def consumer(self, request: httpx.Request, index: int = 0) -> GenerationStream:
        """The stream state machine for sample `index` of this plan."""
        return GenerationStream(self, request, index)

    def build(self, replies: Sequence[Reply]) -> dict[str, Any]:
        """The OpenAI response of a non-stream call, from one reply per sample."""
        return build_completion(self, replies)

    def with_extras(self, extras: Extras) -> GenerationPlan:
        """This plan with the caller's `extra_body` / `extra_headers` / `extra_query` on every request."""
        return replace(self, calls=tuple(extras.apply(call) for call in self.calls))


class CompletionPlan(Protocol):
    """What the shells need from a planned chat/text call, whatever the route (native TGI or OpenAI-compatible)."""

    @property
    def calls(self) -> tuple[HTTPCall, ...]:
        """One request per sample."""

    @property
    def stream(self) -> bool:
        """Whether the answer streams."""

    def consumer(self, request: httpx.Request, index: int = 0) -> EventConsumer:
        """The stream state machine for sample `index` (its chunks carry that `index`)."""

    def build(self, replies: Sequence[Reply]) -> dict[str, Any]:
        """The whole answer from one reply per sample."""

    @property
    def route_key(self) -> str | None:
        """The route this plan may find missing (then `alternative` runs instead), or None."""

    @property
    def alternative(self) -> Callable[[], CompletionPlan] | None:
        """The plan to run where the server lacks this plan's route (404/405), or None."""


def new_id(kind: Kind) -> str:
    """A fresh response id (`chatcmpl-…` or `cmpl-…`); TGI's own id is empty."""
    return ("chatcmpl-" if kind == "chat" else "cmpl-") + os.urandom(12).hex()


def plan_generation(
    kind: Kind,
    *,
    prompt: str,
    options: GenerationOptions,
    stops: tuple[str, ...],
    url: str,
    model: str,
    stream: bool,
    extra_parameters: Mapping[str, Any] | None = None,
) -> GenerationPlan:
    """Plan the requests of one call: one per sample (`n`), each with its own seed, streamed or not.

    `extra_parameters` are added to TGI's `parameters` as they are (e.g. `grammar`).
    """
    calls = []
    for seed in seeds_for(options):
        parameters = tgi_parameters(options, stops, seed=seed)  # a fresh dict per request
        if extra_parameters:
            parameters.update(extra_parameters)
        calls.append(HTTPCall("POST", url, tgi.generate_payload(prompt, parameters, stream=stream)))
    return GenerationPlan(kind, tuple(calls), model, new_id(kind), int(time.time()), stops, prompt, options, stream)


def estimate_tokens(text: str) -> int:
    """A rough token count for when the server reports none (always flagged as an estimate)."""
    size = len(text) if text.isascii() else len(text.encode("utf-8"))  # ASCII: as many bytes as characters
    return max(1, (size + 3) // 4)


def usage(prompt_tokens: int | None, completion_tokens: int | None, prompt: str, text: str) -> dict[str, Any]:
    """OpenAI usage for any route; a count the server did not give is estimated, and `estimated` says so."""
    result: dict[str, Any] = {
        "prompt_tokens": prompt_tokens if prompt_tokens is not None else estimate_tokens(prompt),
        "completion_tokens": completion_tokens if completion_tokens is not None else estimate_tokens(text),
    }
    result["total_tokens"] = result["prompt_tokens"] + result["completion_tokens"]
    if prompt_tokens is None or completion_tokens is None:
        result["estimated"] = True
    return result


def _kept_tokens(tokens: Sequence[tgi.Token], text_len: int) -> list[tuple[tgi.Token, int]]:
    """Tokens (with their start offset) whose text starts inside the returned text."""
    kept, offset = [], 0
    for token in tokens:
        if token.special:
            continue
        if offset >= text_len:
            break
        kept.append((token, offset))
        offset += len(token.text)
    return kept


def chat_logprobs(tokens: Sequence[tgi.Token], text_len: int) -> dict[str, Any]:
    """OpenAI chat `logprobs` (`{"content": [...]}`) from TGI token details."""
    return {
        "content": [
            {
                "token": tok.text,
                "logprob": tok.logprob,
                "bytes": list(tok.text.encode("utf-8")),
                "top_logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode("utf-8"))} for t, lp in tok.top],
            }
            for tok, _ in _kept_tokens(tokens, text_len)
        ]
    }


def text_logprobs(tokens: Sequence[tgi.Token], text_len: int, base_offset: int) -> dict[str, Any]:
    """Legacy completion `logprobs` (`tokens`, `token_logprobs`, `top_logprobs`, `text_offset`)."""
    kept = _kept_tokens(tokens, text_len)
    return {
        "tokens": [tok.text for tok, _ in kept],
        "token_logprobs": [tok.logprob for tok, _ in kept],
        "top_logprobs": [dict(tok.top) for tok, _ in kept],
        "text_offset": [base_offset + off for _, off in kept],
    }


def _wants_logprobs(options: GenerationOptions) -> bool:
    return bool(options.logprobs) or top_n_tokens(options) > 0


def _choice(plan: GenerationPlan, index: int, gen: tgi.Generated) -> tuple[dict[str, Any], str]:
    text, stopped = trim_stop(gen.text, plan.stops)
    reason = "stop" if stopped else tgi.finish_reason(gen.finish_reason)
    if plan.kind == "chat":
        logprobs = chat_logprobs(gen.tokens, len(text)) if _wants_logprobs(plan.options) else None
        message = {"role": "assistant", "content": text}
        return {"index": index, "message": message, "logprobs": logprobs, "finish_reason": reason}, text
    base = len(plan.prompt) if plan.options.echo else 0
    logprobs = text_logprobs(gen.tokens, len(text), base) if _wants_logprobs(plan.options) else None
    shown = plan.prompt + text if plan.options.echo else text
    return {"text": shown, "index": index, "logprobs": logprobs, "finish_reason": reason}, text


def build_completion(plan: GenerationPlan, replies: Sequence[Reply]) -> dict[str, Any]:
    """The OpenAI response for a non-stream call, from one reply per sample."""
    choices, texts = [], []
    completion_tokens: int | None = 0
    prompt_tokens = None
    for index, reply in enumerate(replies):
        gen = tgi.read_generated(reply.body, reply.headers)
        choice, text = _choice(plan, index, gen)
        choices.append(choice)
        texts.append(text)
        if index == 0:
            prompt_tokens = gen.prompt_tokens
        if completion_tokens is not None:
            completion_tokens = None if gen.generated_tokens is None else completion_tokens + gen.generated_tokens
    return {
        "id": plan.id,
        "object": plan.object_name,
        "created": plan.created,
        "model": plan.model,
        "system_fingerprint": None,
        "choices": choices,
        "usage": usage(prompt_tokens, completion_tokens, plan.prompt, "".join(texts)),
    }


class GenerationStream:
    """The stream state machine: SSE event data in, OpenAI chunks out.

    Emits a role chunk first (chat), then content deltas with stop strings held back and trimmed, then one
    chunk with `finish_reason`, then (with `stream_options.include_usage`) a usage chunk. An error event raises
    the matching exception with the text produced so far; a body that ends before the final event raises too.
    Every chunk's choice carries `index`: the sample this stream is (`n > 1` streams one request per sample).
    """

    def __init__(self, plan: GenerationPlan, request: httpx.Request, index: int = 0) -> None:
        self.plan = plan
        self.request = request
        self.index = index
        self.done = False
        self._chat = plan.kind == "chat"
        self._trimmer = StopTrimmer(plan.stops)
        self._started = False
        self._emitted = TextLog()
        self._logprobs = _wants_logprobs(plan.options)
        opts = plan.options.stream_options or {}
        self._include_usage = bool(opts.get("include_usage"))
        self._tokens = 0
        self._offset = len(plan.prompt) if plan.options.echo else 0  # text_offset of the next token (text mode)

    @property
    def partial_text(self) -> str:
        """Everything produced so far, including what is still held back."""
        return self._emitted.text() + self._trimmer.held

    def _chunk(self, delta: str | None, reason: str | None = None, logprobs: Any = None) -> dict[str, Any]:
        if self._chat:
            body: dict[str, Any] = {} if delta is None else {"content": delta}
            choice = {"index": self.index, "delta": body, "logprobs": logprobs, "finish_reason": reason}
            obj = "chat.completion.chunk"
        else:
            choice = {"text": delta or "", "index": self.index, "logprobs": logprobs, "finish_reason": reason}
            obj = "text_completion"
        return {
            "id": self.plan.id,
            "object": obj,
            "created": self.plan.created,
            "model": self.plan.model,
            "choices": [choice],
        }

    def _start(self) -> list[dict[str, Any]]:
        self._started = True
        if self._chat:
            first = self._chunk("")
            first["choices"][0]["delta"]["role"] = "assistant"
            return [first]
        if self.plan.options.echo:
            return [self._chunk(self.plan.prompt)]
        return []

    def _token_logprobs(self, token: tgi.Token) -> Any:
        if not self._logprobs:
            return None
        if self._chat:
            return chat_logprobs([token], len(token.text) or 1)
        offset = self._offset
        self._offset += len(token.text)
        return text_logprobs([token], len(token.text) or 1, offset)

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Take one event's data; return the chunks to hand to the caller (possibly none)."""
        if self.done or data == DONE:
            return []
        event = decode_event(data, self.request)
        if "error" in event:
            raise error_from_stream_event(event, self.request, partial_text=self.partial_text)
        if self._started and not self._logprobs:
            plain = self._plain_token(event)
            if plain is not None:
                return plain
        out = [] if self._started else self._start()
        token, final = tgi.read_token_event(event)
        if token is not None and not token.special:
            self._tokens += 1
            piece = self._trimmer.feed(token.text)
            if piece or self._logprobs:
                self._emitted.append(piece)
                out.append(self._chunk(piece, logprobs=self._token_logprobs(token)))
        if self._trimmer.stopped:
            out.append(self._finish("stop"))
        elif final is not None:
            rest = self._trimmer.flush()  # may itself complete a stop at the very end
            if rest:
                self._emitted.append(rest)
                out.append(self._chunk(rest))
            out.append(self._finish("stop" if self._trimmer.stopped else tgi.finish_reason(final.finish_reason)))
        if self.done and self._include_usage:
            out.append(self._usage_chunk(final))
        return out

    def _plain_token(self, event: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The chunks of the usual event (one token's text, not the last), or None for any other.

        It gives what the general path would, without building a `Token` (no logprobs were asked for).
        """
        raw = event.get("token")
        if type(raw) is not dict or event.get("generated_text") is not None or raw.get("special"):
            return None
        text = raw.get("text", "")
        if type(text) is not str:
            return None
        self._tokens += 1
        piece = self._trimmer.feed(text)
        out = []
        if piece:
            self._emitted.append(piece)
            out.append(self._chunk(piece))
        if self._trimmer.stopped:
            out.append(self._finish("stop"))
            if self._include_usage:
                out.append(self._usage_chunk(None))
        return out

    def _finish(self, reason: str) -> dict[str, Any]:
        self.done = True
        return self._chunk(None, reason)

    def _usage_chunk(self, final: tgi.Generated | None) -> dict[str, Any]:
        generated = final.generated_tokens if final is not None else self._tokens
        prompt = final.prompt_tokens if final is not None else None
        chunk = self._chunk(None)
        chunk["choices"] = []
        chunk["usage"] = usage(prompt, generated, self.plan.prompt, self._emitted.text())
        return chunk

    def finish(self) -> list[dict[str, Any]]:
        """The body ended: nothing more unless the final event never came, which raises (no silent truncation)."""
        if self.done:
            return []
        raise APIError(
            "The stream ended before the server's final event; the answer may be cut short. "
            "Retry, or check the server's logs.",
            self.request,
            partial_text=self.partial_text,
        )

"""The stream state machine for OpenAI-compatible servers: SSE event data in, normalised OpenAI chunks out.

Implements `easyllm.protocol.sse.EventConsumer`, so `Stream` / `AsyncStream` drive it unchanged. Output follows
design.md §4: a role chunk first (chat), content / tool-call deltas with stop strings held back and trimmed, one
chunk with `finish_reason`, then a usage chunk when the caller asked (`stream_options.include_usage`): the
server's usage when it sent one, otherwise counts marked `estimated`. Every chunk's choice carries the sample's
`index` (given by the shells; `n > 1` streams one request per sample), whatever index the server wrote.
Reasoning arrives in deltas as both `reasoning` and `reasoning_content`, whichever the server sent, or split out
of a `<think>` block at the start of the content; tool-call deltas are normalised by `ToolCallDeltas`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import httpx

from easyllm.errors import APIError, APIResponseValidationError, error_from_stream_event
from easyllm.protocol.generation import Kind, usage
from easyllm.protocol.openai_answers import (
    AnswerPlan,
    ThinkSplitter,
    ToolCallDeltas,
    answer_header,
    finish_reason,
    read_usage,
    reasoning_fields,
    server_reasoning,
)
from easyllm.protocol.sse import DONE, decode_event
from easyllm.protocol.stops import StopTrimmer, TextLog

__all__ = ["PLAIN_DELTA", "MessagesStream", "StreamPlan"]

#: The keys a plain text delta may have (`MessagesStream.takes_text`); `role` is dropped from its chunk.
PLAIN_DELTA = frozenset({"content", "role"})
_NOT_FINISHED = (None, "")


class StreamPlan(AnswerPlan, Protocol):
    """What the stream state machine needs from a plan (`easyllm.protocol.messages.MessagesPlan` has it)."""

    @property
    def kind(self) -> Kind:
        """`chat` or `text`."""

    @property
    def stops(self) -> Sequence[str]:
        """Stop strings trimmed client-side."""

    @property
    def prompt(self) -> str:
        """The prompt's text, for usage estimates."""

    @property
    def include_usage(self) -> bool:
        """Whether the caller asked for a usage chunk."""


class MessagesStream:
    """Normalise one OpenAI-compatible stream (chat or text) for the caller."""

    def __init__(self, plan: StreamPlan, request: httpx.Request, index: int = 0) -> None:
        self.plan = plan
        self.request = request
        self.index = index
        self.done = False
        self._chat = plan.kind == "chat"
        self._object = "chat.completion.chunk" if self._chat else "text_completion"
        self._header: dict[str, Any] | None = None
        self._trimmer = StopTrimmer(plan.stops)
        self._emitted = TextLog()
        self._finished = False
        self._tools_called = False
        self._deltas = 0
        self._usage: Any = None
        self._think = ThinkSplitter()
        self._server_reasons = False
        self._tools = ToolCallDeltas(f"call_{plan.id[-8:]}_{index}")

    @property
    def partial_text(self) -> str:
        """Everything produced so far, including what is still held back."""
        return self._emitted.text() + self._trimmer.held

    # ------------------------------------------------------------ the EventConsumer protocol

    #: Whether a plain text delta's text is handed out as it is (a `str`) instead of in a chunk: set by a reader
    #: that takes both (the Responses translation's `ChatToEvents`); every other chunk stays a dict.
    bare_text = False

    def feed(self, data: bytes) -> list[Any]:
        """Take one event's data; return the chunks to hand to the caller (possibly none).

        The chunks are dicts; with `bare_text`, a plain text delta's text is a `str` instead.
        """
        if self.done:
            return []
        if data == DONE:
            return self._end()
        event = self._decode(data)
        if event.get("usage"):
            self._usage = event["usage"]
        out: list[Any] = []
        if self._header is None:
            self._header = self._make_header(event)
            if self._chat:
                out.append(self._chunk({"role": "assistant", "content": ""}))
        for choice in event.get("choices") or ():
            if not self._finished:
                out.extend(self._choice(choice))
        if self._finished and self._trimmer.stopped:
            out.extend(self._end())  # a client-side stop: stop reading (the server would go on)
        return out

    def finish(self) -> list[dict[str, Any]]:
        """The body ended without `[DONE]`: fine after a finish reason, an error before one."""
        if self.done:
            return []
        if self._finished:
            return self._end()
        raise APIError(
            "The stream ended before the server's final event; the answer may be cut short. "
            "Retry, or check the server's logs.",
            self.request,
            partial_text=self.partial_text,
        )

    # ------------------------------------------------------------ a plain text delta read by the caller

    @property
    def header(self) -> dict[str, Any] | None:
        """`id`, `created`, `model`, `system_fingerprint` and `object` of every chunk; None before the first event."""
        return self._header

    @property
    def takes_text(self) -> bool:
        """Whether the next plain text delta may go to `text` instead of `feed`.

        A plain text delta is a chat event with one choice whose delta has a non-empty `content` (and perhaps
        `role`), no logprobs, no finish reason, no usage and no error. It may go to `text` once the header is known
        and while text passes straight through (no reasoning from the server, no `<think>` block being split, not
        finished).
        """
        return (
            self._header is not None
            and self._chat
            and not self.done
            and not self._finished
            and not self._server_reasons
            and self._think.passing_through
        )

    def text(self, content: str) -> list[dict[str, Any]] | None:
        """Take the `content` of a plain text delta the caller read itself (only while `takes_text`).

        Returns None when the one chunk to hand out is the text chunk of `content` as it came (the caller builds
        it: `feed` would have given exactly that chunk), else the chunks to hand out instead (text held back or
        cut by a stop sequence, the end of the answer).
        """
        piece = self._text_piece(content)
        if piece == content and not self._trimmer.stopped:
            return None
        out = [self._chunk({"content": piece})] if piece else []
        if self._trimmer.stopped:
            self._stop(out)
            out.extend(self._end())  # a client-side stop: stop reading (the server would go on)
        return out

    # ------------------------------------------------------------ internals

    def _decode(self, data: bytes) -> dict[str, Any]:
        event = decode_event(data, self.request)
        if "error" in event:
            raise error_from_stream_event(event, self.request, partial_text=self.partial_text)
        return event

    def _make_header(self, event: dict[str, Any]) -> dict[str, Any]:
        header = answer_header(self.plan, event)
        return {**header, "object": self._object}

    def _chunk(self, delta: dict[str, Any] | None, reason: str | None = None, logprobs: Any = None) -> dict[str, Any]:
        if self._chat:
            choice = {"index": self.index, "delta": delta or {}, "logprobs": logprobs, "finish_reason": reason}
        else:
            text = (delta or {}).get("content", "")
            choice = {"index": self.index, "text": text, "logprobs": logprobs, "finish_reason": reason}
        assert self._header is not None
        return {**self._header, "choices": [choice]}

    def _content(self, raw: dict[str, Any], delta: dict[str, Any]) -> None:
        """Reasoning and (stop-trimmed) content of one delta, into `delta`."""
        reasoning = server_reasoning(raw) if self._chat else None
        self._server_reasons = self._server_reasons or reasoning is not None
        content = raw.get("content")
        if content is not None and type(content) is not str:
            raise APIResponseValidationError(f"unexpected content in a stream event: {content!r:.100}", self.request)
        if content and self._chat and not self._server_reasons:
            thought, content = self._think.feed(content)
            reasoning = thought or None
        if reasoning:
            delta.update(reasoning_fields(reasoning))
        if content:
            self._deltas += 1
            piece = self._trimmer.feed(content)
            if piece:
                self._emitted.append(piece)
                delta["content"] = piece

    def _plain_text(self, choice: dict[str, Any]) -> list[Any] | None:
        """The chunks of the usual chat choice, or None for any other (the general path then reads it).

        The usual choice (once per token) carries only text: its delta has `content` (and perhaps `role`), no
        logprobs, no finish reason, and no `<think>` block is being split. It gives what the general path would,
        without the reasoning, tool-call and finish-reason steps (with `bare_text`, the text itself).
        """
        raw = choice.get("delta")
        if (
            type(raw) is not dict
            or not raw.keys() <= PLAIN_DELTA
            or choice.get("logprobs") is not None
            or choice.get("finish_reason") not in _NOT_FINISHED
            or not self._think.passing_through
        ):
            return None
        content = raw.get("content")
        if content is not None and type(content) is not str:
            return None
        out: list[Any] = []
        if content:
            piece = self._text_piece(content)
            if piece:
                out.append(piece if self.bare_text else self._chunk({"content": piece}))
        if self._trimmer.stopped:
            self._stop(out)
        return out

    def _stop(self, out: list[Any]) -> None:
        """A stop sequence completed in the text: finished, with a `stop` chunk into `out`."""
        self._finished = True
        out.append(self._chunk(None, "stop"))

    def _text_chunk(self, content: str, out: list[dict[str, Any]]) -> None:
        """One delta's content through the stop trimmer, into `out` as a content chunk if any of it can show."""
        piece = self._text_piece(content)
        if piece:
            out.append(self._chunk({"content": piece}))

    def _text_piece(self, content: str) -> str:
        """One delta's content through the stop trimmer: what of it can show now."""
        self._deltas += 1
        piece = self._trimmer.feed(content)
        if piece:
            self._emitted.append(piece)
        return piece

    def _choice(self, choice: dict[str, Any]) -> list[Any]:
        if self._chat and not self._server_reasons:
            plain = self._plain_text(choice)
            if plain is not None:
                return plain
        out = []
        raw = (choice.get("delta") or {}) if self._chat else {"content": choice.get("text")}
        delta: dict[str, Any] = {}
        self._content(raw, delta)
        calls = self._tools.feed(raw.get("tool_calls")) if self._chat else None
        if calls:
            self._tools_called = True
            delta["tool_calls"] = calls
        logprobs = choice.get("logprobs")
        if delta or logprobs:
            out.append(self._chunk(delta, logprobs=logprobs))
        if self._trimmer.stopped:
            self._stop(out)
            return out
        reason = finish_reason(choice.get("finish_reason"), kind=self.plan.kind, tools_called=self._tools_called)
        if reason is not None:
            out.extend(self._close(reason))
        return out

    def _close(self, reason: str) -> list[dict[str, Any]]:
        self._finished = True
        out = []
        thought, held = self._think.flush() if self._chat else ("", "")
        if thought:
            out.append(self._chunk(reasoning_fields(thought)))
        if held:
            self._text_chunk(held, out)
        rest = self._trimmer.flush()  # may itself complete a stop at the very end
        if rest:
            self._emitted.append(rest)
            out.append(self._chunk({"content": rest}))
        if self._trimmer.stopped and reason != "tool_calls":
            reason = "stop"
        out.append(self._chunk(None, reason))
        return out

    def _end(self) -> list[dict[str, Any]]:
        self.done = True
        out = [] if self._finished or self._header is None else self._close("stop")
        if self.plan.include_usage:
            out.append(self._usage_chunk())
        return out

    def _usage_chunk(self) -> dict[str, Any]:
        prompt, completion = read_usage(self._usage)
        if completion is None and self._deltas:
            completion = self._deltas  # one delta per token on TGI, llama.cpp and vLLM; still flagged below
            counted = usage(prompt, completion, self.plan.prompt, "")
            counted["estimated"] = True
        else:
            counted = usage(prompt, completion, self.plan.prompt, self._emitted.text())
        if self._header is None:
            self._header = self._make_header({})
        return {**self._header, "choices": [], "usage": counted}

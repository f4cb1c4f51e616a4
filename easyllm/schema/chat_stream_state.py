"""The events of `chat.completions.stream` (openai's streaming helper), from chat chunks; pure, for both shells.

`ChatStreamState.handle_chunk` takes each `ChatCompletionChunk` and returns the events openai's helper gives for it,
in its order: `chunk` first, then per choice `content.delta`, `refusal.delta`, `tool_calls.function.arguments.delta`,
`logprobs.content.delta` / `logprobs.refusal.delta`, and the `*.done` events when a part ends (a tool call ends when
the next one starts; everything ends with the choice's `finish_reason`). While the content streams, `parsed` is the
JSON read so far (incomplete strings left out); `content.done` has it read into the requested type. With something to
parse (a type, or strict tools), a `length` or `content_filter` finish raises as soon as it arrives.
`final_completion` is the whole answer as `parse` would have returned it.

Example:
    >>> from easyllm.schema.types import chat_chunk
    >>> state = ChatStreamState(None, None)
    >>> head = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    >>> events = state.handle_chunk(chat_chunk({**head, "choices": [{"index": 0, "delta": {"content": "Hi"}}]}))
    >>> [e.type for e in events]
    ['chunk', 'content.delta']
    >>> done = {"index": 0, "delta": {}, "finish_reason": "stop"}
    >>> [e.type for e in state.handle_chunk(chat_chunk({**head, "choices": [done]}))]
    ['chunk', 'content.done']
    >>> state.final_completion().choices[0].message.content
    'Hi'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic_core import from_json

from easyllm.errors import ContentFilterFinishReasonError, LengthFinishReasonError
from easyllm.schema.structured import parse_completion
from easyllm.schema.types import (
    BaseModel,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionTokenLogprob,
    ParsedChatCompletion,
    chat_completion,
)

__all__ = [
    "ChatStreamEvent",
    "ChatStreamState",
    "ChunkEvent",
    "ContentDeltaEvent",
    "ContentDoneEvent",
    "FunctionToolCallArgumentsDeltaEvent",
    "FunctionToolCallArgumentsDoneEvent",
    "LogprobsContentDeltaEvent",
    "LogprobsContentDoneEvent",
    "LogprobsRefusalDeltaEvent",
    "LogprobsRefusalDoneEvent",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
]

T = TypeVar("T")


class ChunkEvent:
    """`chunk`: every chunk as it came; `snapshot` is the answer so far (made when read, from what has arrived)."""

    type: Literal["chunk"] = "chunk"

    def __init__(self, chunk: ChatCompletionChunk, state: ChatStreamState[Any]) -> None:
        self.chunk = chunk
        self._state = state

    @property
    def snapshot(self) -> ParsedChatCompletion[Any]:
        """The completion accumulated so far."""
        return self._state.snapshot()


class ContentDeltaEvent(BaseModel):
    """`content.delta`: new text, the text so far, and the JSON read from it so far (with a type to parse into)."""

    type: Literal["content.delta"] = "content.delta"
    delta: str
    snapshot: str
    parsed: object = None


class ContentDoneEvent(BaseModel, Generic[T]):
    """`content.done`: the whole text, read into the requested type (None without one)."""

    type: Literal["content.done"] = "content.done"
    content: str
    parsed: T | None = None


class RefusalDeltaEvent(BaseModel):
    """`refusal.delta`."""

    type: Literal["refusal.delta"] = "refusal.delta"
    delta: str
    snapshot: str


class RefusalDoneEvent(BaseModel):
    """`refusal.done`."""

    type: Literal["refusal.done"] = "refusal.done"
    refusal: str


class FunctionToolCallArgumentsDeltaEvent(BaseModel):
    """`tool_calls.function.arguments.delta`: the arguments so far, and read so far for a strict tool."""

    type: Literal["tool_calls.function.arguments.delta"] = "tool_calls.function.arguments.delta"
    name: str
    index: int
    arguments: str
    parsed_arguments: object = None
    arguments_delta: str


class FunctionToolCallArgumentsDoneEvent(BaseModel):
    """`tool_calls.function.arguments.done`: the whole arguments, read as `parse` reads them."""

    type: Literal["tool_calls.function.arguments.done"] = "tool_calls.function.arguments.done"
    name: str
    index: int
    arguments: str
    parsed_arguments: object = None


class LogprobsContentDeltaEvent(BaseModel):
    """`logprobs.content.delta`."""

    type: Literal["logprobs.content.delta"] = "logprobs.content.delta"
    content: list[ChatCompletionTokenLogprob]
    snapshot: list[ChatCompletionTokenLogprob]


class LogprobsContentDoneEvent(BaseModel):
    """`logprobs.content.done`."""

    type: Literal["logprobs.content.done"] = "logprobs.content.done"
    content: list[ChatCompletionTokenLogprob]


class LogprobsRefusalDeltaEvent(BaseModel):
    """`logprobs.refusal.delta`."""

    type: Literal["logprobs.refusal.delta"] = "logprobs.refusal.delta"
    refusal: list[ChatCompletionTokenLogprob]
    snapshot: list[ChatCompletionTokenLogprob]


class LogprobsRefusalDoneEvent(BaseModel):
    """`logprobs.refusal.done`."""

    type: Literal["logprobs.refusal.done"] = "logprobs.refusal.done"
    refusal: list[ChatCompletionTokenLogprob]


ChatStreamEvent = (
    ChunkEvent
    | ContentDeltaEvent
    | ContentDoneEvent[Any]
    | RefusalDeltaEvent
    | RefusalDoneEvent
    | FunctionToolCallArgumentsDeltaEvent
    | FunctionToolCallArgumentsDoneEvent
    | LogprobsContentDeltaEvent
    | LogprobsContentDoneEvent
    | LogprobsRefusalDeltaEvent
    | LogprobsRefusalDoneEvent
)


@dataclass
class _Choice:
    """One choice as it accumulates, and which of its parts are done."""

    content: str | None = None
    refusal: str | None = None
    reasoning: str | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    content_logprobs: list[ChatCompletionTokenLogprob] | None = None
    refusal_logprobs: list[ChatCompletionTokenLogprob] | None = None
    finish_reason: str | None = None
    done: set[str] = field(default_factory=set)
    current_call: int | None = None
    #: what `content.done` read the content into
    parsed: object = None
    #: what `tool_calls.function.arguments.done` read each finished call's arguments into, by index
    parsed_calls: dict[int, object] = field(default_factory=dict)


class ChatStreamState(Generic[T]):
    """The accumulated answer of one stream and the events each chunk adds (see the module docstring)."""

    def __init__(self, response_format: object, tools: Sequence[Mapping[str, Any]] | None) -> None:
        self._format = response_format
        self._tools = list(tools or ())
        self._strict = {
            tool["function"].get("name")
            for tool in self._tools
            if isinstance(tool.get("function"), Mapping) and tool["function"].get("strict") is True
        }
        self._head: dict[str, Any] = {}
        self._usage: Any = None
        self._choices: dict[int, _Choice] = {}

    def handle_chunk(self, chunk: ChatCompletionChunk) -> list[Any]:
        """Add one chunk; return its events, in openai's order."""
        if not self._head:
            self._head = {"id": chunk.id, "created": chunk.created, "model": chunk.model}
        self._head["system_fingerprint"] = chunk.system_fingerprint
        if chunk.usage is not None:
            self._usage = chunk.usage
        events: list[Any] = [ChunkEvent(chunk, self)]
        for choice in chunk.choices:
            state = self._choices.setdefault(choice.index, _Choice())
            delta = choice.delta
            if delta.content is not None:
                state.content = (state.content or "") + delta.content
                events.append(
                    ContentDeltaEvent(delta=delta.content, snapshot=state.content, parsed=self._partial(state))
                )
            if delta.refusal is not None:
                state.refusal = (state.refusal or "") + delta.refusal
                events.append(RefusalDeltaEvent(delta=delta.refusal, snapshot=state.refusal))
            reasoning = delta.reasoning if delta.reasoning is not None else delta.reasoning_content
            if reasoning is not None:
                state.reasoning = (state.reasoning or "") + reasoning
            for call in delta.tool_calls or ():
                while len(state.calls) <= call.index:
                    state.calls.append({"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
                snapshot = state.calls[call.index]
                if call.id:
                    snapshot["id"] = call.id
                function = call.function
                if function is not None and function.name:
                    snapshot["function"]["name"] += function.name
                piece = (function.arguments if function is not None else None) or ""
                snapshot["function"]["arguments"] += piece
                name, arguments = snapshot["function"]["name"], snapshot["function"]["arguments"]
                partial = _read_partial(arguments) if name in self._strict else None
                events.append(FunctionToolCallArgumentsDeltaEvent(
                    name=name, index=call.index, arguments=arguments, parsed_arguments=partial, arguments_delta=piece
                ))  # fmt: skip
            if choice.logprobs is not None:
                events += self._logprobs(state, choice.logprobs.content, choice.logprobs.refusal)
            if choice.finish_reason is not None:
                state.finish_reason = choice.finish_reason
                self._check_finish(choice.finish_reason)
            events += self._done_events(state, [call.index for call in delta.tool_calls or ()])
        return events

    def _done_events(self, state: _Choice, call_indexes: list[int]) -> list[Any]:
        """What this chunk ended: all of it at the finish; the text and the call before, when a new call starts."""
        events: list[Any] = []
        if state.finish_reason is not None:
            events += self._content_done(state)
            if state.current_call is not None:
                events += self._call_done(state, state.current_call)
        for index in call_indexes:
            if state.current_call != index:
                events += self._content_done(state)
                if state.current_call is not None:
                    events += self._call_done(state, state.current_call)
            state.current_call = index
        return events

    def _partial(self, state: _Choice) -> object:
        if not isinstance(self._format, type) or state.refusal or not (state.content or "").strip():
            return None
        return _read_partial(state.content or "")

    def _logprobs(self, state: _Choice, content: Any, refusal: Any) -> list[Any]:
        events: list[Any] = []
        if content:
            state.content_logprobs = [*(state.content_logprobs or []), *content]
            events.append(LogprobsContentDeltaEvent(content=content, snapshot=state.content_logprobs))
        if refusal:
            state.refusal_logprobs = [*(state.refusal_logprobs or []), *refusal]
            events.append(LogprobsRefusalDeltaEvent(refusal=refusal, snapshot=state.refusal_logprobs))
        return events

    def _check_finish(self, reason: str) -> None:
        """With something to parse, a cut answer raises at once (as the openai SDK's helper does)."""
        if not (isinstance(self._format, type) or self._strict) or reason not in ("length", "content_filter"):
            return
        error = LengthFinishReasonError if reason == "length" else ContentFilterFinishReasonError
        raise error(completion=self.snapshot())

    def _content_done(self, state: _Choice) -> list[Any]:
        events: list[Any] = []
        if state.content and "content" not in state.done:
            state.done.add("content")
            state.parsed = self._read(state)
            events.append(ContentDoneEvent[Any](content=state.content, parsed=state.parsed))
        if state.refusal is not None and "refusal" not in state.done:
            state.done.add("refusal")
            events.append(RefusalDoneEvent(refusal=state.refusal))
        if state.content_logprobs is not None and "logprobs" not in state.done:
            state.done.add("logprobs")
            events.append(LogprobsContentDoneEvent(content=state.content_logprobs))
        if state.refusal_logprobs is not None and "refusal_logprobs" not in state.done:
            state.done.add("refusal_logprobs")
            events.append(LogprobsRefusalDoneEvent(refusal=state.refusal_logprobs))
        return events

    def _read(self, state: _Choice) -> object:
        if not isinstance(self._format, type) or not state.content or state.refusal:
            return None
        message = self._message(state)
        return parse_completion(_one_choice(message), self._format, None).choices[0].message.parsed

    def _call_done(self, state: _Choice, index: int) -> list[Any]:
        key = f"call {index}"
        if key in state.done:
            return []
        state.done.add(key)
        call = state.calls[index]["function"]
        message = {"role": "assistant", "content": None, "tool_calls": [state.calls[index]]}
        parsed = parse_completion(_one_choice(message), None, self._tools).choices[0].message.tool_calls
        arguments = state.parsed_calls[index] = parsed[0].function.parsed_arguments if parsed else None
        return [FunctionToolCallArgumentsDoneEvent(
            name=call["name"], index=index, arguments=call["arguments"], parsed_arguments=arguments
        )]  # fmt: skip

    def _message(self, state: _Choice) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": state.content}
        if state.refusal is not None:
            message["refusal"] = state.refusal
        if state.reasoning is not None:
            message["reasoning"] = message["reasoning_content"] = state.reasoning
        if state.calls:
            message["tool_calls"] = [dict(call, function=dict(call["function"])) for call in state.calls]
        return message

    def _completion(self) -> ChatCompletion:
        choices = []
        for index, state in sorted(self._choices.items()):
            logprobs = None
            if state.content_logprobs is not None or state.refusal_logprobs is not None:
                logprobs = {"content": state.content_logprobs, "refusal": state.refusal_logprobs}
            choices.append({
                "index": index, "message": self._message(state), "logprobs": logprobs,
                "finish_reason": state.finish_reason or "stop",
            })  # fmt: skip
        body = {"object": "chat.completion", **self._head, "choices": choices, "usage": self._usage}
        return chat_completion(body)

    def snapshot(self) -> ParsedChatCompletion[Any]:
        """The answer so far as a `ParsedChatCompletion`: what is done is read, what is not yet is left unread."""
        parsed = parse_completion(self._completion(), None, None, check_finish=False)
        for choice in parsed.choices:
            state = self._choices[choice.index]
            choice.message.parsed = state.parsed
            for index, call in enumerate(choice.message.tool_calls or ()):
                call.function.parsed_arguments = state.parsed_calls.get(index)
        return parsed

    def final_completion(self) -> ParsedChatCompletion[T]:
        """The whole answer, as `chat.completions.parse` returns it (raises as it does on a cut answer)."""
        return parse_completion(self._completion(), self._format, self._tools)


def _read_partial(text: str) -> object:
    """JSON read so far (an unfinished string left out), or None while it is not JSON at all."""
    try:
        return from_json(text.encode(), allow_partial=True)
    except ValueError:
        return None


def _one_choice(message: dict[str, Any]) -> ChatCompletion:
    body = {"id": "", "object": "chat.completion", "created": 0, "model": "",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}  # fmt: skip
    return chat_completion(body)

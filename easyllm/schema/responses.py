"""Pydantic models shaped like openai's `openai.types.responses`: the `Response` object and its stream events.

`client.responses.create` returns a `Response` (with openai's `output_text` property), or a stream of events whose
`type` picks the model (`response.created`, `response.output_text.delta`, …). Field names, optionality and
`Literal`s follow openai-python, so `model_dump()` validates against `openai.types.responses.Response` and
`ResponseStreamEvent`; extra keys are kept, as openai's models keep them (a server's own additions, easyllm's
`usage.estimated`). Output items and events easyllm does not model (a server's hosted-tool items, say) are kept
as `OtherItem` / `OtherEvent` with every field.

Example:
    >>> r = response({"id": "resp_1", "object": "response", "created_at": 0, "model": "m",
    ...     "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
    ...                 "content": [{"type": "output_text", "text": "Hi", "annotations": []}]}],
    ...     "tools": [], "tool_choice": "auto", "parallel_tool_calls": True})
    >>> r.output_text
    'Hi'
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import Field, TypeAdapter

from easyllm.schema.types import BaseModel, validate

__all__ = [
    "EVENT_MODELS",
    "Event",
    "FunctionCallItem",
    "OtherEvent",
    "OtherItem",
    "OutputItem",
    "OutputMessage",
    "OutputRefusal",
    "OutputText",
    "ParsedFunctionCallItem",
    "ParsedOutputMessage",
    "ParsedOutputText",
    "ParsedResponse",
    "ReasoningItem",
    "ReasoningText",
    "Response",
    "ResponseError",
    "ResponseUsage",
    "event",
    "response",
]

ItemStatus = Literal["in_progress", "completed", "incomplete"]


class TopLogprob(BaseModel):
    """One alternative token at a position."""

    token: str
    bytes: list[int]
    logprob: float


class Logprob(BaseModel):
    """One generated token with its log-probability and the alternatives asked for."""

    token: str
    bytes: list[int]
    logprob: float
    top_logprobs: list[TopLogprob]


class OutputText(BaseModel):
    """A text part of an output message."""

    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[dict[str, Any]] = Field(default_factory=list)
    logprobs: list[Logprob] | None = None


class OutputRefusal(BaseModel):
    """A refusal part of an output message."""

    type: Literal["refusal"] = "refusal"
    refusal: str


class ReasoningText(BaseModel):
    """A reasoning item's text (a thinking model's reasoning)."""

    type: Literal["reasoning_text"] = "reasoning_text"
    text: str


class OutputMessage(BaseModel):
    """The assistant's message (`type="message"`)."""

    type: Literal["message"] = "message"
    id: str
    role: Literal["assistant"] = "assistant"
    status: ItemStatus
    content: list[OutputText | OutputRefusal]


class FunctionCallItem(BaseModel):
    """A call of one of the request's function tools (`type="function_call"`); `arguments` is a JSON string."""

    type: Literal["function_call"] = "function_call"
    id: str | None = None
    call_id: str
    name: str
    arguments: str
    status: ItemStatus | None = None


class Summary(BaseModel):
    """A summary part of a reasoning item."""

    type: Literal["summary_text"] = "summary_text"
    text: str


class ReasoningItem(BaseModel):
    """A reasoning item (`type="reasoning"`): the reasoning in `content`, `summary` empty unless the server gave one."""

    type: Literal["reasoning"] = "reasoning"
    id: str
    summary: list[Summary] = Field(default_factory=list)
    content: list[ReasoningText] | None = None
    encrypted_content: str | None = None
    status: ItemStatus | None = None


class OtherItem(BaseModel):
    """An output item of a type easyllm does not model (kept with every field)."""

    type: str


OutputItem = OutputMessage | FunctionCallItem | ReasoningItem | OtherItem
_ITEM_MODELS: dict[str, type[BaseModel]] = {
    "message": OutputMessage,
    "function_call": FunctionCallItem,
    "reasoning": ReasoningItem,
}


class InputTokensDetails(BaseModel):
    """Details of the input token count."""

    cached_tokens: int = 0
    cache_write_tokens: int = 0


class OutputTokensDetails(BaseModel):
    """Details of the output token count."""

    reasoning_tokens: int = 0


class ResponseUsage(BaseModel):
    """Token counts; `estimated` (an extra field) is True when easyllm had to estimate them."""

    input_tokens: int
    input_tokens_details: InputTokensDetails = InputTokensDetails()
    output_tokens: int
    output_tokens_details: OutputTokensDetails = OutputTokensDetails()
    total_tokens: int


class ResponseError(BaseModel):
    """Why a response failed."""

    code: str
    message: str


class IncompleteDetails(BaseModel):
    """Why a response is incomplete."""

    reason: Literal["max_output_tokens", "content_filter"] | None = None


class Response(BaseModel):
    """A model response (`object="response"`), as `openai.types.responses.Response`."""

    id: str
    object: Literal["response"] = "response"
    created_at: float
    status: Literal["completed", "failed", "in_progress", "cancelled", "queued", "incomplete"] | None = None
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: str | list[Any] | None = None
    max_output_tokens: int | None = None
    metadata: dict[str, str] | None = None
    model: str
    output: list[OutputItem]
    parallel_tool_calls: bool
    previous_response_id: str | None = None
    reasoning: dict[str, Any] | None = None
    temperature: float | None = None
    text: dict[str, Any] | None = None
    tool_choice: str | dict[str, Any]
    tools: list[dict[str, Any]]
    top_p: float | None = None
    truncation: Literal["auto", "disabled"] | None = None
    usage: ResponseUsage | None = None
    user: str | None = None

    @property
    def output_text(self) -> str:
        """The text of every `output_text` part of every output message, joined (as openai's property)."""
        return "".join(
            part.text
            for item in self.output
            if isinstance(item, OutputMessage)
            for part in item.content
            if isinstance(part, OutputText)
        )


# ---------------------------------------------------------------- `responses.parse`

T = TypeVar("T")


class ParsedOutputText(OutputText, Generic[T]):
    """An `output_text` part of a `parse` answer: `parsed` is its text read into the requested type."""

    parsed: T | None = None


class ParsedOutputMessage(OutputMessage, Generic[T]):
    """An output message of a `parse` answer."""

    content: list[ParsedOutputText[T] | OutputRefusal]  # type: ignore[assignment]


class ParsedFunctionCallItem(FunctionCallItem):
    """A function call of a `parse` answer: `parsed_arguments` read as its tool says (a model, or JSON)."""

    parsed_arguments: object = None


class ParsedResponse(Response, Generic[T]):
    """What `responses.parse` returns: a `Response` whose text parts carry `parsed`, and `output_parsed`."""

    output: list[
        ParsedOutputMessage[T] | ParsedFunctionCallItem | OutputMessage | FunctionCallItem | ReasoningItem | OtherItem
    ]

    @property
    def output_parsed(self) -> T | None:
        """The first text part's parsed value (as openai's property), None if no part was parsed."""
        for item in self.output:
            if isinstance(item, ParsedOutputMessage):
                for part in item.content:
                    if isinstance(part, ParsedOutputText) and part.parsed is not None:
                        return part.parsed
        return None


# ---------------------------------------------------------------- stream events


class _Event(BaseModel):
    sequence_number: int


class ResponseEvent(_Event):
    """`response.created`, `response.in_progress`, `response.completed`, `response.failed`, `response.incomplete`."""

    type: Literal[
        "response.created", "response.in_progress", "response.completed", "response.failed", "response.incomplete"
    ]
    response: Response


class OutputItemEvent(_Event):
    """`response.output_item.added` / `response.output_item.done`."""

    type: Literal["response.output_item.added", "response.output_item.done"]
    output_index: int
    item: OutputItem


class ContentPartEvent(_Event):
    """`response.content_part.added` / `response.content_part.done`."""

    type: Literal["response.content_part.added", "response.content_part.done"]
    item_id: str
    output_index: int
    content_index: int
    part: OutputText | OutputRefusal | ReasoningText


class EventTopLogprob(BaseModel):
    """An alternative token in a text event's log-probabilities."""

    token: str | None = None
    logprob: float | None = None


class EventLogprob(BaseModel):
    """A generated token's log-probability in a text event."""

    token: str
    logprob: float
    top_logprobs: list[EventTopLogprob] | None = None


class TextDeltaEvent(_Event):
    """`response.output_text.delta`: a piece of text."""

    type: Literal["response.output_text.delta"] = "response.output_text.delta"
    item_id: str
    output_index: int
    content_index: int
    delta: str
    logprobs: list[EventLogprob] = Field(default_factory=list)


class TextDoneEvent(_Event):
    """`response.output_text.done`: the whole text of a part."""

    type: Literal["response.output_text.done"] = "response.output_text.done"
    item_id: str
    output_index: int
    content_index: int
    text: str
    logprobs: list[EventLogprob] = Field(default_factory=list)


class ReasoningDeltaEvent(_Event):
    """`response.reasoning_text.delta`: a piece of reasoning."""

    type: Literal["response.reasoning_text.delta"] = "response.reasoning_text.delta"
    item_id: str
    output_index: int
    content_index: int
    delta: str


class ReasoningDoneEvent(_Event):
    """`response.reasoning_text.done`: the whole reasoning text."""

    type: Literal["response.reasoning_text.done"] = "response.reasoning_text.done"
    item_id: str
    output_index: int
    content_index: int
    text: str


class ArgumentsDeltaEvent(_Event):
    """`response.function_call_arguments.delta`: a piece of a function call's arguments."""

    type: Literal["response.function_call_arguments.delta"] = "response.function_call_arguments.delta"
    item_id: str
    output_index: int
    delta: str


class ArgumentsDoneEvent(_Event):
    """`response.function_call_arguments.done`: a function call's whole arguments."""

    type: Literal["response.function_call_arguments.done"] = "response.function_call_arguments.done"
    item_id: str
    output_index: int
    arguments: str
    name: str | None = None


class ErrorEvent(_Event):
    """`error`: an error the server reported in the stream."""

    type: Literal["error"] = "error"
    code: str | None = None
    message: str
    param: str | None = None


class OtherEvent(_Event):
    """An event of a type easyllm does not model (kept with every field)."""

    type: str


Event = (
    ResponseEvent
    | OutputItemEvent
    | ContentPartEvent
    | TextDeltaEvent
    | TextDoneEvent
    | ReasoningDeltaEvent
    | ReasoningDoneEvent
    | ArgumentsDeltaEvent
    | ArgumentsDoneEvent
    | ErrorEvent
    | OtherEvent
)

#: The model of each event type easyllm builds or normalises.
EVENT_MODELS: dict[str, type[_Event]] = {
    **{f"response.{name}": ResponseEvent for name in ("created", "in_progress", "completed", "failed", "incomplete")},
    "response.output_item.added": OutputItemEvent,
    "response.output_item.done": OutputItemEvent,
    "response.content_part.added": ContentPartEvent,
    "response.content_part.done": ContentPartEvent,
    "response.output_text.delta": TextDeltaEvent,
    "response.output_text.done": TextDoneEvent,
    "response.reasoning_text.delta": ReasoningDeltaEvent,
    "response.reasoning_text.done": ReasoningDoneEvent,
    "response.function_call_arguments.delta": ArgumentsDeltaEvent,
    "response.function_call_arguments.done": ArgumentsDoneEvent,
    "error": ErrorEvent,
}

_OUTPUT: TypeAdapter[Any] = TypeAdapter(list[dict[str, Any]])


def _item(value: dict[str, Any]) -> BaseModel:
    return validate(_ITEM_MODELS.get(str(value.get("type")), OtherItem), value)


def response(value: dict[str, Any]) -> Response:
    """Validate a whole response (output items by their `type`)."""
    data = dict(value)
    data["output"] = [_item(item) for item in _OUTPUT.validate_python(data.get("output", []))]
    return validate(Response, data)


def event(value: dict[str, Any]) -> Event:
    """Validate one stream event, by its `type`."""
    data = value
    if isinstance(data.get("response"), dict) or isinstance(data.get("item"), dict):
        data = dict(value)
        if "response" in data and isinstance(data["response"], dict):
            data["response"] = response(data["response"])
        if "item" in data and isinstance(data["item"], dict):
            data["item"] = _item(data["item"])
    kind = data.get("type")
    model = EVENT_MODELS.get(kind if type(kind) is str else str(kind), OtherEvent)
    return validate(model, data)  # type: ignore[return-value]

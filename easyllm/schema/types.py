"""Pydantic models shaped like the openai>=1 types, returned by `easyllm.HuggingFace` and `AsyncHuggingFace`.

Field names, optionality and `Literal`s follow openai-python's `openai.types` so `model_dump()` validates against
them; extra keys are kept (like openai's own models), which is where easyllm's `usage.estimated` flag lives.

Answers and stream chunks are validated (pydantic-core does it in a few microseconds a chunk, less than assembling
the models in Python would cost); embedding answers take a lean path (`_embedding`, `_lean`) that does not walk
the vectors.

Example:
    >>> chunk = chat_chunk({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
    ...     "choices": [{"index": 0, "delta": {"content": "Hi"}, "logprobs": None, "finish_reason": None}]})
    >>> chunk.choices[0].delta.content
    'Hi'
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar, cast

from pydantic import BaseModel as _PydanticModel
from pydantic import ConfigDict

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionTokenLogprob",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "ChoiceLogprobs",
    "ChunkChoice",
    "Completion",
    "CompletionChoice",
    "CompletionLogprobs",
    "CompletionUsage",
    "CreateEmbeddingResponse",
    "Embedding",
    "EmbeddingUsage",
    "Function",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedFunction",
    "ParsedFunctionToolCall",
    "TopLogprob",
    "chat_chunk",
    "chat_completion",
    "completion",
    "completion_chunk",
    "embedding_response",
    "embeddings_checked",
    "validate",
]

ChatFinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]


class BaseModel(_PydanticModel):
    """Base of every response model: extra fields are kept, as in openai's models."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())


M = TypeVar("M", bound=_PydanticModel)


def validate(cls: type[M], value: Any) -> M:
    """`cls.model_validate(value)`, asking pydantic-core's validator directly with the same defaults.

    `model_validate` passes six keyword arguments down, which costs about 3 µs a call: a third of a stream chunk's
    validation.

    Example:
        >>> validate(CompletionUsage, {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}).total_tokens
        3
    """
    return cast("M", cls.__pydantic_validator__.validate_python(value))


class CompletionUsage(BaseModel):
    """Token counts; `estimated` (an extra field) is True when easyllm had to estimate them."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class TopLogprob(BaseModel):
    """One alternative token at a position."""

    token: str
    logprob: float
    bytes: list[int] | None = None


class ChatCompletionTokenLogprob(BaseModel):
    """One generated token with its log-probability and the alternatives asked for."""

    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob]


class ChoiceLogprobs(BaseModel):
    """Log-probabilities of a chat choice."""

    content: list[ChatCompletionTokenLogprob] | None = None
    refusal: list[ChatCompletionTokenLogprob] | None = None


class Function(BaseModel):
    """The function a tool call invokes; `arguments` is a JSON string."""

    name: str
    arguments: str


class ChatCompletionMessageToolCall(BaseModel):
    """A tool call in an assistant message."""

    id: str
    type: Literal["function"] = "function"
    function: Function


class ChatCompletionMessage(BaseModel):
    """The assistant's message; a reasoning model's reasoning is in `reasoning` and `reasoning_content` alike."""

    role: Literal["assistant"] = "assistant"
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None


class Choice(BaseModel):
    """One sample of a chat completion."""

    index: int
    message: ChatCompletionMessage
    logprobs: ChoiceLogprobs | None = None
    finish_reason: ChatFinishReason


class ChatCompletion(BaseModel):
    """A chat completion (`object="chat.completion"`)."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    system_fingerprint: str | None = None
    choices: list[Choice]
    usage: CompletionUsage | None = None


T = TypeVar("T")


class ParsedFunction(Function):
    """A tool call's function with `parsed_arguments`: the arguments read into the tool's model (`parse`)."""

    parsed_arguments: object = None


class ParsedFunctionToolCall(ChatCompletionMessageToolCall):
    """A tool call of a `parse` answer."""

    function: ParsedFunction


class ParsedChatCompletionMessage(ChatCompletionMessage, Generic[T]):
    """The message of a `parse` answer: `parsed` is its content read into the requested type (None on a refusal)."""

    parsed: T | None = None
    tool_calls: list[ParsedFunctionToolCall] | None = None  # type: ignore[assignment]


class ParsedChoice(Choice, Generic[T]):
    """A choice of a `parse` answer."""

    message: ParsedChatCompletionMessage[T]


class ParsedChatCompletion(ChatCompletion, Generic[T]):
    """What `chat.completions.parse` returns: a `ChatCompletion` whose messages carry `parsed`."""

    choices: list[ParsedChoice[T]]  # type: ignore[assignment]


class ChoiceDeltaToolCallFunction(BaseModel):
    """A fragment of a streamed tool call's function."""

    name: str | None = None
    arguments: str | None = None


class ChoiceDeltaToolCall(BaseModel):
    """A fragment of a streamed tool call."""

    index: int
    id: str | None = None
    type: Literal["function"] | None = None
    function: ChoiceDeltaToolCallFunction | None = None


class ChoiceDelta(BaseModel):
    """What one chunk adds to the message."""

    role: Literal["developer", "system", "user", "assistant", "tool"] | None = None
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ChoiceDeltaToolCall] | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None


class ChunkChoice(BaseModel):
    """One choice of a stream chunk."""

    index: int
    delta: ChoiceDelta
    logprobs: ChoiceLogprobs | None = None
    finish_reason: ChatFinishReason | None = None


class ChatCompletionChunk(BaseModel):
    """A chat stream chunk (`object="chat.completion.chunk"`)."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    system_fingerprint: str | None = None
    choices: list[ChunkChoice]
    usage: CompletionUsage | None = None


class CompletionLogprobs(BaseModel):
    """Legacy completion log-probabilities."""

    tokens: list[str] | None = None
    token_logprobs: list[float | None] | None = None
    top_logprobs: list[dict[str, float | None]] | None = None
    text_offset: list[int] | None = None


class CompletionChoice(BaseModel):
    """One sample of a text completion; in a stream, `finish_reason` is None until the last chunk."""

    index: int
    text: str
    logprobs: CompletionLogprobs | None = None
    finish_reason: Literal["stop", "length", "content_filter"] | None = None


class Completion(BaseModel):
    """A text completion or one chunk of its stream (`object="text_completion"`)."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    system_fingerprint: str | None = None
    choices: list[CompletionChoice]
    usage: CompletionUsage | None = None


class Embedding(BaseModel):
    """One input's vector (a base64 string with `encoding_format="base64"`).

    The fields are in the order of the wire's JSON items (`object`, `index`, `embedding`), as `model_dump` gives them.
    """

    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


#: pydantic's own slot for a model's set of fields given (a member descriptor of its `BaseModel`).
_FIELDS_SET_SLOT: Any = _PydanticModel.__dict__["__pydantic_fields_set__"]


class _FieldsSetOnDemand:
    """`Embedding.__pydantic_fields_set__`: made on first use for a model whose every field was given.

    `_embedding` leaves the slot empty (every field is set, by the condition of adopting), so a vector's
    model carries no set of its own until something asks for it: one object fewer per vector for the garbage
    collector to count. Reading, setting and deleting otherwise go to pydantic's own slot, as without it.
    """

    def __get__(self, model: _PydanticModel | None, owner: type[_PydanticModel] | None = None) -> Any:
        if model is None:
            return self
        try:
            return _FIELDS_SET_SLOT.__get__(model, owner)
        except AttributeError:
            fields = set(type(model).model_fields)
            _FIELDS_SET_SLOT.__set__(model, fields)
            return fields

    def __set__(self, model: _PydanticModel, value: set[str]) -> None:
        _FIELDS_SET_SLOT.__set__(model, value)

    def __delete__(self, model: _PydanticModel) -> None:
        _FIELDS_SET_SLOT.__delete__(model)


Embedding.__pydantic_fields_set__ = _FieldsSetOnDemand()  # type: ignore[assignment]


class EmbeddingUsage(BaseModel):
    """Tokens read by an embedding call."""

    prompt_tokens: int
    total_tokens: int


class CreateEmbeddingResponse(BaseModel):
    """The answer of `embeddings.create` (`object="list"`)."""

    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


# ---------------------------------------------------------------- converters (the `convert` callables of calls.py)


def chat_completion(value: dict[str, Any]) -> ChatCompletion:
    """Validate a whole chat completion."""
    return validate(ChatCompletion, value)


def completion(value: dict[str, Any]) -> Completion:
    """Validate a whole text completion."""
    return validate(Completion, value)


def embedding_response(value: dict[str, Any]) -> CreateEmbeddingResponse:
    """Validate an embedding answer."""
    return validate(CreateEmbeddingResponse, value)


def embeddings_checked(value: dict[str, Any]) -> CreateEmbeddingResponse:
    """Build an embedding answer whose items `easyllm.protocol.embeddings` has already checked, without copying.

    Items are dicts with an int `index` and a vector that is a list of floats or a base64 string (or `Embedding`s
    already built, when batches are merged); validating 10,000 x 384 floats again would cost more than reading
    them. The items are handed over: a plain dict that names every field in `Embedding`'s order (what the protocol
    code builds) becomes the model's own `__dict__` and its field set is made only if asked for, so a vector costs
    one model, not a second dict and a set too (fewer objects for the garbage collector to count and walk). The
    usage is validated (it is small).
    """
    data = [_embedding(item) for item in value["data"]]
    usage = validate(EmbeddingUsage, value["usage"])
    return _lean(CreateEmbeddingResponse, {"object": "list", "data": data, "model": value["model"], "usage": usage})


L = TypeVar("L", bound=BaseModel)
_DEFAULTS: dict[type[BaseModel], dict[str, Any]] = {}


def _lean(cls: type[L], values: dict[str, Any]) -> L:
    """`cls.model_construct(**values)` for values that name only fields, at a third of its cost.

    Sets exactly what `model_construct` sets (field values with defaults filled in, the set of fields given, no
    extras, no private attributes); anything else goes through `model_construct` itself.
    """
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        defaults = _DEFAULTS[cls] = {n: f.get_default(call_default_factory=True) for n, f in cls.model_fields.items()}
    if not values.keys() <= defaults.keys():
        return cast("L", cls.model_construct(**values))
    model = cls.__new__(cls)
    _set_attribute(model, "__dict__", {**defaults, **values})
    _FIELDS_SET_SLOT.__set__(model, set(values))
    _EXTRA_SLOT.__set__(model, {})
    _PRIVATE_SLOT.__set__(model, None)
    return model


_set_attribute = object.__setattr__
_new_model = object.__new__
#: pydantic's slots for a model's extra fields and private attributes (member descriptors of its `BaseModel`).
_EXTRA_SLOT: Any = _PydanticModel.__dict__["__pydantic_extra__"]
_PRIVATE_SLOT: Any = _PydanticModel.__dict__["__pydantic_private__"]
_EMBEDDING_FIELDS = tuple(Embedding.model_fields)


def _embedding(item: Any) -> Embedding:
    """One checked `data` item as an `Embedding`, adopting a plain dict that names every field in order.

    The adopted dict becomes the model's own `__dict__` (the caller hands it over) and the field set is made only if
    asked for (`_FieldsSetOnDemand`): a vector costs one model, not a second dict and a set too. Anything else (an
    `Embedding` already built, when batches are merged, is kept) goes through `_lean`. This runs once per vector, so
    it sets pydantic's slots through their descriptors directly (a third of `_lean`'s cost).
    """
    if type(item) is Embedding:
        return item
    if type(item) is not dict or tuple(item) != _EMBEDDING_FIELDS:
        return _lean(Embedding, item)
    model = _new_model(Embedding)
    _set_attribute(model, "__dict__", item)
    _EXTRA_SLOT.__set__(model, {})
    _PRIVATE_SLOT.__set__(model, None)
    return model


def chat_chunk(value: dict[str, Any]) -> ChatCompletionChunk:
    """Validate a streamed chat chunk (pydantic-core builds it faster than Python code could assemble it)."""
    return validate(ChatCompletionChunk, value)


def completion_chunk(value: dict[str, Any]) -> Completion:
    """Validate a streamed text-completion chunk."""
    return validate(Completion, value)

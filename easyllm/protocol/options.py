"""Chat and text options for every route: OpenAI's sampling options plus tools and structured output.

`GenerationOptions` (params.py) holds what TGI's native routes understand; `ChatOptions` adds what OpenAI-compatible
servers (and TGI's Messages API) take: `tools`, `tool_choice`, `response_format`, `parallel_tool_calls`,
`max_completion_tokens`, `reasoning_effort`. What TGI's native routes refuse is `check_native_options`, which
the TGI dialect applies; both shells share all of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from easyllm.errors import InvalidParameterError
from easyllm.protocol import params

__all__ = ["ChatOptions", "check_native_options", "native_grammar", "parse_chat_options"]

#: TGI's default `--max-top-n-tokens`.
MAX_TOP_N_TOKENS = 5


class ChatOptions(params.GenerationOptions):
    """The options of one chat or text call on any route (validated against OpenAI's ranges)."""

    max_completion_tokens: Annotated[int | None, Field(ge=1, description="OpenAI's newer name of max_tokens.")] = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    reasoning_effort: Annotated[
        Literal["minimal", "low", "medium", "high"] | None,
        Field(description="How much a reasoning model thinks (passed through to servers that take it)."),
    ] = None
    top_logprobs: Annotated[int | None, Field(ge=0, le=20, description="Alternatives per token.")] = None


def _validate(values: Mapping[str, Any]) -> ChatOptions:
    try:
        return ChatOptions.model_validate(dict(values))
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(part) for part in first["loc"][:1]) or None
        if first["type"] == "extra_forbidden":
            raise InvalidParameterError("is not a parameter easyllm knows", param=loc) from None
        raise InvalidParameterError(f"is invalid: {first['msg']}", param=loc) from None


def _check_response_format(value: Mapping[str, Any] | None) -> None:
    if value is None:
        return
    kind = value.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        raise InvalidParameterError(
            f"type must be 'text', 'json_object' or 'json_schema', got {kind!r}", param="response_format"
        )
    if kind == "json_schema" and not isinstance((value.get("json_schema") or {}).get("schema"), Mapping):
        raise InvalidParameterError(
            "json_schema needs {'json_schema': {'name': ..., 'schema': {...}}}", param="response_format"
        )


def check_native_options(options: ChatOptions) -> ChatOptions:
    """Refuse what TGI's native routes cannot do (before anything is sent); return the options unchanged."""
    if options.presence_penalty:
        raise InvalidParameterError(
            "is not supported by TGI's native routes (they have no presence penalty); use frequency_penalty",
            param="presence_penalty",
        )
    if options.logit_bias:
        raise InvalidParameterError("is not supported by TGI's native routes", param="logit_bias")
    if isinstance(options.logprobs, int) and not isinstance(options.logprobs, bool) and not 0 <= options.logprobs <= 5:
        raise InvalidParameterError("must be between 0 and 5 (TGI's max_top_n_tokens)", param="logprobs")
    if options.top_logprobs is not None and options.top_logprobs > MAX_TOP_N_TOKENS:
        raise InvalidParameterError("must be at most 5 on TGI's native routes (max_top_n_tokens)", param="top_logprobs")
    if options.tools or options.tool_choice:
        raise InvalidParameterError(
            "needs a server with the Messages API (unset prompt_builder, or use an OpenAI-compatible .../v1 base)",
            param="tools",
        )
    if options.response_format and options.response_format.get("type") == "json_object":
        raise InvalidParameterError(
            "json_object needs the Messages API; on TGI's native route use json_schema (sent as TGI's grammar)",
            param="response_format",
        )
    if options.reasoning_effort is not None:
        raise InvalidParameterError(
            "needs a chat route that takes it (TGI's native route has none)", param="reasoning_effort"
        )
    return options


def parse_chat_options(values: Mapping[str, Any]) -> ChatOptions:
    """Validate raw keyword arguments; raise `InvalidParameterError` naming the first bad field.

    Options given as plain scalars (numbers, strings, booleans, None: the usual `max_tokens=…, temperature=…`)
    are validated once per distinct set, then remembered (`ChatOptions` is frozen); errors are never
    remembered, so a bad value is refused by the same validation every time.

    Example:
        >>> parse_chat_options({"max_completion_tokens": 8}).max_tokens
        8
    """
    key = _scalar_key(values)
    if key is None:
        return _parse(values)
    return _parse_scalars(key)


_SCALAR_TYPES = frozenset({int, float, str, bool, type(None)})


def _scalar_key(values: Mapping[str, Any]) -> tuple[tuple[str, type, Any], ...] | None:
    """A hashable key for options that are all plain scalars (the type is part of it: `True` is not `1`), or None."""
    key = []
    for name, value in values.items():
        kind = type(value)
        if kind not in _SCALAR_TYPES:
            return None
        key.append((name, kind, value))
    return tuple(key)


@lru_cache(maxsize=256)
def _parse_scalars(key: tuple[tuple[str, type, Any], ...]) -> ChatOptions:
    return _parse({name: value for name, _, value in key})


def _parse(values: Mapping[str, Any]) -> ChatOptions:
    if isinstance(values.get("response_format"), type):  # what openai>=1 code passes to `parse`
        raise InvalidParameterError(
            "is a type: pass it to `client.chat.completions.parse(response_format=...)`, which sends its schema and "
            "reads the answer into it (`create` takes a response_format dict)",
            param="response_format",
        )
    options = _validate(values)
    _check_response_format(options.response_format)
    if options.max_completion_tokens is not None and options.max_tokens is None:
        options = options.model_copy(update={"max_tokens": options.max_completion_tokens})
    return options


def native_grammar(response_format: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """TGI's `grammar` parameter for OpenAI's `response_format` (json_schema only), or None.

    Example:
        >>> native_grammar({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}})
        {'type': 'json', 'value': {'type': 'object'}}
    """
    if not response_format or response_format.get("type") != "json_schema":
        return None
    return {"type": "json", "value": response_format["json_schema"]["schema"]}

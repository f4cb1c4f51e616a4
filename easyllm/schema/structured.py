"""Structured output with Python types: what `chat.completions.parse` and `responses.parse` send and read.

openai>=1 code asks for a pydantic model and gets it back: `response_format=Model` becomes a strict `json_schema`
response format (every property required, no other properties: the answer always fills the model), and the
answer's content is read into `Model` (`message.parsed`). Tools made by `pydantic_function_tool(Model)` have their
arguments read into their model (`parsed_arguments`); other strict function tools get their arguments as JSON.
`responses.parse` does the same with `text_format` (sent as `text.format`, read into `parsed` / `output_parsed`).
Each server's dialect then sends the schema in its own form (TGI's grammar, llama-cpp-python's `schema`, OpenAI's
form for vLLM, SGLang, llama.cpp's server and the router), as for any `json_schema` response format.

Example:
    >>> from pydantic import BaseModel
    >>> class City(BaseModel):
    ...     name: str
    ...     population: int | None = None
    >>> fmt = response_format_param(City)
    >>> fmt["json_schema"]["schema"]["required"], fmt["json_schema"]["schema"]["additionalProperties"]
    (['name', 'population'], False)
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel, TypeAdapter

from easyllm.errors import ContentFilterFinishReasonError, InvalidParameterError, LengthFinishReasonError
from easyllm.schema.responses import (
    FunctionCallItem,
    OutputMessage,
    OutputText,
    ParsedFunctionCallItem,
    ParsedOutputMessage,
    ParsedOutputText,
    ParsedResponse,
    Response,
)
from easyllm.schema.types import ChatCompletion, ParsedChatCompletion, validate

__all__ = [
    "PydanticFunctionTool",
    "check_parse_tools",
    "fields_of",
    "final_answer_format",
    "parse_completion",
    "parse_response",
    "pydantic_function_tool",
    "pydantic_responses_function_tool",
    "read_json_into",
    "response_format_param",
    "strict_json_schema",
    "text_param",
]

T = TypeVar("T")


class PydanticFunctionTool(dict[str, Any]):
    """A function definition (a plain dict on the wire) that remembers the model its arguments are read into."""

    def __init__(self, definition: Mapping[str, Any], model: type[BaseModel]) -> None:
        super().__init__(definition)
        self.model = model


def pydantic_function_tool(
    model: type[BaseModel], *, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """A strict function tool whose parameters are `model`'s JSON schema (openai's `pydantic_function_tool`).

    With `chat.completions.parse`, a call of this tool comes back with `function.parsed_arguments`, a `model`.

    Example:
        >>> from pydantic import BaseModel
        >>> class GetWeather(BaseModel):
        ...     '''Today's weather in a city.'''
        ...     city: str
        >>> tool = pydantic_function_tool(GetWeather)
        >>> tool["function"]["name"], tool["function"]["strict"], tool["function"]["description"]
        ('GetWeather', True, "Today's weather in a city.")
    """
    definition: dict[str, Any] = {
        "name": name or model.__name__,
        "strict": True,
        "parameters": strict_json_schema(model),
    }
    text = description if description is not None else model.__doc__
    if text is not None:
        definition["description"] = text
    return {"type": "function", "function": PydanticFunctionTool(definition, model)}


def pydantic_responses_function_tool(
    model: type[BaseModel], *, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """`pydantic_function_tool` in the Responses API's flat shape (openai's `pydantic_responses_function_tool`).

    With `responses.parse`, a call of this tool comes back with `parsed_arguments`, a `model`.

    Example:
        >>> from pydantic import BaseModel
        >>> class GetWeather(BaseModel):
        ...     city: str
        >>> tool = pydantic_responses_function_tool(GetWeather)
        >>> tool["type"], tool["name"], tool["strict"], tool.model.__name__
        ('function', 'GetWeather', True, 'GetWeather')
    """
    function = pydantic_function_tool(model, name=name, description=description)["function"]
    return PydanticFunctionTool({"type": "function", **function}, model)


def strict_json_schema(target: object) -> dict[str, Any]:
    """The JSON schema of a pydantic model (or any type pydantic reads: a dataclass, a TypedDict) in strict form.

    Every object lists all its properties as required and allows no others (what OpenAI's strict mode asks, and
    what makes a constrained decoder fill the whole model); a `$ref` with keys beside it is replaced by what it
    points to, merged with those keys; a `None` default is dropped (the field stays nullable).
    """
    if isinstance(target, type) and issubclass(target, BaseModel):
        schema = target.model_json_schema()
    else:
        try:
            schema = TypeAdapter[Any](cast(Any, target)).json_schema()
        except Exception as err:  # pydantic's errors for a type it cannot describe vary by type
            raise InvalidParameterError(
                f"must be a pydantic model, a dataclass or another type pydantic can describe, got {target!r}",
                param="response_format",
            ) from err
    return cast("dict[str, Any]", _strict(schema, schema))


def _strict(node: Any, root: dict[str, Any]) -> Any:
    if not isinstance(node, dict):
        return node
    for key in ("$defs", "definitions", "properties"):
        table = node.get(key)
        if isinstance(table, dict):
            for name, sub in table.items():
                table[name] = _strict(sub, root)
    if node.get("type") == "object":
        node.setdefault("additionalProperties", False)
        if isinstance(node.get("properties"), dict):  # (a mapping type has none: nothing to require)
            node["required"] = list(node["properties"])
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict):
            node[key] = _strict(node[key], root)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if isinstance(node.get(key), list):
            node[key] = [_strict(sub, root) for sub in node[key]]
    if isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
        node.update(node.pop("allOf")[0])
    if "default" in node and node["default"] is None:
        del node["default"]
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        del node["$ref"]
        node.update({**_strict(_resolve(ref, root), root), **node})  # the definition made strict here too
    return node


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise InvalidParameterError(f"has a $ref outside the schema ({ref!r})", param="response_format")
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part) if isinstance(target, dict) else None
    if not isinstance(target, dict):
        raise InvalidParameterError(f"has a $ref that points nowhere ({ref!r})", param="response_format")
    return copy.deepcopy(target)


def response_format_param(response_format: object) -> dict[str, Any]:
    """The `response_format` to send: a dict as given, a type as a strict `json_schema` named after it."""
    if isinstance(response_format, Mapping):
        return dict(response_format)
    if not isinstance(response_format, type):
        raise InvalidParameterError(
            f"must be a pydantic model (or another type) or a response_format dict, got {response_format!r}",
            param="response_format",
        )
    schema = strict_json_schema(response_format)
    return {
        "type": "json_schema",
        "json_schema": {"name": response_format.__name__, "schema": schema, "strict": True},
    }


def check_parse_tools(tools: object) -> list[Any]:
    """`tools` as a list, refused before sending unless each is a strict function tool (whose calls `parse` reads)."""
    if not isinstance(tools, Iterable) or isinstance(tools, str | bytes | Mapping):
        raise InvalidParameterError("must be a list of tools", param="tools")
    tools = list(tools)
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(tool, Mapping) or tool.get("type") != "function" or not isinstance(function, Mapping):
            raise InvalidParameterError(f"can only hold function tools with `parse`, got {tool!r}", param="tools")
        if function.get("strict") is not True:
            raise InvalidParameterError(
                f"`{function.get('name')}` is not strict: `parse` reads the arguments of strict function tools "
                "only (set `strict: True`, or make it with `easyllm.pydantic_function_tool`)",
                param="tools",
            )
    return tools


def parse_completion(
    completion: ChatCompletion,
    response_format: object,
    tools: Iterable[Mapping[str, Any]] | None,
    *,
    check_finish: bool = True,
) -> ParsedChatCompletion[Any]:
    """`completion` with its messages' content read into `response_format` and its tool calls' arguments read.

    The content is read when `response_format` is a type and the message has content and no refusal
    (`message.parsed`); each tool call gets `function.parsed_arguments` (`_arguments`). An answer cut by the token
    limit or the content filter raises instead, as the openai SDK does (unless `check_finish` is false: a stream's
    snapshot is made as it is).
    """
    functions = {
        tool["function"].get("name"): tool["function"]
        for tool in tools or ()
        if isinstance(tool.get("function"), Mapping)
    }
    data = completion.model_dump()
    for choice, raw in zip(completion.choices, data["choices"], strict=True):
        if check_finish and choice.finish_reason == "length":
            raise LengthFinishReasonError(completion=completion)
        if check_finish and choice.finish_reason == "content_filter":
            raise ContentFilterFinishReasonError(completion=completion)
        message, out = choice.message, raw["message"]
        if isinstance(response_format, type) and message.content and not message.refusal:
            out["parsed"] = read_json_into(response_format, message.content)
        for call, raw_call in zip(message.tool_calls or (), out.get("tool_calls") or (), strict=True):
            raw_call["function"]["parsed_arguments"] = _arguments(
                functions.get(call.function.name), call.function.arguments
            )
    return validate(ParsedChatCompletion, data)


def read_json_into(target: type[T], content: str) -> T:
    """JSON text read into a type: a pydantic model's own `model_validate_json`, else a `TypeAdapter`'s."""
    if issubclass(target, BaseModel):
        return target.model_validate_json(content)
    return TypeAdapter(target).validate_json(content)


def _arguments(function: Mapping[str, Any] | None, arguments: str) -> object:
    """A call's arguments read into its tool's model (ours or openai's `PydanticFunctionTool`), else as JSON.

    As JSON only for a strict tool; None for a tool the request did not name or a tool that is not strict.
    """
    model = getattr(function, "model", None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_validate_json(arguments)
    if function is not None and function.get("strict") is True:
        return json.loads(arguments)
    return None


# ---------------------------------------------------------------- the Responses API


def text_param(text: Mapping[str, Any] | None, text_format: object) -> dict[str, Any]:
    """The Responses API's `text` with `format` set to `text_format` as a strict `json_schema` format."""
    out = dict(text or {})
    if "format" in out:
        raise InvalidParameterError("and `text_format` cannot both be given: use one", param="text.format")
    spec = response_format_param(text_format)["json_schema"]
    out["format"] = {"type": "json_schema", "name": spec["name"], "schema": spec["schema"], "strict": True}
    return out


def parse_response(
    response: Response, text_format: object, tools: Iterable[Mapping[str, Any]] | None
) -> ParsedResponse[Any]:
    """`response` with its final text read into `text_format` and its function calls' arguments read.

    Each `output_text` part of a message gets `parsed` when `text_format` is a type (a message whose `phase` is
    not the final answer is left unread, as the openai SDK leaves it); each function call gets `parsed_arguments`
    (`_arguments`, with the request's tools by name).
    """
    functions = {tool.get("name"): tool for tool in tools or () if tool.get("type") == "function"}
    output: list[Any] = []
    for item in response.output:
        if isinstance(item, OutputMessage):
            target = final_answer_format(text_format, item)
            content = [
                validate(
                    ParsedOutputText,
                    {**fields_of(part), "parsed": None if target is None else read_json_into(target, part.text)},
                )
                if isinstance(part, OutputText)
                else part
                for part in item.content
            ]
            output.append(validate(ParsedOutputMessage, {**fields_of(item), "content": content}))
        elif isinstance(item, FunctionCallItem):
            parsed = _arguments(functions.get(item.name), item.arguments)
            output.append(validate(ParsedFunctionCallItem, {**fields_of(item), "parsed_arguments": parsed}))
        else:
            output.append(item)
    return validate(ParsedResponse, {**fields_of(response), "output": output})


def final_answer_format(text_format: object, message: OutputMessage) -> type[Any] | None:
    """The type a message's text is read into: `text_format`, if it is a type and the message is the final answer.

    A message whose `phase` says it is not the final answer is left unread, as the openai SDK leaves it.
    """
    phase = (message.__pydantic_extra__ or {}).get("phase")
    return text_format if isinstance(text_format, type) and phase in (None, "final_answer") else None


def fields_of(model: BaseModel) -> dict[str, Any]:
    """A model's fields and extra keys, values as they are (nested models stay models)."""
    return {**model.__dict__, **(model.__pydantic_extra__ or {})}

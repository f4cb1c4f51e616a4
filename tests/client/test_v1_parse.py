"""`client.chat.completions.parse`: Python types in, a strict JSON schema on the wire, parsed objects out."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal

import openai
import pydantic
import pytest
from openai.lib._pydantic import to_strict_json_schema
from openai.types.chat import ParsedChatCompletion as OpenAIParsedChatCompletion

import easyllm
from easyllm import errors
from easyllm.schema.structured import strict_json_schema
from easyllm.schema.types import ParsedChatCompletion
from tests.client import v1_helpers
from tests.client.fake_tgi import reply
from tests.client.v1_helpers import MESSAGES, chat_body, dump

forget_routes = v1_helpers.forget_routes
forget_responses_routes = v1_helpers.forget_responses_routes
make_v1 = v1_helpers.make_v1
v1_shell = v1_helpers.v1_shell


@pytest.fixture(autouse=True)
def _forget_responses_routes(forget_responses_routes: None) -> None:
    """Each test starts with no server known to have (or lack) `/responses`."""


class Address(pydantic.BaseModel):
    street: str
    city: str = pydantic.Field(description="the city's name")


class Person(pydantic.BaseModel):
    """Someone with a home."""

    name: str
    age: int | None = None
    home: Address = pydantic.Field(description="where they live")
    tags: list[Literal["a", "b"]] = []
    previous: list[Address] | None = None


PERSON = {"name": "Ada", "age": None, "home": {"street": "1 Rue", "city": "Paris"}, "tags": ["a"], "previous": None}


@dataclasses.dataclass
class Point:
    x: int
    y: int


class GetWeather(pydantic.BaseModel):
    """Today's weather in a city."""

    city: str
    unit: Literal["c", "f"]


def tool_call(name: str, arguments: str, id: str = "call_1") -> dict[str, Any]:
    return {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}


class Inner(pydantic.BaseModel):
    value: int


class Middle(pydantic.BaseModel):
    inner: Inner = pydantic.Field(description="a $ref with a description, inside a definition")
    extra: dict[str, int] = {}


class Outer(pydantic.BaseModel):
    middle: Middle
    many: list[Middle] | None = None


@pytest.mark.parametrize("model", [Person, Address, GetWeather, Outer])
def test_the_schema_sent_is_what_the_openai_sdk_sends(model: type[pydantic.BaseModel]) -> None:
    assert strict_json_schema(model) == to_strict_json_schema(model)
    tool = easyllm.pydantic_function_tool(model)
    assert tool == openai.pydantic_function_tool(model)
    assert tool["function"].model is model


def test_a_model_comes_back_parsed_and_the_schema_goes_out_strict(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body(json.dumps(PERSON), usage={"prompt_tokens": 3, "completion_tokens": 9,
                                                                           "total_tokens": 12})))  # fmt: skip
    r = run("chat.completions", method="parse", model="m", messages=MESSAGES, response_format=Person, max_tokens=64)
    assert isinstance(r, ParsedChatCompletion)
    parsed = r.choices[0].message.parsed
    assert isinstance(parsed, Person) and parsed == Person.model_validate(PERSON)
    assert r.choices[0].message.content == json.dumps(PERSON) and r.usage is not None and r.usage.total_tokens == 12
    body = run.bodies()[0]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Person", "schema": to_strict_json_schema(Person), "strict": True},
    }
    assert body["max_tokens"] == 64 and not body.get("stream")
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["name", "age", "home", "tags", "previous"] and schema["additionalProperties"] is False
    assert schema["$defs"]["Address"]["required"] == ["street", "city"]
    # the openai SDK reads the answer into its own parsed type
    theirs = OpenAIParsedChatCompletion[Person].model_validate(dump(r))
    assert theirs.choices[0].message.parsed == parsed


def test_create_with_a_type_says_to_use_parse_before_sending(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body("{}")))
    with pytest.raises(errors.InvalidParameterError, match=r"chat\.completions\.parse") as info:
        run("chat.completions", messages=MESSAGES, response_format=Person)
    assert info.value.param == "response_format" and run.server.requests == []


def test_the_beta_namespace_of_older_openai_code_is_the_same_parse(make_v1: Any) -> None:
    # openai 1.40-1.91 code writes `client.beta.chat.completions.parse`
    run = make_v1(reply(json_body=chat_body('{"x": 1, "y": 2}')))
    r = run("beta.chat.completions", method="parse", messages=MESSAGES, response_format=Point)
    assert r.choices[0].message.parsed == Point(1, 2)
    with easyllm.HuggingFace(base_url="http://x.test/v1", api_key="-") as client:
        assert client.beta.chat is client.chat


def test_each_dialect_sends_the_schema_in_its_own_form(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body('{"x": 1, "y": 2}')))
    r = run("chat.completions", method="parse", client={"base_url": "http://lcp.test/v1", "engine": "llama-cpp-python"},
            messages=MESSAGES, response_format=Point)  # fmt: skip
    assert r.choices[0].message.parsed == Point(1, 2)
    # llama-cpp-python has no json_schema type: the schema rides on json_object
    assert run.bodies()[0]["response_format"] == {"type": "json_object", "schema": to_strict_json_schema_of(Point)}


def to_strict_json_schema_of(target: Any) -> Any:
    return to_strict_json_schema(pydantic.TypeAdapter(target))


def test_a_dict_response_format_is_sent_as_given_and_nothing_is_parsed(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body('{"x": 1}')))
    fmt = {"type": "json_object"}
    r = run("chat.completions", method="parse", messages=MESSAGES, response_format=fmt)
    assert r.choices[0].message.parsed is None and run.bodies()[0]["response_format"] == fmt
    r = run("chat.completions", method="parse", messages=MESSAGES)
    assert r.choices[0].message.parsed is None and "response_format" not in run.bodies()[1]


def test_a_refusal_is_not_parsed(make_v1: Any) -> None:
    body = chat_body("I can't")  # not JSON: reading it would raise
    body["choices"][0]["message"]["refusal"] = "I can't help with that."
    run = make_v1(reply(json_body=body))
    r = run("chat.completions", method="parse", messages=MESSAGES, response_format=Person)
    assert r.choices[0].message.parsed is None and r.choices[0].message.refusal == "I can't help with that."
    # and `create` hands the server's refusal on too
    assert run("chat.completions", messages=MESSAGES).choices[0].message.refusal == "I can't help with that."


@pytest.mark.parametrize(
    ("finish", "error"),
    [("length", errors.LengthFinishReasonError), ("content_filter", errors.ContentFilterFinishReasonError)],
)
def test_a_cut_answer_raises_with_the_completion(make_v1: Any, finish: str, error: type[Exception]) -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 8, "total_tokens": 11}
    run = make_v1(reply(json_body=chat_body('{"name": "Ad', finish=finish, usage=usage)))
    with pytest.raises(error) as info:
        run("chat.completions", method="parse", messages=MESSAGES, response_format=Person, max_tokens=8)
    assert info.value.completion.choices[0].message.content == '{"name": "Ad'  # type: ignore[attr-defined]
    assert isinstance(info.value, easyllm.OpenAIError)
    if finish == "length":
        assert "token limit" in str(info.value) and "8 completion tokens" in str(info.value)


def test_content_that_does_not_fit_the_model_raises_pydantics_error(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body('{"name": 3}')))
    with pytest.raises(pydantic.ValidationError, match="Person"):
        run("chat.completions", method="parse", messages=MESSAGES, response_format=Person)


def test_tool_calls_get_their_arguments_parsed(make_v1: Any) -> None:
    calls = [
        tool_call("GetWeather", '{"city": "Paris", "unit": "c"}'),
        tool_call("other", '{"city": "Oslo", "unit": "f"}', id="call_2"),
        tool_call("lookup", '{"q": "x"}', id="call_3"),
    ]
    run = make_v1(reply(json_body=chat_body(None, finish="tool_calls", tool_calls=calls)))
    parameters = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    strict = {"type": "function", "function": {"name": "lookup", "strict": True, "parameters": parameters}}
    other = openai.pydantic_function_tool(GetWeather, name="other")  # the openai SDK's own helper works too
    tools = [easyllm.pydantic_function_tool(GetWeather), other, strict]
    r = run("chat.completions", method="parse", messages=MESSAGES, tools=tools)
    first, second, third = r.choices[0].message.tool_calls
    assert first.function.parsed_arguments == GetWeather(city="Paris", unit="c")
    assert second.function.parsed_arguments == GetWeather(city="Oslo", unit="f")
    assert third.function.parsed_arguments == {"q": "x"} and third.id == "call_3"
    assert r.choices[0].finish_reason == "tool_calls"
    sent = run.bodies()[0]["tools"]
    assert [t["function"]["name"] for t in sent] == ["GetWeather", "other", "lookup"]
    assert sent[0]["function"]["description"] == "Today's weather in a city." and sent[0]["function"]["strict"] is True


@pytest.mark.parametrize(
    ("options", "param", "match"),
    [
        ({"tools": [{"type": "function", "function": {"name": "loose"}}]}, "tools", "`loose` is not strict"),
        ({"tools": [{"type": "custom", "custom": {"name": "c"}}]}, "tools", "only hold function tools"),
        ({"stream": True}, "stream", "not taken by `parse`"),
        ({"response_format": 3}, "response_format", "must be a pydantic model"),
        ({"response_format": int | str}, "response_format", "must be a pydantic model"),
    ],
)  # fmt: skip
def test_what_parse_cannot_read_is_refused_before_sending(
    make_v1: Any, options: dict[str, Any], param: str, match: str
) -> None:
    run = make_v1(reply(json_body=chat_body("{}")))
    with pytest.raises(errors.InvalidParameterError, match=match) as info:
        run("chat.completions", method="parse", messages=MESSAGES, **options)
    assert info.value.param == param and run.server.requests == []


# ---------------------------------------------------------------- responses.parse


def native_response(text: str, output: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": text, "annotations": []}]}  # fmt: skip
    return {
        "id": "resp_1", "object": "response", "created_at": 1760000000, "model": "m", "status": "completed",
        "output": output if output is not None else [message], "tools": [], "tool_choice": "auto",
        "parallel_tool_calls": True, "usage": {"input_tokens": 7, "output_tokens": 9, "total_tokens": 16},
    }  # fmt: skip


def test_responses_parse_natively_reads_the_text_and_sends_a_strict_format(make_v1: Any) -> None:
    run = make_v1(reply(json_body=native_response(json.dumps(PERSON))))
    r = run("responses", method="parse", model="m", input="Who?", text_format=Person, max_output_tokens=64)
    assert r.output_parsed == Person.model_validate(PERSON) and isinstance(r.output_parsed, Person)
    assert r.output[0].content[0].parsed == r.output_parsed and r.output_text == json.dumps(PERSON)
    body = run.bodies()[0]
    assert run.paths() == ["/v1/responses"]
    assert body["text"] == {"format": {"type": "json_schema", "name": "Person", "schema": to_strict_json_schema(Person),
                                       "strict": True}}  # fmt: skip
    # what the openai SDK's own parse sends for the same type
    from openai.lib._parsing._responses import type_to_text_format_param

    assert body["text"]["format"] == type_to_text_format_param(Person)


def test_responses_parse_translated_onto_chat_sends_the_schema_as_response_format(make_v1: Any) -> None:
    not_found = reply(404, json_body={"detail": "Not Found"})
    run = make_v1(not_found, reply(json_body=chat_body('{"x": 3, "y": 4}')))
    r = run("responses", method="parse", model="m", input="Where?", text_format=Point)
    assert r.output_parsed == Point(3, 4)
    paths = run.paths()  # (a structured output on a /v1 base asks once what the server is: GETs between)
    assert paths[0] == "/v1/responses" and paths[-1] == "/v1/chat/completions"
    fmt = run.bodies()[1]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == to_strict_json_schema_of(Point)


def test_responses_parse_reads_function_calls_and_leaves_other_phases_unread(make_v1: Any) -> None:
    calls = [
        {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "GetWeather",
         "arguments": '{"city": "Rome", "unit": "c"}', "status": "completed"},
        {"type": "function_call", "id": "fc_2", "call_id": "call_2", "name": "plain", "arguments": '{"a": 1}'},
        {"type": "message", "id": "msg_0", "role": "assistant", "status": "completed", "phase": "commentary",
         "content": [{"type": "output_text", "text": "thinking aloud", "annotations": []}]},
    ]  # fmt: skip
    run = make_v1(reply(json_body=native_response("", output=calls)))
    strict = {"type": "function", "name": "plain", "strict": True, "parameters": {"type": "object"}}
    tools = [easyllm.pydantic_responses_function_tool(GetWeather), strict]
    r = run("responses", method="parse", model="m", input="Weather?", tools=tools, text_format=Person)
    first, second, message = r.output
    assert first.parsed_arguments == GetWeather(city="Rome", unit="c") and second.parsed_arguments == {"a": 1}
    assert message.content[0].parsed is None and r.output_parsed is None  # not the final answer: not read
    assert run.bodies()[0]["tools"][0] == openai.pydantic_responses_function_tool(GetWeather)


def test_responses_parse_refuses_a_format_given_twice_before_sending(make_v1: Any) -> None:
    run = make_v1(reply(json_body=native_response("{}")))
    with pytest.raises(errors.InvalidParameterError, match="`text_format` cannot both") as info:
        run("responses", method="parse", model="m", input="?", text_format=Person,
            text={"format": {"type": "json_object"}})  # fmt: skip
    assert info.value.param == "text.format" and run.server.requests == []

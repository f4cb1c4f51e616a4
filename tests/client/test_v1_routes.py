"""Which route a chat takes (Messages API detection), tools and structured output, through both shells."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from openai.types.chat import ChatCompletion as OpenAIChatCompletion
from openai.types.chat import ChatCompletionChunk as OpenAIChatCompletionChunk

from easyllm import errors
from tests.client import v1_helpers
from tests.client.fake_tgi import generate_body, reply
from tests.client.v1_helpers import (
    MESSAGES,
    TGI,
    chat_body,
    chunk,
    dump,
    sse_done,
)

# fixtures shared by the v1 tests
forget_routes = v1_helpers.forget_routes
make_v1 = v1_helpers.make_v1
v1_shell = v1_helpers.v1_shell

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "place", "schema": SCHEMA}}
TOOLS = [{"type": "function", "function": {"name": "weather", "parameters": SCHEMA}}]


def tgi_chat(run: Any, **kwargs: Any) -> Any:
    return run("chat.completions", client={"base_url": TGI, **kwargs.pop("client", {})}, messages=MESSAGES, **kwargs)


def test_tgi_without_builder_uses_the_messages_api_and_remembers_it(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body("templated")))
    assert tgi_chat(run).choices[0].message.content == "templated"
    tgi_chat(run)
    assert run.paths() == ["/v1/chat/completions", "/v1/chat/completions"]
    body = run.bodies()[0]
    assert body["model"] == "tgi" and body["messages"] == MESSAGES


def test_tgi_without_messages_api_falls_back_once_to_llama2_with_a_warning(
    make_v1: Any, caplog: pytest.LogCaptureFixture
) -> None:
    run = make_v1(reply(404, content=b""), reply(json_body=generate_body("native")))
    with caplog.at_level(logging.WARNING, logger="easyllm"):
        assert tgi_chat(run).choices[0].message.content == "native"
    assert "llama2" in caplog.text
    tgi_chat(run)
    assert run.paths() == ["/v1/chat/completions", "/", "/"]
    assert run.bodies()[1]["inputs"].startswith("[INST]")


def test_tgi_stream_falls_back_too(make_v1: Any) -> None:
    from tests.client.fake_tgi import stream_reply, token_events

    run = make_v1(reply(405, content=b""), stream_reply(token_events(["a", "b"])))
    chunks = tgi_chat(run, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "ab"
    assert run.paths() == ["/v1/chat/completions", "/"]


def test_builder_set_uses_the_native_route_directly(make_v1: Any) -> None:
    run = make_v1(reply(json_body=generate_body("native")))
    tgi_chat(run, client={"prompt_builder": "chatml"})
    assert run.paths() == ["/"] and run.bodies()[0]["inputs"].startswith("<|im_start|>")


def test_other_errors_do_not_fall_back(make_v1: Any) -> None:
    run = make_v1(reply(422, json_body={"error": "Template error", "error_type": "template_error"}))
    with pytest.raises(errors.UnprocessableEntityError):
        tgi_chat(run)
    assert run.paths() == ["/v1/chat/completions"]


def test_tgi_messages_flavour_adapts_parameters(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body()))
    tgi_chat(run, top_p=1.0, temperature=0.5, response_format=JSON_SCHEMA, stop=["a", "b", "c", "d", "e"])
    body = run.bodies()[0]
    assert "top_p" not in body and body["temperature"] == 0.5
    assert body["response_format"] == {"type": "json_object", "value": SCHEMA}
    assert body["stop"] == ["a", "b", "c", "d"]
    with pytest.raises(errors.InvalidParameterError, match="logit_bias"):
        tgi_chat(run, logit_bias={"1": 1.0})


def test_json_schema_becomes_tgi_grammar_on_the_native_route(make_v1: Any) -> None:
    run = make_v1(reply(json_body=generate_body('{"city": "Paris"}')))
    tgi_chat(run, client={"prompt_builder": "chatml"}, response_format=JSON_SCHEMA)
    assert run.bodies()[0]["parameters"]["grammar"] == {"type": "json", "value": SCHEMA}


def test_native_route_refuses_tools_and_json_object(make_v1: Any) -> None:
    run = make_v1(reply(json_body=generate_body("x")))
    with pytest.raises(errors.InvalidParameterError, match="Messages API"):
        tgi_chat(run, client={"prompt_builder": "chatml"}, tools=TOOLS)
    with pytest.raises(errors.InvalidParameterError, match="json_object"):
        tgi_chat(run, client={"prompt_builder": "chatml"}, response_format={"type": "json_object"})
    assert run.server.requests == []


def test_response_format_passes_through_to_openai_servers(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body('{"city": "Paris"}')))
    run("chat.completions", messages=MESSAGES, response_format=JSON_SCHEMA)
    assert run.bodies()[0]["response_format"] == JSON_SCHEMA


def test_tool_calls_come_back_in_openai_shape(make_v1: Any) -> None:
    calls = [
        {"id": "", "type": "function", "function": {"description": None, "name": "weather", "arguments": {"a": 1}}}
    ]
    run = make_v1(reply(json_body=chat_body(None, tool_calls=calls, finish="stop")))
    r = run("chat.completions", messages=MESSAGES, tools=TOOLS, tool_choice="auto")
    call = r.choices[0].message.tool_calls[0]
    assert call.id == "call_0" and call.function.name == "weather" and call.function.arguments == '{"a": 1}'
    assert r.choices[0].finish_reason == "tool_calls" and r.choices[0].message.content is None
    assert "description" not in dump(r)["choices"][0]["message"]["tool_calls"][0]["function"]
    OpenAIChatCompletion.model_validate(dump(r))
    assert run.bodies()[0]["tools"] == TOOLS and run.bodies()[0]["tool_choice"] == "auto"


def test_tool_calls_stream_as_deltas(make_v1: Any) -> None:
    first = {"index": 0, "id": "0", "type": "function", "function": {"name": "weather", "arguments": ""}}
    rest = {"index": 0, "function": {"name": None, "arguments": '{"city": "Paris"}'}}
    run = make_v1(sse_done([chunk({"tool_calls": [first]}), chunk({"tool_calls": [rest]}), chunk({}, "stop")]))
    chunks = run("chat.completions", messages=MESSAGES, tools=TOOLS, stream=True)
    deltas = [d for c in chunks for d in (c.choices[0].delta.tool_calls or [])]
    assert deltas[0].function.name == "weather" and deltas[0].id == "0"
    assert "".join(d.function.arguments or "" for d in deltas) == '{"city": "Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    for c in chunks:
        OpenAIChatCompletionChunk.model_validate(dump(c))


@pytest.mark.parametrize("setting", [{"protocol": "openai"}, {"engine": "openai"}, {"engine": "vllm"}])
def test_explicit_engine_setting_selects_openai_routes(make_v1: Any, setting: dict[str, str]) -> None:
    run = make_v1(reply(json_body=chat_body()))
    run("chat.completions", client={"base_url": "http://vllm.test/api", **setting}, messages=MESSAGES)
    assert run.paths() == ["/api/chat/completions"]

"""Function calling against `easyllm serve` (SmolLM2 on the llama.cpp engine), end to end: `HuggingFace` and
`AsyncHuggingFace` (create, stream, parse), the module facade, the openai SDK itself, the Responses API (a call, its
output sent back), and the OpenAI Agents SDK running a tool. Answers are validated with the openai package's types."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pydantic
import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletion as OpenAIChatCompletion
from openai.types.chat import ChatCompletionChunk as OpenAIChatCompletionChunk
from openai.types.responses import Response as OpenAIResponse

import easyllm
from easyllm.clients import huggingface
from tests.client.v1_helpers import dump

pytestmark = pytest.mark.integration

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
CITY["additionalProperties"] = False
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "The weather", "parameters": CITY}}
CLOCK = {"type": "function", "function": {"name": "get_time", "description": "The time now"}}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]
GREEDY = {"max_tokens": 48, "temperature": 0}


def chat(shell: str, base_url: str, method: str = "create", **kwargs: Any) -> Any:
    """`client.chat.completions.<method>(**kwargs)` with a fresh client of the given shell; streams are drained."""
    kwargs = {"messages": ASK, **GREEDY, **kwargs}
    if shell == "sync":
        with easyllm.HuggingFace(base_url=base_url, timeout=120) as hf:
            result = getattr(hf.chat.completions, method)(**kwargs)
            return list(result) if kwargs.get("stream") else result

    async def main() -> Any:
        async with easyllm.AsyncHuggingFace(base_url=base_url, timeout=120) as hf:
            result = await getattr(hf.chat.completions, method)(**kwargs)
            return [c async for c in result] if kwargs.get("stream") else result

    return asyncio.run(main())


def streamed_calls(chunks: list[Any]) -> dict[int, dict[str, str]]:
    """The calls a stream's deltas add up to, by index (as the openai SDK accumulates them)."""
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        OpenAIChatCompletionChunk.model_validate(dump(chunk))
        for c in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            call = calls.setdefault(c.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += c.id or ""
            call["name"] += (c.function.name or "") if c.function else ""
            call["arguments"] += (c.function.arguments or "") if c.function else ""
    return calls


def test_a_required_call_comes_back_whole_and_streamed(shell: str, serve_url: str) -> None:
    whole = chat(shell, f"{serve_url}/v1", tools=[WEATHER, CLOCK], tool_choice="required")
    OpenAIChatCompletion.model_validate(dump(whole))
    choice = whole.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.id.startswith("call_") and call.function.name == "get_weather"
    assert set(json.loads(call.function.arguments)) == {"city"}  # held to the schema: the key, nothing else
    chunks = chat(shell, f"{serve_url}/v1", tools=[WEATHER, CLOCK], tool_choice="required", stream=True)
    (streamed,) = streamed_calls(chunks).values()
    assert (streamed["name"], streamed["arguments"]) == (call.function.name, call.function.arguments)
    assert streamed["id"].startswith("call_")
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert not any(c.choices[0].delta.content for c in chunks if c.choices)


def test_a_named_call_and_the_root_messages_api(shell: str, serve_url: str) -> None:
    named = {"type": "function", "function": {"name": "get_weather"}}
    r = chat(shell, serve_url, tools=[CLOCK, WEATHER], tool_choice=named)  # TGI's Messages API at the root
    (call,) = r.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and isinstance(json.loads(call.function.arguments)["city"], str)


def test_auto_either_calls_or_answers_in_words(shell: str, serve_url: str) -> None:
    for ask in (ASK, [{"role": "user", "content": "Say hello."}]):
        choice = chat(shell, f"{serve_url}/v1", messages=ask, tools=[WEATHER]).choices[0]
        if choice.message.tool_calls:
            assert choice.finish_reason == "tool_calls" and "city" in json.loads(choice.message.tool_calls[0]
                                                                                 .function.arguments)  # fmt: skip
        else:
            assert choice.finish_reason in ("stop", "length") and choice.message.content


class Weather(pydantic.BaseModel):
    """Today's weather in a city."""

    city: str


def test_parse_reads_a_pydantic_tools_call(shell: str, serve_url: str) -> None:
    r = chat(shell, f"{serve_url}/v1", "parse", tools=[easyllm.pydantic_function_tool(Weather)], tool_choice="required")
    (call,) = r.choices[0].message.tool_calls
    assert isinstance(call.function.parsed_arguments, Weather) and call.function.parsed_arguments.city


def test_responses_parse_reads_a_pydantic_tools_call(serve_url: str) -> None:
    with easyllm.HuggingFace(base_url=f"{serve_url}/v1", timeout=120) as hf:
        tool = easyllm.pydantic_responses_function_tool(Weather)
        r = hf.responses.parse(
            input=ASK[0]["content"], tools=[tool], tool_choice="required", max_output_tokens=48, temperature=0
        )
    (call,) = r.output
    assert call.type == "function_call" and call.name == "Weather"
    assert isinstance(call.parsed_arguments, Weather) and call.parsed_arguments.city


def test_a_tools_result_goes_back_and_is_answered(shell: str, serve_url: str) -> None:
    first = chat(shell, f"{serve_url}/v1", tools=[WEATHER], tool_choice="required").choices[0].message
    call = first.tool_calls[0]
    history = [*ASK, first.model_dump(exclude_none=True),
               {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 24 degrees."}]  # fmt: skip
    answer = chat(shell, f"{serve_url}/v1", messages=history, tools=[WEATHER], tool_choice="none").choices[0]
    assert answer.message.content and not answer.message.tool_calls and answer.finish_reason in ("stop", "length")


def test_the_module_facade_and_the_openai_sdk_get_calls(serve_url: str) -> None:
    r = huggingface.ChatCompletion.create(api_base=f"{serve_url}/v1", messages=ASK, tools=[WEATHER],
                                          tool_choice="required", request_timeout=120, **GREEDY)  # fmt: skip
    assert r["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert r.choices[0].finish_reason == "tool_calls"
    with httpx.Client(timeout=120) as http:
        sdk = OpenAI(base_url=f"{serve_url}/v1", api_key="none", http_client=http)
        answer = sdk.chat.completions.create(model="smollm2", messages=ASK, tools=[WEATHER], tool_choice="required",
                                             **GREEDY)  # type: ignore[arg-type]  # fmt: skip
        assert answer.choices[0].message.tool_calls[0].function.name == "get_weather"  # type: ignore[index,union-attr]
        with sdk.chat.completions.stream(model="smollm2", messages=ASK, tools=[WEATHER], tool_choice="required",
                                         **GREEDY) as stream:  # type: ignore[arg-type]  # fmt: skip
            done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
        assert done and done[0].name == "get_weather" and "city" in json.loads(done[0].arguments)


def test_bad_tools_are_refused_before_generation(serve_url: str) -> None:
    nope = {"type": "function", "function": {"name": "nope"}}
    body = {"messages": ASK, "max_tokens": 8, "tools": [WEATHER], "tool_choice": nope}
    refused = httpx.post(f"{serve_url}/v1/chat/completions", json=body, timeout=60)
    assert refused.status_code == 422 and "'nope', which is not in `tools`" in refused.json()["error"]
    with pytest.raises(easyllm.UnprocessableEntityError, match="not in `tools`"):
        chat("sync", f"{serve_url}/v1", tools=[WEATHER], tool_choice=nope)


def test_the_responses_api_calls_a_function_and_takes_its_output(shell: str, serve_url: str) -> None:
    tool = {"type": "function", "name": "get_weather", "description": "Today's weather in a city", "parameters": CITY}
    ask = {"input": "What is the weather in Paris?", "tools": [tool], "max_output_tokens": 48, "temperature": 0}

    async def both() -> tuple[Any, Any, list[Any]]:
        async with easyllm.AsyncHuggingFace(base_url=f"{serve_url}/v1", timeout=120) as hf:
            first = await hf.responses.create(**ask, tool_choice="required")
            output = {"type": "function_call_output", "call_id": first.output[0].call_id, "output": "Sunny."}
            then = await hf.responses.create(input=[output], previous_response_id=first.id, tools=[tool],
                                             tool_choice="none", max_output_tokens=24, temperature=0)  # fmt: skip
            events = [e async for e in await hf.responses.create(**ask, tool_choice="required", stream=True)]
            return first, then, events

    if shell == "async":
        first, then, events = asyncio.run(both())
    else:
        with easyllm.HuggingFace(base_url=f"{serve_url}/v1", timeout=120) as hf:
            first = hf.responses.create(**ask, tool_choice="required")
            output = {"type": "function_call_output", "call_id": first.output[0].call_id, "output": "Sunny."}
            then = hf.responses.create(input=[output], previous_response_id=first.id, tools=[tool],
                                       tool_choice="none", max_output_tokens=24, temperature=0)  # fmt: skip
            events = list(hf.responses.create(**ask, tool_choice="required", stream=True))
    OpenAIResponse.model_validate(dump(first))
    (item,) = first.output
    assert item.type == "function_call" and item.name == "get_weather" and "city" in json.loads(item.arguments)
    assert then.output_text and then.output[0].type == "message"
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    deltas = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    assert done and done[0].arguments == deltas == item.arguments  # greedy: the same call, streamed


def test_the_openai_agents_sdk_runs_a_function_tool(serve_url: str) -> None:
    agents = pytest.importorskip("agents")
    from openai import AsyncOpenAI

    agents.set_tracing_disabled(True)
    asked: list[str] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Today's weather in a city."""
        asked.append(city)
        return f"Sunny in {city}."

    loop = asyncio.new_event_loop()  # Runner.run_sync uses the thread's loop and leaves it open: give it one
    asyncio.set_event_loop(loop)
    http = httpx.AsyncClient(timeout=120)
    try:
        client = AsyncOpenAI(base_url=f"{serve_url}/v1", api_key="none", http_client=http)
        agent = agents.Agent(
            name="weather", instructions="Use the tools.", tools=[get_weather],
            model=agents.OpenAIResponsesModel(model="smollm2", openai_client=client),
            model_settings=agents.ModelSettings(temperature=0, max_tokens=48, tool_choice="required"),
            tool_use_behavior="stop_on_first_tool",
        )  # fmt: skip
        result = agents.Runner.run_sync(agent, "What is the weather in Paris?")
        assert asked and result.final_output == f"Sunny in {asked[0]}."
    finally:
        loop.run_until_complete(http.aclose())
        loop.close()
        asyncio.set_event_loop(None)


def test_streamed_calls_through_the_facade_and_the_responses_helper(serve_url: str) -> None:
    chunks = list(huggingface.ChatCompletion.create(api_base=f"{serve_url}/v1", messages=ASK, tools=[WEATHER],
                                                    tool_choice="required", stream=True, request_timeout=120,
                                                    **GREEDY))  # fmt: skip
    calls = [c for chunk in chunks if chunk["choices"] for c in chunk["choices"][0]["delta"].get("tool_calls") or []]
    assert calls[0]["function"]["name"] == "get_weather" and calls[0]["id"].startswith("call_")
    arguments = "".join(c["function"].get("arguments") or "" for c in calls)
    assert "city" in json.loads(arguments) and chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    tool = {"type": "function", "name": "get_weather", "parameters": CITY}
    with (
        easyllm.HuggingFace(base_url=f"{serve_url}/v1", timeout=120) as hf,
        hf.responses.stream(
            input="What is the weather in Paris?",
            tools=[tool],
            tool_choice="required",
            max_output_tokens=48,
            temperature=0,
        ) as stream,
    ):
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds and kinds[-1] == "response.completed"
    assert final.output[0].type == "function_call" and json.loads(final.output[0].arguments) == json.loads(arguments)

"""`client.chat.completions.stream`: openai's streaming helper, its events held to the openai SDK's own on the same
chunks, through both shells."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

import httpx
import openai
import pydantic
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState as OpenAIStreamState
from openai.types.chat import ChatCompletionChunk as OpenAIChunk
from openai.types.chat import ParsedChatCompletion as OpenAIParsedChatCompletion

import easyllm
from easyllm import errors
from easyllm.schema.chat_stream_state import ChatStreamState
from easyllm.schema.types import chat_chunk
from tests.client import v1_helpers
from tests.client.fake_tgi import FakeServer
from tests.client.v1_helpers import MESSAGES, V1, chunk, dump, sse_done

forget_routes = v1_helpers.forget_routes
forget_responses_routes = v1_helpers.forget_responses_routes


@pytest.fixture(autouse=True)
def _forget_responses_routes(forget_responses_routes: None) -> None:
    """Each test starts with no server known to have (or lack) `/responses`."""


class Point(pydantic.BaseModel):
    x: int
    y: int


class GetWeather(pydantic.BaseModel):
    city: str
    unit: Literal["c", "f"]


def tool_delta(index: int, arguments: str, name: str | None = None, id: str | None = None) -> dict[str, Any]:
    function: dict[str, Any] = {"arguments": arguments}
    if name is not None:
        function["name"] = name
    delta: dict[str, Any] = {"index": index, "function": function}
    if id is not None:
        delta.update(id=id, type="function")
    return {"tool_calls": [delta]}


CONTENT = [chunk({"content": ""}), chunk({"content": '{"x"'}), chunk({"content": ': 1, "y'}),
           chunk({"content": '": 2}'}), chunk({}, "stop")]  # fmt: skip
TOOLS = [
    chunk({"content": ""}),
    chunk(tool_delta(0, "", name="GetWeather", id="call_1")),
    chunk(tool_delta(0, '{"city": "Par')),
    chunk(tool_delta(0, 'is", "unit": "c"}')),
    chunk(tool_delta(1, '{"q"', name="lookup", id="call_2")),
    chunk(tool_delta(1, ': "x"}')),
    chunk({}, "tool_calls"),
]


def with_logprobs(delta: dict[str, Any], token: str, finish: str | None = None) -> dict[str, Any]:
    out = chunk(delta, finish)
    entry = {"token": token, "logprob": -0.5, "bytes": list(token.encode()), "top_logprobs": []}
    out["choices"][0]["logprobs"] = {"content": [entry], "refusal": None}
    return out


LOGPROBS = [with_logprobs({"content": "Hel"}, "Hel"), with_logprobs({"content": "lo"}, "lo"), chunk({}, "stop")]
REFUSAL = [chunk({"refusal": "I can"}), chunk({"refusal": "'t."}), chunk({}, "stop")]
STRICT = {"type": "function", "function": {"name": "lookup", "strict": True, "parameters": {"type": "object"}}}


def summary(event: Any) -> tuple[Any, ...]:
    """What an event says, comparable across easyllm's and openai's models."""
    fields = ("delta", "snapshot", "content", "refusal", "name", "index", "arguments", "arguments_delta")
    said = [getattr(event, name) for name in fields if hasattr(event, name) and event.type != "chunk"]
    said += [getattr(event, name, None) for name in ("parsed", "parsed_arguments")]
    return (event.type, *map(plain, said))


def plain(value: Any) -> Any:
    """Models as their dumps (easyllm's and openai's models of the same thing compare equal then)."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value.model_dump() if isinstance(value, pydantic.BaseModel) else value


def openai_events(chunks: list[dict[str, Any]], **options: Any) -> tuple[list[tuple[Any, ...]], Any]:
    state = OpenAIStreamState(**options)
    events = [summary(e) for c in chunks for e in state.handle_chunk(OpenAIChunk.model_validate(c))]
    return events, state.get_final_completion()


@pytest.mark.parametrize(
    ("chunks", "response_format", "tools"),
    [
        (CONTENT, Point, None),
        (CONTENT, None, None),
        (TOOLS, None, [STRICT]),
        (LOGPROBS, None, None),
        (REFUSAL, Point, None),
    ],
    ids=["typed", "plain", "tools", "logprobs", "refusal"],
)
def test_the_events_are_the_openai_sdks_on_the_same_chunks(
    chunks: list[dict[str, Any]], response_format: Any, tools: Any
) -> None:
    # (openai's own pydantic tool: the SDK reads only its own class into the model; easyllm reads both)
    tools = tools if tools is None else [openai.pydantic_function_tool(GetWeather), *tools]
    state = ChatStreamState[Any](response_format, tools)
    ours = [summary(e) for c in chunks for e in state.handle_chunk(chat_chunk(c))]
    options = {k: v for k, v in (("response_format", response_format), ("input_tools", tools)) if v is not None}
    theirs, final = openai_events(chunks, **options)
    assert ours == theirs
    mine = state.final_completion()
    assert mine.choices[0].message.parsed == final.choices[0].message.parsed
    calls = [c.function.parsed_arguments for c in mine.choices[0].message.tool_calls or ()]
    assert calls == [c.function.parsed_arguments for c in final.choices[0].message.tool_calls or ()]


def run_stream(shell: str, server: FakeServer, **kwargs: Any) -> tuple[list[Any], Any]:
    """Enter `stream(...)`, read every event, and get the final completion, through one shell."""
    if shell == "sync":
        http = httpx.Client(transport=httpx.MockTransport(server))
        with easyllm.HuggingFace(base_url=V1, engine="vllm", http_client=http) as client:
            manager = client.chat.completions.stream(messages=MESSAGES, **kwargs)
            assert server.requests == []  # nothing is sent before the block is entered
            with manager as stream:
                events = list(stream)
                return events, stream.get_final_completion()

    async def main() -> tuple[list[Any], Any]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            client = easyllm.AsyncHuggingFace(base_url=V1, engine="vllm", http_client=http)
            manager = client.chat.completions.stream(messages=MESSAGES, **kwargs)
            assert server.requests == []
            async with manager as stream:
                events = [event async for event in stream]
                return events, await stream.get_final_completion()

    return asyncio.run(main())


@pytest.mark.parametrize("shell", ["sync", "async"])
def test_a_typed_stream_end_to_end(shell: str) -> None:
    server = FakeServer([sse_done(CONTENT)])
    events, final = run_stream(shell, server, response_format=Point, max_tokens=32)
    deltas = [e for e in events if e.type == "content.delta"]
    assert [e.parsed for e in deltas] == [None, {}, {"x": 1}, {"x": 1, "y": 2}]
    (done,) = [e for e in events if e.type == "content.done"]
    assert done.parsed == Point(x=1, y=2) and done.content == '{"x": 1, "y": 2}'
    assert final.choices[0].message.parsed == Point(x=1, y=2)
    assert OpenAIParsedChatCompletion[Point].model_validate(dump(final)).choices[0].message.parsed == Point(x=1, y=2)
    body = json.loads(server.requests[0].content)
    assert body["stream"] is True and body["response_format"]["json_schema"]["name"] == "Point"
    last_chunk = [e for e in events if e.type == "chunk"][-1]
    assert events[0].type == "chunk" and last_chunk.snapshot.choices[0].message.parsed == Point(x=1, y=2)


@pytest.mark.parametrize("shell", ["sync", "async"])
def test_a_cut_answer_raises_while_streaming(shell: str) -> None:
    server = FakeServer([sse_done([chunk({"content": '{"x": 1'}), chunk({}, "length")])])
    with pytest.raises(errors.LengthFinishReasonError) as info:
        run_stream(shell, server, response_format=Point)
    assert info.value.completion.choices[0].message.content == '{"x": 1'  # type: ignore[attr-defined]
    assert info.value.completion.choices[0].finish_reason == "length"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("options", "match"),
    [({"stream": True}, "not taken by"), ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "not strict")],
)
def test_what_the_helper_cannot_read_is_refused_before_sending(options: dict[str, Any], match: str) -> None:
    server = FakeServer([sse_done(CONTENT)])
    http = httpx.Client(transport=httpx.MockTransport(server))
    with (
        easyllm.HuggingFace(base_url=V1, http_client=http) as client,
        pytest.raises(errors.InvalidParameterError, match=match),
    ):
        client.chat.completions.stream(messages=MESSAGES, **options)
    assert server.requests == []


def test_pydantic_tools_are_read_into_their_model_when_done() -> None:
    server = FakeServer([sse_done(TOOLS)])
    tools = [easyllm.pydantic_function_tool(GetWeather), STRICT]
    events, final = run_stream("sync", server, tools=tools)
    done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert [e.parsed_arguments for e in done] == [GetWeather(city="Paris", unit="c"), {"q": "x"}]
    assert final.choices[0].finish_reason == "tool_calls"


# ---------------------------------------------------------------- responses.stream


def response_summary(event: Any) -> tuple[Any, ...]:
    said: list[Any] = [event.type, getattr(event, "snapshot", None), plain(getattr(event, "parsed", None))]
    if event.type == "response.completed":
        said.append(plain(event.response.output_parsed))
    return tuple(said)


def run_response_stream(shell: str, server: FakeServer, **kwargs: Any) -> tuple[list[Any], Any]:
    """Enter `responses.stream(...)`, read every event, and get the final response, through one shell."""
    if shell == "sync":
        http = httpx.Client(transport=httpx.MockTransport(server))
        with easyllm.HuggingFace(base_url=V1, engine="vllm", http_client=http) as client:
            manager = client.responses.stream(input="Where?", **kwargs)
            assert server.requests == []
            with manager as stream:
                return list(stream), stream.get_final_response()

    async def main() -> tuple[list[Any], Any]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            client = easyllm.AsyncHuggingFace(base_url=V1, engine="vllm", http_client=http)
            async with client.responses.stream(input="Where?", **kwargs) as stream:
                return [event async for event in stream], await stream.get_final_response()

    return asyncio.run(main())


@pytest.mark.parametrize("shell", ["sync", "async"])
def test_responses_stream_gives_the_openai_sdks_events(shell: str) -> None:
    # translated over chat (vLLM here): the chat chunks become Responses events, then the helper's
    not_found = v1_helpers.reply(404, json_body={"detail": "Not Found"})
    server = FakeServer([not_found, sse_done(CONTENT)])
    events, final = run_response_stream(shell, server, text_format=Point, max_output_tokens=32)
    from openai.lib.streaming.responses import ResponseStreamState as OpenAIResponseState
    from openai.types.responses import ResponseStreamEvent

    theirs = OpenAIResponseState(input_tools=[], text_format=Point)
    adapter = pydantic.TypeAdapter(ResponseStreamEvent)
    raw = [e for e in events if e.type != "response.completed"] + [e for e in events if e.type == "response.completed"]
    expected = [response_summary(x) for e in raw for x in theirs.handle_event(adapter.validate_python(dump(e)))]
    assert [response_summary(e) for e in events] == expected
    deltas = [e.snapshot for e in events if e.type == "response.output_text.delta"]
    assert deltas[-1] == '{"x": 1, "y": 2}' and final.output_parsed == Point(x=1, y=2)
    (done,) = [e for e in events if e.type == "response.output_text.done"]
    assert done.parsed == Point(x=1, y=2)
    body = json.loads(server.requests[-1].content)
    assert body["response_format"]["json_schema"]["name"] == "Point" and body["stream"] is True

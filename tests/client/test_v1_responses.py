"""`client.responses` through both shells: native on servers with `/responses`, translated onto chat elsewhere."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai.types.responses import Response as OpenAIResponse
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

import easyllm
from easyllm import errors
from easyllm.schema.responses import Response
from easyllm.streaming import AsyncStream, Stream
from tests.client import v1_helpers
from tests.client.fake_tgi import FakeServer, reply
from tests.client.v1_helpers import V1, chat_body, chunk, dump, sse_done, usage_chunk

forget_routes = v1_helpers.forget_routes
EVENT = TypeAdapter(ResponseStreamEvent)
TOOL = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
NOT_FOUND = reply(404, json_body={"detail": "Not Found"})


forget_responses_routes = v1_helpers.forget_responses_routes


@pytest.fixture(autouse=True)
def _forget_responses_routes(forget_responses_routes: None) -> None:
    """Each test starts with no server known to have (or lack) `/responses`."""


class Shell:
    """One client (sync or async) over a `FakeServer`, kept across calls (so its response store is too)."""

    def __init__(self, kind: str, server: FakeServer, **options: Any) -> None:
        self.kind = kind
        self.server = server
        options = {"base_url": V1, **options}
        if kind == "sync":
            self.client: Any = easyllm.HuggingFace(
                http_client=httpx.Client(transport=httpx.MockTransport(server)), **options
            )
        else:
            self.loop = asyncio.new_event_loop()
            http = httpx.AsyncClient(transport=httpx.MockTransport(server))
            self.client = easyllm.AsyncHuggingFace(http_client=http, **options)

    def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self.client.responses, name)
        if self.kind == "sync":
            result = method(*args, **kwargs)
            if isinstance(result, Stream):
                assert isinstance(result.response, httpx.Response)
                with result:
                    return list(result)
            return result

        async def main() -> Any:
            result = await method(*args, **kwargs)
            if isinstance(result, AsyncStream):
                async with result:
                    return [event async for event in result]
            return result

        return self.loop.run_until_complete(main())

    def create(self, **kwargs: Any) -> Any:
        return self._run("create", **kwargs)

    def retrieve(self, response_id: str) -> Any:
        return self._run("retrieve", response_id)

    def delete(self, response_id: str) -> Any:
        return self._run("delete", response_id)

    def close(self) -> None:
        if self.kind == "sync":
            self.client.close()
            self.client._http.close()
        else:
            self.loop.run_until_complete(self.client._http.aclose())
            self.loop.close()

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.server.requests]

    def bodies(self) -> list[Any]:
        return self.server.bodies()


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> Iterator[Callable[..., Shell]]:
    made: list[Shell] = []

    def make(*responses: Callable[[httpx.Request], httpx.Response], **options: Any) -> Shell:
        made.append(Shell(str(request.param), FakeServer(list(responses)), **options))
        return made[-1]

    yield make
    for one in made:
        one.close()


def validated(response: Response) -> OpenAIResponse:
    assert isinstance(response, Response)
    return OpenAIResponse.model_validate(dump(response))


def validated_events(events: list[Any]) -> list[Any]:
    out = [EVENT.validate_python(dump(e)) for e in events]
    numbers = [e.sequence_number for e in out]
    assert numbers == sorted(set(numbers))
    return out


def sse_events(events: list[dict[str, Any]]) -> Callable[[httpx.Request], httpx.Response]:
    """A Responses stream as servers send it: `event:` and `data:` lines."""
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return reply(200, content=body.encode(), headers={"content-type": "text/event-stream"})


# ---------------------------------------------------------------- native


LLAMA_CPP_BODY = {
    "completed_at": 1760000000, "created_at": 1760000000, "id": "resp_llama", "model": "smollm2",
    "object": "response", "status": "completed",
    "output": [{"content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "Blue."}],
                "id": "msg_1", "role": "assistant", "status": "completed", "type": "message"}],
    "usage": {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10},
}  # fmt: skip


def test_native_answer_from_llama_cpp_is_completed_and_the_request_goes_as_written(shell: Any) -> None:
    run = shell(reply(json_body=LLAMA_CPP_BODY))
    r = run.create(
        model="smollm2", input="Name a colour.", instructions="Be brief.", max_output_tokens=16, temperature=0,
        tools=[TOOL], extra_body={"top_k": 1},
    )  # fmt: skip
    check = validated(r)
    assert r.output_text == "Blue." == check.output_text and r.id == "resp_llama"
    assert check.tools[0].name == "get_weather" and check.tool_choice == "auto" and check.parallel_tool_calls
    assert run.paths() == ["POST /v1/responses"]
    assert run.bodies()[0] == {
        "model": "smollm2", "input": "Name a colour.", "instructions": "Be brief.", "max_output_tokens": 16,
        "temperature": 0, "tools": [TOOL], "top_k": 1,
    }  # fmt: skip


def llama_cpp_stream(text: list[str]) -> list[dict[str, Any]]:
    head = {"id": "resp_llama", "object": "response", "status": "in_progress"}
    message = {"content": [], "id": "msg_1", "role": "assistant", "status": "in_progress", "type": "message"}
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": "".join(text)}
    return [
        {"type": "response.created", "response": head},
        {"type": "response.in_progress", "response": head},
        {"type": "response.output_item.added", "item": message},
        {"type": "response.content_part.added", "item_id": "msg_1", "part": {"type": "output_text", "text": ""}},
        *[{"type": "response.output_text.delta", "item_id": "msg_1", "delta": t} for t in text],
        {"type": "response.output_text.done", "item_id": "msg_1", "text": "".join(text)},
        {"type": "response.content_part.done", "item_id": "msg_1", "part": part},
        {"type": "response.output_item.done", "item": {**message, "status": "completed", "content": [part]}},
        {"type": "response.completed", "response": {**LLAMA_CPP_BODY, "output": [
            {**message, "status": "completed", "content": [part]}]}},
    ]  # fmt: skip


def test_native_stream_from_llama_cpp_gets_sequence_numbers_indexes_and_logprobs(shell: Any) -> None:
    run = shell(sse_events(llama_cpp_stream(["One", ", two"])))
    events = run.create(model="smollm2", input="Count.", stream=True)
    checked = validated_events(events)
    assert [e.type for e in checked][:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert "".join(e.delta for e in checked if e.type == "response.output_text.delta") == "One, two"
    assert checked[-1].type == "response.completed" and checked[-1].response.output_text == "One, two"
    assert run.bodies()[0]["stream"] is True and run.paths() == ["POST /v1/responses"]


def test_native_failure_in_the_stream_is_handed_out_then_raised(shell: Any) -> None:
    error = {"code": "server_error", "message": "out of memory"}
    failed = {
        "type": "response.failed",
        "response": {"id": "r", "object": "response", "status": "failed", "error": error},
    }
    run = shell(sse_events([llama_cpp_stream(["a"])[0], failed]))
    with pytest.raises(errors.APIError, match="out of memory"):
        run.create(model="m", input="Hi", stream=True)


def test_native_previous_response_id_passes_through(shell: Any) -> None:
    run = shell(reply(json_body=LLAMA_CPP_BODY))
    run.create(model="m", input="And another?", previous_response_id="resp_server_side")
    assert run.bodies()[0]["previous_response_id"] == "resp_server_side"


def test_an_unknown_model_on_the_native_route_is_raised_not_translated(shell: Any) -> None:
    run = shell(reply(404, json_body={"error": {"message": "The model `x` does not exist.", "code": 404}}))
    with pytest.raises(errors.NotFoundError):
        run.create(model="x", input="Hi")
    assert run.paths() == ["POST /v1/responses"]


# ---------------------------------------------------------------- translated


def test_a_server_without_the_route_is_translated_and_remembered(shell: Any) -> None:
    usage = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
    run = shell(NOT_FOUND, reply(json_body=chat_body("Blue.", usage=usage)))
    r = run.create(
        model="smollm2", input="Name a colour.", instructions="Be brief.", max_output_tokens=16, temperature=0,
        metadata={"k": "v"}, text={"format": {"type": "json_object"}},
    )  # fmt: skip
    check = validated(r)
    assert r.output_text == "Blue." and check.usage.input_tokens == 9 and check.metadata == {"k": "v"}
    assert r.id.startswith("resp_") and r.status == "completed"
    posts = [p for p in run.paths() if p.startswith("POST")]  # structured output probes the server's kind (GETs)
    assert posts == ["POST /v1/responses", "POST /v1/chat/completions"]
    chat = run.bodies()[1]
    assert chat["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Name a colour."},
    ]
    assert chat["max_tokens"] == 16 and chat["temperature"] == 0 and chat["model"] == "smollm2"
    assert chat["response_format"] == {"type": "json_object"}
    run.create(model="smollm2", input="Again.")
    assert run.paths()[-1] == "POST /v1/chat/completions" and run.paths().count("POST /v1/responses") == 1


def test_translated_stream_gives_openai_events_in_order(shell: Any) -> None:
    chunks = [chunk({"content": "One"}), chunk({"content": ", two"}), chunk({}, "stop"), usage_chunk(4, 2)]
    run = shell(NOT_FOUND, sse_done(chunks))
    events = validated_events(run.create(model="m", input="Count.", stream=True, max_output_tokens=8))
    assert [e.type for e in events] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done", "response.completed",
    ]  # fmt: skip
    final = events[-1].response
    assert final.output_text == "One, two" and final.usage.output_tokens == 2 and final.usage.input_tokens == 4
    chat = run.bodies()[1]
    assert chat["stream"] is True and chat["stream_options"] == {"include_usage": True} and chat["max_tokens"] == 8


def test_translated_tool_calls_and_their_results_continue_by_previous_response_id(shell: Any) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
    asked = reply(json_body=chat_body(None, finish="tool_calls", tool_calls=[call]))
    run = shell(asked, reply(json_body=chat_body("18C.")), responses_api="translated")
    first = run.create(model="m", input="Weather in Paris?", tools=[TOOL])
    check = validated(first)
    assert [i.type for i in check.output] == ["function_call"]
    assert check.output[0].call_id == "call_1" and check.output[0].arguments == '{"city":"Paris"}'
    assert run.bodies()[0]["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "parameters": TOOL["parameters"]}}
    ]
    second = run.create(
        model="m", previous_response_id=first.id, tools=[TOOL],
        input=[{"type": "function_call_output", "call_id": "call_1", "output": "18C"}],
    )  # fmt: skip
    assert second.output_text == "18C." and second.previous_response_id == first.id
    assert run.bodies()[1]["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
    ]
    assert run.paths() == ["POST /v1/chat/completions"] * 2


def test_translated_responses_are_retrieved_and_deleted_from_the_store(shell: Any) -> None:
    run = shell(reply(json_body=chat_body("Hi there.")), responses_api="translated")
    r = run.create(model="m", input="Hi")
    assert run.retrieve(r.id).output_text == "Hi there."
    assert run.delete(r.id) is None
    with pytest.raises(errors.NotFoundError):
        run.retrieve(r.id)
    with pytest.raises(errors.NotFoundError):
        run.create(model="m", input="Again", previous_response_id=r.id)
    assert run.paths() == ["POST /v1/chat/completions"]


def test_store_false_keeps_nothing(shell: Any) -> None:
    run = shell(reply(json_body=chat_body("Hi there.")), responses_api="translated")
    r = run.create(model="m", input="Hi", store=False)
    with pytest.raises(errors.NotFoundError):
        run.retrieve(r.id)


def test_an_error_mid_stream_ends_with_response_failed_then_raises(shell: Any) -> None:
    error = {"error": {"message": "Request failed during generation: boom", "http_status_code": 422}}
    run = shell(sse_done([chunk({"content": "Par"}), error]), responses_api="translated")
    client = run.client
    seen: list[Any] = []

    async def drain_async() -> None:
        stream = await client.responses.create(model="m", input="Hi", stream=True)
        async for event in stream:
            seen.append(event)

    with pytest.raises(errors.APIError, match="boom"):
        if run.kind == "sync":
            for event in client.responses.create(model="m", input="Hi", stream=True):
                seen.append(event)
        else:
            run.loop.run_until_complete(drain_async())
    checked = validated_events(seen)
    assert checked[-1].type == "response.failed" and checked[-1].response.output_text == "Par"
    assert "Request failed during generation: boom" in checked[-1].response.error.message


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"tools": [{"type": "mcp", "server_label": "x", "server_url": "https://x"}]}, "tools[0].type"),
        ({"tools": [{"type": "file_search", "vector_store_ids": ["v"]}]}, "tools[0].type"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"temperature": 5}, "temperature"),
    ],
)
def test_what_cannot_be_translated_is_refused_before_sending(shell: Any, options: dict[str, Any], param: str) -> None:
    run = shell(reply(json_body=chat_body()), responses_api="translated")
    with pytest.raises(errors.InvalidParameterError) as caught:
        run.create(model="m", input="Hi", **options)
    assert caught.value.param == param and run.server.requests == []


def test_hosted_tools_go_to_a_native_server_as_they_are(shell: Any) -> None:
    run = shell(reply(json_body=LLAMA_CPP_BODY), responses_api="native")
    run.create(model="m", input="Hi", tools=[{"type": "web_search"}])
    assert run.bodies()[0]["tools"] == [{"type": "web_search"}]


def test_tgi_is_translated_at_once_through_its_messages_api(shell: Any) -> None:
    run = shell(reply(json_body=chat_body("Hello!")), base_url="http://tgi.test")
    assert run.create(input="Hi", max_output_tokens=4).output_text == "Hello!"
    assert run.paths() == ["POST /v1/chat/completions"] and run.bodies()[0]["model"] == "tgi"


def test_a_sqlite_store_continues_a_conversation_in_another_client(shell: Any, tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite"
    first = shell(reply(json_body=chat_body("Paris.")), responses_api="translated", response_store=str(path))
    r = first.create(model="m", input="Capital of France?")
    second = shell(reply(json_body=chat_body("Lyon.")), responses_api="translated", response_store=path)
    second.create(model="m", input="And the second city?", previous_response_id=r.id)
    assert [m["content"] for m in second.bodies()[0]["messages"]] == [
        "Capital of France?",
        "Paris.",
        "And the second city?",
    ]


def test_bad_client_settings_are_refused() -> None:
    with pytest.raises(errors.InvalidParameterError) as caught:
        easyllm.HuggingFace(responses_api="sometimes")  # type: ignore[arg-type]
    assert caught.value.param == "responses_api"
    with pytest.raises(errors.InvalidParameterError):
        easyllm.HuggingFace(response_store=42)  # type: ignore[arg-type]


def test_the_dialect_decides_before_anything_is_sent(shell: Any) -> None:
    python_server = shell(reply(json_body=chat_body("Hi.")), engine="llama-cpp-python")
    python_server.create(model="m", input="Hi")
    assert python_server.paths() == ["POST /v1/chat/completions"]  # no /responses probe: it has none
    router = shell(reply(json_body=LLAMA_CPP_BODY), base_url="https://router.huggingface.co/v1", api_key="hf_x")
    router.create(model="m", input="Hi")
    assert [str(r.url) for r in router.server.requests] == ["https://router.huggingface.co/v1/responses"]


def test_extras_reach_whichever_request_is_sent(shell: Any) -> None:
    native = shell(reply(json_body=LLAMA_CPP_BODY), responses_api="native")
    native.create(model="m", input="Hi", extra_body={"top_k": 1}, extra_headers={"x-a": "1"}, extra_query={"q": "2"})
    sent = native.server.requests[0]
    assert native.bodies()[0]["top_k"] == 1 and sent.headers["x-a"] == "1" and sent.url.params["q"] == "2"
    translated = shell(reply(json_body=chat_body("Hi.")), responses_api="translated")
    translated.create(model="m", input="Hi", extra_body={"repeat_penalty": 1.0})
    assert translated.bodies()[0]["repeat_penalty"] == 1.0 and "messages" in translated.bodies()[0]


def test_reasoning_becomes_a_reasoning_item_and_effort_passes_through(shell: Any) -> None:
    body = chat_body("Blue.")
    body["choices"][0]["message"]["reasoning"] = "A colour, short."  # vLLM's and the router's name
    events = [chunk({"reasoning_content": "A colour"}), chunk({"reasoning_content": ", short."}),
              chunk({"content": "Blue."}), chunk({}, "stop")]  # fmt: skip
    run = shell(reply(json_body=body), sse_done(events), responses_api="translated")
    r = run.create(model="m", input="Name a colour.", reasoning={"effort": "low"})
    check = validated(r)
    assert [i.type for i in check.output] == ["reasoning", "message"]
    assert check.output[0].content[0].text == "A colour, short." and check.reasoning.effort == "low"
    assert run.bodies()[0]["reasoning_effort"] == "low"
    streamed = validated_events(run.create(model="m", input="Name a colour.", stream=True))
    reasoning = [e.delta for e in streamed if e.type == "response.reasoning_text.delta"]
    assert "".join(reasoning) == "A colour, short." and streamed[-1].response.output_text == "Blue."


def test_with_options_shares_the_store_and_the_way() -> None:
    client = easyllm.HuggingFace(base_url=V1, responses_api="translated")
    clone = client.with_options(timeout=5)
    assert clone.response_store is client.response_store and clone.responses_api == "translated"
    client.close()


def test_a_model_id_the_server_cannot_take_is_refused_before_sending(shell: Any) -> None:
    run = shell(reply(json_body=LLAMA_CPP_BODY), base_url="https://router.huggingface.co/v1", api_key="hf_x")
    with pytest.raises(errors.InvalidParameterError) as caught:
        run.create(model="not a hub id!", input="Hi")
    assert caught.value.param == "model" and run.server.requests == []

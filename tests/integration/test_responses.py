"""The Responses API end to end: `easyllm serve` (native), llama-cpp-python's server (translated), the openai SDK and
the OpenAI Agents SDK against `easyllm serve`. Everything is validated with the openai package's own types."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openai import OpenAI
from openai.types.responses import Response as OpenAIResponse
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

import easyllm
from easyllm import response_calls
from tests.client.v1_helpers import dump
from tests.integration import llamacpp_server

pytestmark = pytest.mark.integration

llamacpp_url = llamacpp_server.llamacpp_url  # the session fixture
EVENT = TypeAdapter(ResponseStreamEvent)
ASK = {"model": "smollm2", "input": "Name a colour.", "max_output_tokens": 16, "temperature": 0}
# llama-cpp-python's server applies a repeat penalty of 1.1 unless told otherwise (OpenAI's API has none), so its
# "greedy" answer drifts from plain greedy decoding after a dozen tokens; 1.0 makes it plain greedy.
PLAIN_GREEDY = {"repeat_penalty": 1.0}


@pytest.fixture(autouse=True)
def forget_routes() -> Iterator[None]:
    response_calls.forget_servers()
    yield
    response_calls.forget_servers()


def create(shell: str, base_url: str, *, client: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """`client.responses.create(**kwargs)` with a fresh client of the given shell; streams are drained."""
    if shell == "sync":
        with easyllm.HuggingFace(base_url=base_url, timeout=120, **(client or {})) as hf:
            result = hf.responses.create(**kwargs)
            if kwargs.get("stream"):
                with result:
                    return list(result)
            return result

    async def main() -> Any:
        async with easyllm.AsyncHuggingFace(base_url=base_url, timeout=120, **(client or {})) as hf:
            result = await hf.responses.create(**kwargs)
            if kwargs.get("stream"):
                async with result:
                    return [event async for event in result]
            return result

    return asyncio.run(main())


def check_response(response: Any) -> OpenAIResponse:
    validated = OpenAIResponse.model_validate(dump(response))
    assert validated.output_text == response.output_text
    assert validated.status in ("completed", "incomplete") and validated.usage is not None
    return validated


def check_events(events: list[Any]) -> list[Any]:
    validated = [EVENT.validate_python(dump(e)) for e in events]
    numbers = [e.sequence_number for e in validated]
    assert numbers == sorted(set(numbers))
    kinds = [e.type for e in validated]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] in ("response.completed", "response.incomplete")
    text = "".join(e.delta for e in validated if e.type == "response.output_text.delta")
    assert text == validated[-1].response.output_text
    return validated


def test_serve_answers_natively_and_the_stream_matches(shell: str, serve_url: str) -> None:
    base = f"{serve_url}/v1"
    whole = create(shell, base, **ASK)
    check_response(whole)
    assert whole.output_text and response_calls._has_route == {f"{base}/responses": True}
    events = check_events(create(shell, base, **ASK, stream=True))
    assert events[-1].response.output_text == whole.output_text


def read_afresh(llamacpp_url: str) -> None:
    """Have llama-cpp-python's server read another prompt, so that the next one is read from where they differ.

    Given the prompt it read last, the server reads only that prompt's last token again, and on some CPUs the
    logits of that one-token read differ in their last bits from those of a longer read: greedy decoding can then
    pick another word a few tokens in (seen on one machine: "... a rare and precious mineral" after a long read,
    "... a rare and precious gem" after the one-token read). Every compared answer starts from the same state.
    """
    body = {"model": "smollm2", "messages": [{"role": "user", "content": "Reset."}], "max_tokens": 1}
    httpx.post(f"{llamacpp_url}/chat/completions", json=body, timeout=120).raise_for_status()


def test_llama_cpp_python_is_translated_with_its_own_greedy_chat_answer(shell: str, llamacpp_url: str) -> None:
    chat = {"model": "smollm2", "messages": [{"role": "user", "content": ASK["input"]}], "temperature": 0}
    read_afresh(llamacpp_url)
    answer = httpx.post(
        f"{llamacpp_url}/chat/completions", json={**chat, "max_tokens": 16, **PLAIN_GREEDY}, timeout=120
    ).json()["choices"][0]["message"]["content"]
    assert answer
    read_afresh(llamacpp_url)
    translated = create(shell, llamacpp_url, **ASK, extra_body=PLAIN_GREEDY)
    check_response(translated)
    assert response_calls._has_route[f"{llamacpp_url}/responses"] is False  # found out: 404 on /responses
    assert translated.output_text == answer
    read_afresh(llamacpp_url)
    stream = create(
        shell, llamacpp_url, client={"engine": "llama-cpp-python"}, **ASK, stream=True, extra_body=PLAIN_GREEDY
    )
    events = check_events(stream)
    assert events[-1].response.output_text == answer


def test_a_conversation_continues_on_both_paths(serve_url: str, llamacpp_url: str) -> None:
    for base in (f"{serve_url}/v1", llamacpp_url):
        with easyllm.HuggingFace(base_url=base, timeout=120) as client:
            first = client.responses.create(
                model="smollm2", instructions="Answer in a few words.", input="What is the capital of France?",
                max_output_tokens=16, temperature=0,
            )  # fmt: skip
            second = client.responses.create(
                model="smollm2", input="Repeat your last answer.", previous_response_id=first.id,
                max_output_tokens=16, temperature=0,
            )  # fmt: skip
            check_response(second)
            assert second.previous_response_id == first.id and second.output_text
            assert client.responses.retrieve(first.id).output_text == first.output_text
            client.responses.delete(first.id)


def test_translated_through_serve_chat_equals_native(serve_url: str) -> None:
    base = f"{serve_url}/v1"
    native = create("sync", base, **ASK)
    translated = create("sync", base, client={"responses_api": "translated"}, **ASK)
    assert translated.output_text == native.output_text


def test_the_openai_sdk_against_serve(serve_url: str) -> None:
    sdk = OpenAI(base_url=f"{serve_url}/v1", api_key="none", timeout=120)
    whole = sdk.responses.create(**ASK)
    assert whole.output_text and whole.status in ("completed", "incomplete")
    with sdk.responses.create(**ASK, stream=True) as stream:
        events = list(stream)
    assert events[-1].type in ("response.completed", "response.incomplete")
    assert events[-1].response.output_text == whole.output_text
    with sdk.responses.stream(**{**ASK, "max_output_tokens": 200}) as helper:  # the SDK's helper wants completed
        assert helper.get_final_response().status == "completed"
    follow = sdk.responses.create(**{**ASK, "input": "Another one."}, previous_response_id=whole.id)
    assert follow.previous_response_id == whole.id
    assert sdk.responses.retrieve(whole.id).output_text == whole.output_text
    sdk.close()


def test_the_openai_agents_sdk_runs_one_turn_against_serve(serve_url: str) -> None:
    agents = pytest.importorskip("agents")
    from openai import AsyncOpenAI

    agents.set_tracing_disabled(True)
    # Runner.run_sync runs on the thread's default event loop and leaves it open: give it one, then close it.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    http = httpx.AsyncClient(timeout=120)
    try:
        client = AsyncOpenAI(base_url=f"{serve_url}/v1", api_key="none", http_client=http)
        model = agents.OpenAIResponsesModel(model="smollm2", openai_client=client)
        agent = agents.Agent(
            name="colours", instructions="Answer in a few words.", model=model,
            model_settings=agents.ModelSettings(temperature=0, max_tokens=16),
        )  # fmt: skip
        result = agents.Runner.run_sync(agent, "Name a colour.")
        assert isinstance(result.final_output, str) and result.final_output
    finally:
        loop.run_until_complete(http.aclose())
        loop.close()
        asyncio.set_event_loop(None)


def test_serve_routes_speak_openai_errors_and_keep_responses(http: httpx.Client) -> None:
    hosted = http.post("/v1/responses", json={**ASK, "tools": [{"type": "web_search"}]})
    assert hosted.status_code == 400 and hosted.json()["error"]["param"] == "tools[0].type"
    tool = {"type": "function", "name": "f", "parameters": {"type": "object"}}
    unknown_tool = http.post("/v1/responses", json={**ASK, "tools": [tool], "tool_choice": {"type": "function",
                                                                                             "name": "g"}})  # fmt: skip
    assert unknown_tool.status_code == 422 and unknown_tool.json()["error"]["type"] == "invalid_request_error"
    assert "'g', which is not in `tools`" in unknown_tool.json()["error"]["message"]
    assert http.post("/v1/responses", content=b"{", headers={"content-type": "application/json"}).status_code == 400
    missing = http.get("/v1/responses/resp_nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    kept = http.post("/v1/responses", json=ASK).json()
    assert http.get(f"/v1/responses/{kept['id']}").json()["output"] == kept["output"]
    assert http.delete(f"/v1/responses/{kept['id']}").json() == {
        "id": kept["id"],
        "object": "response",
        "deleted": True,
    }
    assert http.get(f"/v1/responses/{kept['id']}").status_code == 404
    unkept = http.post("/v1/responses", json={**ASK, "store": False}).json()
    assert http.get(f"/v1/responses/{unkept['id']}").status_code == 404
    unknown = http.post("/v1/responses", json={**ASK, "previous_response_id": "resp_nope"})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "previous_response_id"


def test_serve_holds_structured_output_to_its_schema(http: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"colour": {"enum": ["red", "green", "blue"]}},
              "required": ["colour"], "additionalProperties": False}  # fmt: skip
    text = {"format": {"type": "json_schema", "name": "colour", "schema": schema, "strict": True}}
    r = http.post("/v1/responses", json={**ASK, "max_output_tokens": 24, "text": text}).json()
    (message,) = [item for item in r["output"] if item["type"] == "message"]
    assert json.loads(message["content"][0]["text"])["colour"] in ("red", "green", "blue")
    assert r["text"]["format"]["name"] == "colour" and r["status"] == "completed"


def test_serve_streams_named_events(http: httpx.Client) -> None:
    with http.stream("POST", "/v1/responses", json={**ASK, "stream": True}) as answer:
        lines = [line for line in answer.iter_lines() if line]
    names = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    datas = [json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data: ")]
    assert names == [d["type"] for d in datas] and names[0] == "response.created"
    assert [d["sequence_number"] for d in datas] == list(range(len(datas)))

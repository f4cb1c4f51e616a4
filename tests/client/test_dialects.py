"""Each server dialect through both shells, with bodies shaped like that engine's real answers.

Covers issue "Today's Hugging Face": the router by default, the retired host, probes, each engine's structured
output form, reasoning under both names and from `<think>` blocks, tool-call deltas, finish reasons, usage
chunks, and openai>=1's `extra_body` / `extra_headers` / `extra_query`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openai.types.chat import ChatCompletion as OpenAIChatCompletion
from openai.types.chat import ChatCompletionChunk as OpenAIChatCompletionChunk

import easyllm
from easyllm import errors, settings
from easyllm.clients import huggingface
from tests.client.fake_tgi import generate_body
from tests.client.v1_helpers import MESSAGES, chat_body, chunk, dump, usage_chunk

TOKEN = "hf_" + "x" * 34
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "place", "schema": SCHEMA}}

Handler = Callable[[httpx.Request], httpx.Response]


class Routes:
    """A fake server answering by path (404 elsewhere); records every request."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes.get(request.url.path)
        if answer is None:
            return httpx.Response(404, json={"error": "not found"})
        if callable(answer):
            return answer(request)  # type: ignore[no-any-return]
        return httpx.Response(200, json=answer)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.content]


def sse(events: list[dict[str, Any] | str]) -> Handler:
    body = "".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in [*events, "[DONE]"])
    return lambda request: httpx.Response(200, content=body.encode(), headers={"content-type": "text/event-stream"})


def run_client(shell: str, server: Routes, resource: str, client: dict[str, Any], **kwargs: Any) -> Any:
    def target(hf: Any) -> Any:
        out = hf
        for part in resource.split("."):
            out = getattr(out, part)
        return out

    if shell == "sync":
        with easyllm.HuggingFace(http_client=httpx.Client(transport=httpx.MockTransport(server)), **client) as hf:
            result = target(hf).create(**kwargs)
            return list(result) if kwargs.get("stream") else result

    async def main() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            hf = easyllm.AsyncHuggingFace(http_client=http, **client)
            result = await target(hf).create(**kwargs)
            return [c async for c in result] if kwargs.get("stream") else result

    return asyncio.run(main())


def run_facade(shell: str, server: Routes, api: Any, **kwargs: Any) -> Any:
    if shell == "sync":
        huggingface.http_client = httpx.Client(transport=httpx.MockTransport(server))
        result = api.create(**kwargs)
        return list(result) if kwargs.get("stream") else result

    async def main() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            huggingface.async_http_client = http
            result = await api.acreate(**kwargs)
            return [c async for c in result] if kwargs.get("stream") else result

    return asyncio.run(main())


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ---------------------------------------------------------------- the router by default


def test_readme_first_example_goes_to_the_router(shell: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    server = Routes({"/v1/chat/completions": chat_body("Paris", id="chatcmpl-1")})
    model = "meta-llama/Llama-3.1-8B-Instruct:fastest"
    r = run_facade(shell, server, huggingface.ChatCompletion, model=model, messages=MESSAGES)
    prices, request = server.requests  # the router's price list (for usage.cost), asked once per process
    assert str(prices.url) == "https://router.huggingface.co/v1/models" and prices.method == "GET"
    assert str(request.url) == "https://router.huggingface.co/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    body = json.loads(request.content)
    assert body["model"] == model and body["messages"] == MESSAGES
    assert r.choices[0].message.content == "Paris"


def test_router_text_completion_and_embeddings_use_hf_inference(shell: str) -> None:
    server = Routes(
        {
            "/hf-inference/models/gpt2": generate_body("world"),
            "/hf-inference/models/sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction": [
                [1.0, 0.0],
                [0.0, 1.0],
            ],
        }
    )
    r = run_facade(shell, server, huggingface.Completion, model="gpt2", prompt="Hello")
    assert r.choices[0].text == "world"
    e = run_facade(
        shell, server, huggingface.Embedding, model="sentence-transformers/all-MiniLM-L6-v2", input=["a", "b"]
    )
    assert [d.embedding for d in e.data] == [[1.0, 0.0], [0.0, 1.0]]
    urls = [str(r.url) for r in server.requests]
    assert urls == [
        "https://router.huggingface.co/hf-inference/models/gpt2",
        "https://router.huggingface.co/hf-inference/models/sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction",
    ]
    assert server.bodies()[0]["inputs"] == "Hello" and server.bodies()[1] == {"inputs": ["a", "b"]}


def test_router_needs_a_model_before_sending(shell: str) -> None:
    server = Routes({})
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        run_facade(shell, server, huggingface.ChatCompletion, messages=MESSAGES)
    assert server.requests == []


def test_named_provider_base_keeps_its_routes(shell: str) -> None:
    server = Routes({"/together/v1/completions": {"choices": [{"index": 0, "text": "ok", "finish_reason": "eos"}]}})
    r = run_client(
        shell, server, "completions", {"base_url": "https://router.huggingface.co/together/v1"}, model="m", prompt="x"
    )
    assert r.choices[0].text == "ok" and r.choices[0].finish_reason == "stop"


# ---------------------------------------------------------------- the retired host


def test_retired_host_is_rewritten_with_one_warning(shell: str, caplog: pytest.LogCaptureFixture) -> None:
    monkey_warned = settings._warned_retired
    settings._warned_retired = False
    settings._settings.cache_clear()
    try:
        server = Routes({"/hf-inference/models/org/m": generate_body("hi")})
        with caplog.at_level(logging.WARNING, logger="easyllm"):
            for _ in range(2):
                run_facade(
                    shell,
                    server,
                    huggingface.Completion,
                    api_base="https://api-inference.huggingface.co/models",
                    model="org/m",
                    prompt="x",
                )
        assert [str(r.url) for r in server.requests] == ["https://router.huggingface.co/hf-inference/models/org/m"] * 2
        assert caplog.text.count("api-inference.huggingface.co is retired") == 1
    finally:
        settings._warned_retired = monkey_warned
        settings._settings.cache_clear()


def test_410_raises_gone_and_is_not_retried(shell: str) -> None:
    gone = {"error": "api-inference.huggingface.co is no longer supported. Please use router.huggingface.co"}
    server = Routes({"/models/org/m": lambda request: httpx.Response(410, json=gone)})
    with pytest.raises(errors.GoneError, match=r"router\.huggingface\.co") as info:
        run_facade(shell, server, huggingface.Completion, api_base="http://old.test/models", model="org/m", prompt="x")
    assert info.value.status_code == 410 and len(server.requests) == 1


# ---------------------------------------------------------------- structured output per engine

PROBE_ANSWERS: dict[str, dict[str, Any]] = {
    "vllm": {"/version": {"version": "0.11.2"}},
    "sglang": {"/get_model_info": {"model_path": "Qwen/Qwen3-8B", "is_generation": True}},
    "llama.cpp": {"/props": {"default_generation_settings": {"n_ctx": 4096}, "total_slots": 1}},
    "tgi": {"/info": {"model_id": "m", "max_total_tokens": 4096, "max_client_batch_size": 4, "version": "3.3.6"}},
}

EXPECTED_FORMAT: dict[str, dict[str, Any]] = {
    "vllm": JSON_SCHEMA,
    "sglang": JSON_SCHEMA,
    "llama.cpp": JSON_SCHEMA,
    "openai": JSON_SCHEMA,
    "tgi": {"type": "json_object", "value": SCHEMA},
}


@pytest.mark.parametrize("engine", ["vllm", "sglang", "llama.cpp", "tgi", "openai"])
def test_structured_output_probes_once_and_takes_the_engines_form(shell: str, engine: str) -> None:
    server = Routes({**PROBE_ANSWERS.get(engine, {}), "/v1/chat/completions": chat_body('{"city": "Paris"}')})
    client = {"base_url": "http://engine.test/v1"}
    for _ in range(2):
        r = run_client(shell, server, "chat.completions", client, messages=MESSAGES, response_format=JSON_SCHEMA)
    assert json.loads(r.choices[0].message.content) == {"city": "Paris"}
    probes = [p for p in server.paths() if p != "/v1/chat/completions"]
    assert len(probes) == len(set(probes))  # each probe route asked once, on the first call only
    assert server.paths()[-2:] == ["/v1/chat/completions"] * 2
    assert server.bodies()[-1]["response_format"] == EXPECTED_FORMAT[engine]
    if engine == "tgi":
        assert server.bodies()[-1]["model"] == "tgi"


def test_without_structured_output_nothing_is_probed(shell: str) -> None:
    server = Routes({"/v1/chat/completions": chat_body()})
    run_client(shell, server, "chat.completions", {"base_url": "http://engine.test/v1"}, messages=MESSAGES)
    assert server.paths() == ["/v1/chat/completions"]


def test_llama_cpp_python_engine_is_chosen_explicitly(shell: str) -> None:
    server = Routes({"/v1/chat/completions": chat_body("{}")})
    history = [*MESSAGES, {"role": "assistant", "content": None, "tool_calls": []}, {"role": "user", "content": "?"}]
    client = {"base_url": "http://lcp.test/v1", "engine": "llama-cpp-python"}
    run_client(shell, server, "chat.completions", client, messages=history, response_format=JSON_SCHEMA)
    body = server.bodies()[0]
    assert server.paths() == ["/v1/chat/completions"]
    assert body["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert body["messages"][1]["content"] == ""  # it answers 500 to a null content
    assert body["repeat_penalty"] == 1.0  # its own default is 1.1; OpenAI's API has no repeat penalty
    run_client(shell, server, "chat.completions", client, messages=MESSAGES, repetition_penalty=1.3)
    assert server.bodies()[1]["repeat_penalty"] == 1.3 and "repetition_penalty" not in server.bodies()[1]


def test_unknown_engine_is_refused_naming_the_known_ones(shell: str) -> None:
    server = Routes({})
    with pytest.raises(errors.InvalidParameterError, match="vllm") as info:
        run_facade(
            shell, server, huggingface.ChatCompletion, api_base="http://x.test/v1", engine="vlm", messages=MESSAGES
        )
    assert info.value.param == "engine" and server.requests == []


# ---------------------------------------------------------------- embeddings at a server's root


def test_root_embeddings_go_to_tei_embed_when_info_says_tei(shell: str) -> None:
    info = {"model_id": "m", "model_type": {"embedding": {"pooling": "mean"}}, "max_client_batch_size": 2}
    server = Routes(
        {
            "/info": info,
            "/embed": lambda req: httpx.Response(200, json=[[1.0]] * len(json.loads(req.content)["inputs"])),
        }
    )
    r = run_facade(shell, server, huggingface.Embedding, api_base="http://tei.test", input=["a", "b", "c"])
    assert len(r.data) == 3
    assert server.paths() == ["/info", "/embed", "/embed"]  # batches of 2, the limit /info gave


def test_root_embeddings_go_to_the_url_itself_elsewhere(shell: str) -> None:
    def pipeline(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[[0.5, 0.5] for _ in json.loads(request.content)["inputs"]])

    server = Routes({"/": pipeline})
    for _ in range(2):
        r = run_facade(shell, server, huggingface.Embedding, api_base="http://endpoint.test", input=["a"])
    assert len(r.data[0].embedding) == 2
    assert server.paths().count("/info") == 1 and server.paths()[-1] == "/"
    assert server.bodies()[-1] == {"inputs": ["a"]}


# ---------------------------------------------------------------- reasoning


@pytest.mark.parametrize(
    "message",
    [
        {"role": "assistant", "content": "4", "reasoning": "2+2"},  # vLLM, the router
        {"role": "assistant", "content": "4", "reasoning_content": "2+2"},  # SGLang, llama.cpp, DeepSeek
        {"role": "assistant", "content": "<think>2+2</think>\n\n4"},  # TGI: no reasoning parser
    ],
)
def test_reasoning_under_both_names_whatever_the_server_said(shell: str, message: dict[str, Any]) -> None:
    body = chat_body()
    body["choices"][0]["message"] = message
    server = Routes({"/v1/chat/completions": body})
    r = run_client(shell, server, "chat.completions", {"base_url": "http://r.test/v1"}, messages=MESSAGES)
    m = r.choices[0].message
    assert (m.content, m.reasoning, m.reasoning_content) == ("4", "2+2", "2+2")
    OpenAIChatCompletion.model_validate(dump(r))


def test_facade_message_has_reasoning_too(shell: str) -> None:
    server = Routes({"/v1/chat/completions": chat_body("<think>hm</think>Yes")})
    r = run_facade(shell, server, huggingface.ChatCompletion, api_base="http://r.test/v1", messages=MESSAGES)
    assert r["choices"][0]["message"]["reasoning"] == "hm" and r.choices[0].message.content == "Yes"


def stream_chat(shell: str, server: Routes, base: str) -> list[Any]:
    return run_client(shell, server, "chat.completions", {"base_url": base}, messages=MESSAGES, stream=True)  # type: ignore[no-any-return]


def _stream_text(chunks: list[Any], field: str) -> str:
    return "".join(getattr(c.choices[0].delta, field) or "" for c in chunks if c.choices)


@pytest.mark.parametrize("pieces", [["<think>", "a b", "</think>", "\n", "Hi"], ["<th", "ink>a", " b</th", "ink>Hi"]])
def test_think_tags_split_across_chunks_become_reasoning_deltas(shell: str, pieces: list[str]) -> None:
    events: list[dict[str, Any] | str] = [chunk({"content": p}) for p in pieces]
    events += [chunk({}, "stop"), usage_chunk()]
    server = Routes({"/v1/chat/completions": sse(events)})
    chunks = run_client(
        shell, server, "chat.completions", {"base_url": "http://r.test/v1"}, messages=MESSAGES, stream=True
    )
    assert _stream_text(chunks, "reasoning") == "a b" == _stream_text(chunks, "reasoning_content")
    assert _stream_text(chunks, "content") == "Hi"
    for c in chunks:
        OpenAIChatCompletionChunk.model_validate(dump(c))


def test_server_reasoning_deltas_are_given_both_names(shell: str) -> None:
    events: list[dict[str, Any] | str] = [
        chunk({"reasoning_content": "x"}),
        chunk({"reasoning_content": "y"}),
        chunk({"content": "<think>not reasoning</think>"}),
        chunk({}, "stop"),
    ]
    server = Routes({"/v1/chat/completions": sse(events)})
    chunks = run_client(
        shell, server, "chat.completions", {"base_url": "http://r.test/v1"}, messages=MESSAGES, stream=True
    )
    assert _stream_text(chunks, "reasoning") == "xy" == _stream_text(chunks, "reasoning_content")
    assert _stream_text(chunks, "content") == "<think>not reasoning</think>"  # the server already parsed it


# ---------------------------------------------------------------- tool-call deltas, finish reasons, usage


def test_tool_call_deltas_always_carry_index_id_and_string_arguments(shell: str) -> None:
    events: list[dict[str, Any] | str] = [
        chunk({"tool_calls": [{"function": {"name": "weather", "arguments": None}}]}),  # no index, no id
        chunk({"tool_calls": [{"id": "late-id", "function": {"arguments": '{"city": '}}]}),
        chunk({"tool_calls": [{"function": {"arguments": '"Paris"}'}}]}),
        chunk({}, "tool_calls"),
    ]
    server = Routes({"/v1/chat/completions": sse(events)})
    chunks = run_client(
        shell, server, "chat.completions", {"base_url": "http://t.test/v1"}, messages=MESSAGES, stream=True
    )
    deltas = [call for c in chunks if c.choices for call in (c.choices[0].delta.tool_calls or [])]
    assert [d.index for d in deltas] == [0, 0, 0]
    assert deltas[0].id and deltas[0].type == "function" and all(d.id is None for d in deltas[1:])
    assert all(isinstance(d.function.arguments, str) for d in deltas)
    assert "".join(d.function.arguments for d in deltas) == '{"city": "Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    for c in chunks:
        OpenAIChatCompletionChunk.model_validate(dump(c))


def test_vllm_stop_reason_never_leaks_as_a_finish_reason(shell: str) -> None:
    body = chat_body("x", finish="stop")
    body["choices"][0]["stop_reason"] = 128001
    eos = chat_body("y", finish="eos")
    server = Routes({"/v1/chat/completions": body, "/b/v1/chat/completions": eos})
    r = run_client(shell, server, "chat.completions", {"base_url": "http://v.test/v1"}, messages=MESSAGES)
    assert r.choices[0].finish_reason == "stop"
    r = run_client(shell, server, "chat.completions", {"base_url": "http://v.test/b/v1"}, messages=MESSAGES)
    assert r.choices[0].finish_reason == "stop"


def test_stream_usage_is_asked_for_and_its_chunk_has_no_choices(shell: str) -> None:
    events: list[dict[str, Any] | str] = [chunk({"content": "a"}), chunk({}, "stop"), usage_chunk(5, 1)]
    server = Routes({"/v1/chat/completions": sse(events)})
    chunks = run_client(
        shell, server, "chat.completions", {"base_url": "http://u.test/v1"}, messages=MESSAGES, stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    assert server.bodies()[0]["stream_options"] == {"include_usage": True}
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 1


# ---------------------------------------------------------------- openai>=1's escape hatches


def test_extra_body_headers_and_query_reach_the_server(shell: str) -> None:
    server = Routes({"/v1/chat/completions": chat_body()})
    run_client(
        shell, server, "chat.completions", {"base_url": "http://x.test/v1"}, messages=MESSAGES,
        extra_body={"chat_template_kwargs": {"enable_thinking": False}, "top_k": 20, "min_p": 0.05},
        extra_headers={"X-Trace": "abc"}, extra_query={"api-version": "1"}, reasoning_effort="low",
    )  # fmt: skip
    (request,) = server.requests
    body = json.loads(request.content)
    assert body["chat_template_kwargs"] == {"enable_thinking": False} and body["top_k"] == 20 and body["min_p"] == 0.05
    assert body["reasoning_effort"] == "low"
    assert request.headers["x-trace"] == "abc" and request.url.params["api-version"] == "1"


def test_extra_body_on_the_facade_and_on_embeddings(shell: str) -> None:
    server = Routes(
        {
            "/v1/chat/completions": chat_body(),
            "/v1/embeddings": {"data": [{"index": 0, "embedding": [1.0, 0.0]}], "model": "e", "object": "list"},
        }
    )
    run_facade(
        shell, server, huggingface.ChatCompletion, api_base="http://x.test/v1", messages=MESSAGES, extra_body={"a": 1}
    )
    run_client(
        shell,
        server,
        "embeddings",
        {"base_url": "http://x.test/v1"},
        input="t",
        extra_body={"truncate_prompt_tokens": 8},
    )
    assert server.bodies()[0]["a"] == 1 and server.bodies()[1]["truncate_prompt_tokens"] == 8


def test_bad_extras_are_refused_before_sending(shell: str) -> None:
    server = Routes({})
    with pytest.raises(errors.InvalidParameterError, match="extra_body"):
        run_client(
            shell, server, "chat.completions", {"base_url": "http://x.test/v1"}, messages=MESSAGES, extra_body=[1]
        )
    with pytest.raises(errors.InvalidParameterError, match="extra_headers"):
        run_facade(
            shell,
            server,
            huggingface.ChatCompletion,
            api_base="http://x.test/v1",
            messages=MESSAGES,
            extra_headers={"a": 1},
        )
    assert server.requests == []

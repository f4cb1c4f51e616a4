"""The client objects: text completions, embeddings, pools, options, exports and sync/async parity."""

from __future__ import annotations

import asyncio
import base64
import inspect
import struct
from typing import Any

import httpx
import pytest
from openai.types import Completion as OpenAICompletion
from openai.types import CreateEmbeddingResponse as OpenAICreateEmbeddingResponse

import easyllm
from easyllm import client_resources
from easyllm.clients import huggingface
from easyllm.schema.types import Completion
from tests.client import v1_helpers
from tests.client.fake_tgi import FakeServer, reply
from tests.client.v1_helpers import (
    MESSAGES,
    V1,
    chat_body,
    dump,
    sse_done,
)

# fixtures shared by the v1 tests
forget_routes = v1_helpers.forget_routes
make_v1 = v1_helpers.make_v1
v1_shell = v1_helpers.v1_shell


def text_chunk(text: str, finish: str | None = "") -> dict[str, Any]:
    return {
        "object": "text_completion",
        "id": "",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}],
    }


def test_completions_go_to_the_completions_route(make_v1: Any) -> None:
    body = text_chunk(" world", "eos_token")
    body["usage"] = {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}
    run = make_v1(reply(json_body=body))
    r = run("completions", prompt="Hello", max_tokens=4, echo=True, logprobs=2)
    assert isinstance(r, Completion) and r.choices[0].text == " world" and r.choices[0].finish_reason == "stop"
    OpenAICompletion.model_validate(dump(r))
    assert run.paths() == ["/v1/completions"]
    sent = run.bodies()[0]
    assert sent["prompt"] == "Hello" and sent["echo"] is True and sent["logprobs"] == 2


def test_completion_stream_maps_empty_and_raw_finish_reasons(make_v1: Any) -> None:
    run = make_v1(sse_done([text_chunk("a"), text_chunk("b"), text_chunk("", "stop_sequence")]))
    chunks = run("completions", prompt="x", stream=True)
    assert [c.choices[0].finish_reason for c in chunks] == [None, None, "stop"]
    assert "".join(c.choices[0].text for c in chunks) == "ab"
    # openai's type demands a finish_reason, so only the last chunk validates (openai builds chunks unvalidated)
    OpenAICompletion.model_validate(dump(chunks[-1]))


def embedding_body(vectors: list[list[float]], *, usage: bool = True) -> dict[str, Any]:
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    body: dict[str, Any] = {"object": "list", "data": list(reversed(data)), "model": "emb"}
    if usage:
        body["usage"] = {"prompt_tokens": 4, "total_tokens": 4}
    return body


def test_embeddings_on_a_v1_base(make_v1: Any) -> None:
    run = make_v1(reply(json_body=embedding_body([[3.0, 4.0], [1.0, 0.0]])))
    r = run("embeddings", input=["a", "b"], model="emb")
    assert [d.index for d in r.data] == [0, 1] and r.data[0].embedding == [0.6, 0.8]
    assert r.usage.prompt_tokens == 4 and r.model == "emb"
    OpenAICreateEmbeddingResponse.model_validate(dump(r))
    assert run.paths() == ["/v1/embeddings"]  # no /info probe on OpenAI servers
    # vectors are asked for as base64 (this server answers floats anyway, which is read and remembered)
    assert run.bodies()[0] == {"input": ["a", "b"], "encoding_format": "base64", "model": "emb"}


def test_embeddings_base64_and_estimated_usage(make_v1: Any) -> None:
    run = make_v1(reply(json_body=embedding_body([[1.0, 0.0]], usage=False)))
    r = run("embeddings", input="a", encoding_format="base64")
    assert struct.unpack("<2f", base64.b64decode(r.data[0].embedding)) == (1.0, 0.0)
    assert r.usage.model_dump()["estimated"] is True


def test_client_owns_and_closes_its_pool() -> None:
    client = easyllm.HuggingFace(base_url=V1)
    with client:
        derived = client.with_options(timeout=5, max_retries=0)
        assert derived._http is client._http and derived.timeout == 5 and derived.max_retries == 0
        assert derived.base_url == V1 and client.timeout is None
    assert client._http.is_closed


def test_async_client_owns_and_closes_its_pool() -> None:
    async def main() -> Any:
        async with easyllm.AsyncHuggingFace(base_url=V1) as client:
            derived = client.with_options(timeout=5)
            assert derived._http is client._http and derived.timeout == 5
        return client._http

    assert asyncio.run(main()).is_closed


def test_a_callers_http_client_is_left_open() -> None:
    http = httpx.Client(transport=httpx.MockTransport(FakeServer([reply(json_body=chat_body())])))
    with easyllm.HuggingFace(base_url=V1, http_client=http) as client:
        client.chat.completions.create(messages=MESSAGES)
    assert not http.is_closed
    http.close()


def test_per_call_timeout_and_settings_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.extensions["timeout"]["read"]))
        return httpx.Response(200, json=chat_body())

    client = easyllm.HuggingFace(http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    monkeypatch.setenv("HUGGINGFACE_API_BASE", "http://late.test/v1")
    client.chat.completions.create(messages=MESSAGES, timeout=7)
    assert seen[0][0] == "late.test" and 6.5 < seen[0][1] <= 7.0


def test_the_facade_reaches_openai_servers_too(make_v1: Any) -> None:
    server = FakeServer([reply(json_body=chat_body("dict"))])
    huggingface.http_client = httpx.Client(transport=httpx.MockTransport(server))
    r = huggingface.ChatCompletion.create(api_base=V1, messages=MESSAGES)
    assert r["choices"][0]["message"]["content"] == r.choices[0].message.content == "dict"
    assert server.requests[0].url.path == "/v1/chat/completions"


def test_exports() -> None:
    for name in ("HuggingFace", "AsyncHuggingFace", "Stream", "AsyncStream"):
        assert name in easyllm.__all__ and getattr(easyllm, name)


@pytest.mark.parametrize(
    ("sync", "asyn"),
    [
        (client_resources.ChatCompletions, client_resources.AsyncChatCompletions),
        (client_resources.Completions, client_resources.AsyncCompletions),
        (client_resources.Embeddings, client_resources.AsyncEmbeddings),
        (easyllm.HuggingFace, easyllm.AsyncHuggingFace),
    ],
)
def test_sync_and_async_resources_have_the_same_signatures(sync: type, asyn: type) -> None:
    names = ["create"] if hasattr(sync, "create") else ["__init__", "with_options"]
    for name in names:
        s, a = inspect.signature(getattr(sync, name)), inspect.signature(getattr(asyn, name))
        assert list(s.parameters) == list(a.parameters), name
        assert [p.default for p in s.parameters.values()] == [p.default for p in a.parameters.values()], name
        assert name == "__init__" or (getattr(sync, name).__doc__ and getattr(asyn, name).__doc__)
    if hasattr(sync, "create"):
        assert inspect.iscoroutinefunction(asyn.create)

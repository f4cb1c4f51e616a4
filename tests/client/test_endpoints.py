"""Several endpoints for one model: spread, failover, cool-down, streams, both shells (through MockTransport)."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import pytest

import easyllm
from easyllm import endpoints
from easyllm.errors import APIConnectionError, InvalidParameterError, ServiceUnavailableError
from tests.client.pool_helpers import Counting, run, run_many
from tests.client.v1_helpers import MESSAGES, chunk, sse_done, usage_chunk

A, B = "http://a.test/v1", "http://b.test/v1"


@pytest.fixture(autouse=True)
def fresh_pools() -> Any:
    endpoints._pools.clear()
    yield
    endpoints._pools.clear()


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def one_text(hf: Any, i: int) -> Any:
    return hf.embeddings.create(input=[f"text {i}"], normalize=False)


def embed(texts: list[str]) -> Any:
    return lambda hf, *_: hf.embeddings.create(input=texts, model="m", normalize=False)


def test_sequential_calls_alternate_between_idle_endpoints(shell: str) -> None:
    server = Counting()
    run(shell, server, _four_calls(shell), base_url=[A, B])
    assert server.hosts == {"a.test": 2, "b.test": 2}


def _four_calls(shell: str) -> Any:
    if shell == "sync":
        return lambda hf: [hf.embeddings.create(input=["x"]) for _ in range(4)]

    async def calls(hf: Any) -> list[Any]:
        return [await hf.embeddings.create(input=["x"]) for _ in range(4)]

    return calls


def test_concurrent_calls_spread_by_load_and_weight(shell: str) -> None:
    server = Counting(delay=0.005)
    pool = easyllm.EndpointPool([A, B], weights=[3, 1])
    answers = run_many(shell, server, 200, one_text, base_url=pool)
    assert [a.data[0].embedding[0] for a in answers] == [float(len(f"text {i}")) for i in range(200)]
    assert sum(server.hosts.values()) == 200  # each call sent once
    assert server.hosts["a.test"] > 2 * server.hosts["b.test"] > 0  # about 3:1
    assert pool.in_flight() == [0, 0]


def test_a_dead_endpoint_takes_one_failure_then_its_share_moves(shell: str) -> None:
    server = Counting(fail={"a.test": httpx.ConnectError("refused")})
    answers = run_many(shell, server, 200, one_text, base_url=[A, B])
    assert [a.data[0].embedding[0] for a in answers] == [float(len(f"text {i}")) for i in range(200)]
    assert server.hosts["b.test"] == 200  # every call answered exactly once, all by b
    assert 1 <= server.hosts["a.test"] <= 32  # only calls already on their way when a failed tried it
    assert endpoints.pool_of([A, B]).healthy() == [B]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_overload_fail_over_without_waiting(shell: str, status: int) -> None:
    server = Counting(fail={"a.test": status})
    started = time.monotonic()
    answer = run(shell, server, embed(["x"]), base_url=[A, B])
    assert time.monotonic() - started < 1.0  # no backoff while another endpoint is healthy
    assert answer.data[0].embedding == [1.0, 1.0]
    assert server.hosts == {"a.test": 1, "b.test": 1}


def test_a_request_error_is_not_the_endpoint_fault(shell: str) -> None:
    server = Counting(fail={"a.test": 400, "b.test": 400})
    with pytest.raises(easyllm.BadRequestError):
        run(shell, server, embed(["x"]), base_url=[A, B])
    assert sum(server.hosts.values()) == 1
    assert endpoints.pool_of([A, B]).healthy() == [A, B]


def test_failover_stays_within_max_retries(shell: str) -> None:
    server = Counting(fail={"a.test": 503, "b.test": 503})
    with pytest.raises(ServiceUnavailableError):
        run(shell, server, embed(["x"]), base_url=[A, B], max_retries=0)
    assert sum(server.hosts.values()) == 1


def test_every_endpoint_down_raises_after_the_retry_budget(shell: str) -> None:
    refused = httpx.ConnectError("refused")
    server = Counting(fail={"a.test": refused, "b.test": refused})
    with pytest.raises(APIConnectionError):
        run(shell, server, embed(["x"]), base_url=[A, B], max_retries=1, timeout=5)
    assert server.hosts == {"a.test": 1, "b.test": 1}  # each tried once, none twice


def test_a_rested_endpoint_is_tried_again_after_the_cooldown(shell: str) -> None:
    pool = easyllm.EndpointPool([A, B], cooldown=0.2)
    run(shell, Counting(fail={"a.test": 503}), embed(["x"]), base_url=pool)
    assert pool.healthy() == [B]
    time.sleep(0.25)
    server = Counting()
    run(shell, server, _four_calls(shell), base_url=pool)
    assert server.hosts == {"a.test": 2, "b.test": 2}
    assert pool.healthy() == [A, B]


def test_embedding_batches_spread_over_the_endpoints(shell: str) -> None:
    server = Counting(delay=0.01)
    texts = [f"text {i}" for i in range(64)]
    answer = run(shell, server, lambda hf: hf.embeddings.create(input=texts, batch_size=4), base_url=[A, B])
    assert [item.index for item in answer.data] == list(range(64))
    assert server.hosts["a.test"] + server.hosts["b.test"] == 16
    assert min(server.hosts.values()) >= 4


def test_chat_fails_over_through_the_module_facade(shell: str) -> None:
    from easyllm.clients import huggingface

    server = Counting(fail={"a.test": httpx.ConnectError("refused")})
    if shell == "sync":
        huggingface.http_client = httpx.Client(transport=httpx.MockTransport(server))
        answer = huggingface.ChatCompletion.create(messages=MESSAGES, api_base=[A, B])
    else:
        import asyncio

        async def main() -> Any:
            async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
                huggingface.async_http_client = http
                return await huggingface.ChatCompletion.acreate(messages=MESSAGES, api_base=[A, B])

        answer = asyncio.run(main())
    assert answer.choices[0].message.content == "echo Hi"
    assert server.hosts == {"a.test": 1, "b.test": 1}


def test_a_stream_fails_over_before_its_first_byte(shell: str) -> None:
    hosts: list[str] = []
    stream_body = sse_done([chunk({"content": "Hello"}), chunk({}, "stop"), usage_chunk()])

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(503, json={"error": "loading"}) if request.url.host == "a.test" else stream_body(request)

    chunks = run(shell, handler, _stream(shell), base_url=[A, B])
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello"
    assert hosts == ["a.test", "b.test"]


def _stream(shell: str) -> Any:
    if shell == "sync":
        return lambda hf: list(hf.chat.completions.create(messages=MESSAGES, stream=True))

    async def read(hf: Any) -> list[Any]:
        return [c async for c in await hf.chat.completions.create(messages=MESSAGES, stream=True)]

    return read


def test_a_stream_is_not_sent_again_once_data_reached_the_caller(shell: str) -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(200, content=b'data: {"choices": [', headers={"content-type": "text/event-stream"})

    with pytest.raises(easyllm.APIError):
        run(shell, handler, _stream(shell), base_url=[A, B])
    assert len(hosts) == 1


def test_choices_and_health_are_in_the_debug_log(shell: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="easyllm.endpoints")
    run(shell, Counting(fail={"a.test": 503}), embed(["x"]), base_url=[A, B])
    text = caplog.text
    assert f"endpoint {A} chosen" in text and f"endpoint {B} chosen" in text
    assert f"endpoint {A} unhealthy for 30s after: HTTP 503" in text


def test_the_same_list_is_the_same_pool_and_a_pool_keeps_its_settings() -> None:
    assert endpoints.pool_of([A, B]) is endpoints.pool_of((A + "/", B))
    pool = easyllm.EndpointPool([A, B], weights=[2, 1], cooldown=5)
    assert endpoints.pool_of(pool) is pool
    assert repr(pool) == f"EndpointPool(['{A}', '{B}'], weights=[2.0, 1.0], cooldown=5)"


@pytest.mark.parametrize(
    ("bases", "param"),
    [
        ([], "api_base"),
        ([A, "ftp://b.test/v1"], "api_base"),
        ([A, A], "api_base"),
        ([A, "http://b.test"], "api_base"),  # an OpenAI server and a TGI root are not one kind
    ],
)
def test_bad_lists_are_refused_before_sending(shell: str, bases: list[str], param: str) -> None:
    server = Counting()
    with pytest.raises(InvalidParameterError) as info:
        run(shell, server, embed(["x"]), base_url=bases)
    assert info.value.param == param
    assert not server.hosts


@pytest.mark.parametrize(("weights", "cooldown"), [([1], 30), ([1, 0], 30), ([1, True], 30), (None, -1)])
def test_bad_weights_and_cooldowns_are_refused(weights: Any, cooldown: float) -> None:
    with pytest.raises(InvalidParameterError):
        easyllm.EndpointPool([A, B], weights=weights, cooldown=cooldown)


def test_a_token_goes_to_every_endpoint_but_never_into_the_log(shell: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="easyllm")
    seen: list[str | None] = []
    server = Counting(fail={"a.test": 503})

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return server(request)

    run(shell, handler, embed(["x"]), base_url=[A, B], api_key="hf_secret")
    assert seen == ["Bearer hf_secret", "Bearer hf_secret"]
    assert "hf_secret" not in caplog.text

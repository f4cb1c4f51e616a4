"""`usage.cost`: from the router's price list (a recorded body, never fetched from the network) or a price table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import easyllm
from easyllm import prices
from easyllm.clients import huggingface
from easyllm.errors import InvalidParameterError
from easyllm.protocol.pricing import Price, cost_of, price_for, router_prices
from tests.client.pool_helpers import Counting, chat_answer, run
from tests.client.v1_helpers import MESSAGES, V1, chunk, sse_done, usage_chunk

ROUTER = "https://router.huggingface.co/v1"
RECORDED = json.loads((Path(__file__).parent / "data" / "router_models.json").read_text())


@pytest.fixture(autouse=True)
def no_router_prices() -> Iterator[None]:
    prices.forget_router_prices()
    yield
    prices.forget_router_prices()


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Router:
    """The router as MockTransport sees it: the recorded model list, and chat answers (10 + 4 tokens)."""

    def __init__(self, models: httpx.Response | None = None) -> None:
        self.model_lists = 0
        self.models = models

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            self.model_lists += 1
            return self.models or httpx.Response(200, json=RECORDED)
        body = json.loads(request.content)
        return httpx.Response(200, json=chat_answer("Hi", model=body["model"]))


def chat(model: str, **options: Any) -> Any:
    return lambda hf: hf.chat.completions.create(messages=MESSAGES, model=model, **options)


@pytest.mark.parametrize(
    ("model", "price"),
    [
        ("deepseek-ai/DeepSeek-V4-Pro:novita", (1.69, 3.38)),
        ("deepseek-ai/DeepSeek-V4-Pro:together", (2.1, 4.4)),
        ("deepseek-ai/DeepSeek-V4-Pro:cheapest", (1.69, 3.38)),
        ("deepseek-ai/DeepSeek-R1", (3.0, 7.0)),  # one live provider with a price
    ],
)
def test_router_calls_cost_the_listed_price(shell: str, model: str, price: tuple[float, float]) -> None:
    router = Router()
    answer = run(shell, router, chat(model), base_url=ROUTER)
    assert answer.usage.cost == pytest.approx((10 * price[0] + 4 * price[1]) / 1e6)
    assert router.model_lists == 1


def test_the_price_list_is_fetched_once_per_process(shell: str) -> None:
    router = Router()
    for model in ("deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-V4-Pro:novita"):
        run(shell, router, chat(model), base_url=ROUTER)
    assert router.model_lists == 1


def test_an_unknown_price_leaves_cost_unset(shell: str) -> None:
    # Two providers with different prices and no suffix: the router chooses, the answer does not say which.
    answer = run(shell, Router(), chat("deepseek-ai/DeepSeek-V4-Pro"), base_url=ROUTER)
    assert "cost" not in (answer.usage.model_extra or {})
    other = run(shell, Router(), chat("org/not-listed"), base_url=ROUTER)
    assert "cost" not in (other.usage.model_extra or {})


def test_a_failed_price_list_is_logged_and_the_call_answers(shell: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="easyllm.prices")
    router = Router(models=httpx.Response(401, json={"error": "Invalid credentials"}))
    answer = run(shell, router, chat("deepseek-ai/DeepSeek-R1"), base_url=ROUTER, max_retries=0)
    assert answer.choices[0].message.content == "Hi" and "cost" not in (answer.usage.model_extra or {})
    assert "no router prices" in caplog.text
    run(shell, router, chat("deepseek-ai/DeepSeek-R1"), base_url=ROUTER, max_retries=0)
    assert router.model_lists == 1


def test_a_price_table_on_the_call_wins_over_the_client(shell: str) -> None:
    table = {"m": {"input": 1.0, "output": 2.0}}
    answer = run(shell, Counting(), chat("m", temperature=0.5), base_url=V1, prices={"m": {"input": 9, "output": 9}})
    assert answer.usage.cost == pytest.approx((10 * 9 + 4 * 9) / 1e6)
    answer = run(shell, Counting(), chat("m", prices=table), base_url=V1, prices={"m": {"input": 9, "output": 9}})
    assert answer.usage.cost == pytest.approx((10 * 1 + 4 * 2) / 1e6)


def test_a_stream_usage_chunk_carries_the_cost(shell: str) -> None:
    body = sse_done([chunk({"content": "Hi"}), chunk({}, "stop"), usage_chunk(5, 3)])
    options = {"messages": MESSAGES, "model": "m", "stream": True, "stream_options": {"include_usage": True}}
    if shell == "sync":
        read: Any = lambda hf: list(hf.chat.completions.create(**options))  # noqa: E731
    else:

        async def read(hf: Any) -> list[Any]:
            return [c async for c in await hf.chat.completions.create(**options)]

    chunks = run(shell, body, read, base_url=V1, prices={"m": {"input": 2.0, "output": 10.0}})
    assert chunks[-1].usage.cost == pytest.approx((5 * 2 + 3 * 10) / 1e6)


def test_an_embedding_batch_total(shell: str) -> None:
    server = Counting()
    texts = [f"word{i} word" for i in range(100)]
    call = lambda hf: hf.embeddings.create(input=texts, model="m", batch_size=8)  # noqa: E731
    answer = run(shell, server, call, base_url=V1, prices={"m": {"input": 0.02}})
    assert answer.usage.prompt_tokens == 200
    assert answer.usage.cost == pytest.approx(200 * 0.02 / 1e6)


def test_the_module_table_and_iter_batches(shell: str) -> None:
    huggingface.prices = {"m": {"input": 1.0, "output": 0.0}}
    server = Counting()
    huggingface.http_client = httpx.Client(transport=httpx.MockTransport(server))
    batches = list(huggingface.Embedding.iter_batches(input=["a b", "c"], model="m", api_base=V1, batch_size=1))
    assert [b.usage.cost for b in batches] == [pytest.approx(2e-6), pytest.approx(1e-6)]
    answer = huggingface.ChatCompletion.create(messages=MESSAGES, model="m", api_base=V1)
    assert answer.usage.cost == pytest.approx(10e-6)


@pytest.mark.parametrize("table", [{"m": {"input": -1}}, {"m": {"input": "1"}}, {"m": 3}, ["m"]])
def test_a_bad_price_table_is_refused_before_sending(shell: str, table: Any) -> None:
    server = Counting()
    with pytest.raises(InvalidParameterError) as info:
        run(shell, server, chat("m"), base_url=V1, prices=table)
    assert info.value.param == "prices" and not server.hosts


def test_the_recorded_list_read_as_a_table() -> None:
    table = router_prices(RECORDED)
    assert table["deepseek-ai/DeepSeek-V4-Pro"] == {"novita": Price(1.69, 3.38), "together": Price(2.1, 4.4)}
    assert table["deepseek-ai/DeepSeek-R1"] == {"together": Price(3.0, 7.0)}  # the provider in error is left out
    assert price_for("x:novita", {"x": Price(1, 1)}, table) == Price(1, 1)  # the caller's table first
    assert router_prices({"data": "nonsense"}) == {} and router_prices(None) == {}
    assert cost_of({"prompt_tokens": 1_000_000}, Price(0.5, 99)) == 0.5


def test_a_cached_answer_costs_nothing(shell: str, tmp_path: Path) -> None:
    cache = easyllm.Cache(tmp_path)
    call = chat("m", temperature=0)
    first = run(shell, Counting(), call, base_url=V1, cache=cache, prices={"m": {"input": 1, "output": 1}})
    second = run(shell, Counting(), call, base_url=V1, cache=cache, prices={"m": {"input": 1, "output": 1}})
    assert first.usage.cost == pytest.approx(14e-6)
    assert second.usage.cost == 0.0 and second.usage.model_extra["cached"] is True

"""Embeddings through both shells: TEI /embed with its batch limit, and the Inference API pipeline route."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from typing import Any

import httpx
import pytest
from openai.types import CreateEmbeddingResponse

from easyllm import errors
from easyllm.clients import huggingface
from easyllm.protocol.tei import decode_base64


def vector_for(text: str) -> list[float]:
    """A deterministic, distinct vector per text (so order can be checked)."""
    return [float(len(text)), float(sum(map(ord, text)) % 97), 1.0]


def tei_server(batch_limit: int = 3, seen: list[list[str]] | None = None) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/info":
            info = {"model_id": "m", "model_type": {"embedding": {"pooling": "mean"}}}
            return httpx.Response(200, json={**info, "max_client_batch_size": batch_limit})
        body = json.loads(request.content)
        inputs = body["inputs"]
        if seen is not None:
            seen.append(inputs)
        if len(inputs) > batch_limit:
            return httpx.Response(413, json={"error": "batch size too large", "error_type": "Validation"})
        return httpx.Response(
            200, json=[vector_for(t) for t in inputs], headers={"x-compute-tokens": str(2 * len(inputs))}
        )

    return handle


def embed(run: Any, **kwargs: Any) -> Any:
    return run(huggingface.Embedding, **kwargs)


def test_batches_follow_the_info_limit_and_merge_in_order(make_runner: Any) -> None:
    seen: list[list[str]] = []
    run = make_runner(tei_server(3, seen))
    texts = [f"text number {i}" for i in range(10)]
    r = embed(run, input=texts, model="sentence-transformers/all-MiniLM-L6-v2")
    assert [d.index for d in r.data] == list(range(10))
    assert [d.embedding for d in r.data] == [vector_for(t) for t in texts]
    assert sorted(len(b) for b in seen) == [1, 3, 3, 3]
    assert r.usage == {"prompt_tokens": 20, "total_tokens": 20}
    CreateEmbeddingResponse.model_validate(json.loads(json.dumps(r)))
    paths = [req.url.path for req in run.server.requests]
    assert paths.count("/info") == 1 and paths.count("/embed") == 4


def test_info_is_asked_once_per_server(make_runner: Any) -> None:
    run = make_runner(tei_server(8))
    embed(run, input=["a"])
    embed(run, input=["b"])
    assert [req.url.path for req in run.server.requests].count("/info") == 1


def test_server_without_info_gets_the_default_batch_size(make_runner: Any) -> None:
    inner = tei_server(32)

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404) if request.url.path == "/info" else inner(request)

    run = make_runner(handle)
    r = embed(run, input=[f"t{i}" for i in range(40)])
    assert len(r.data) == 40


def test_pipeline_route_pools_token_level_output_and_normalises(make_runner: Any) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        # plain transformers model: one token matrix per input ([N][1][T][H] nesting)
        return httpx.Response(200, json=[[[[3.0, 0.0], [1.0, 0.0]]] for _ in inputs])

    run = make_runner(handle)
    r = embed(run, input=["x", "y"], model="org/model", api_base="https://api-inference.test/models")
    assert str(run.server.requests[0].url) == "https://api-inference.test/models/org/model/pipeline/feature-extraction"
    assert r.data[0].embedding == [1.0, 0.0]
    assert math.isclose(sum(v * v for v in r.data[1].embedding), 1.0)
    assert r.usage["estimated"] is True


def test_base64_and_dimensions(make_runner: Any) -> None:
    run = make_runner(tei_server(4))
    r = embed(run, input=["abc"], encoding_format="base64", dimensions=2)
    vec = decode_base64(r.data[0].embedding)
    assert len(vec) == 2 and math.isclose(sum(v * v for v in vec), 1.0, rel_tol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"input": []}, "input"),
        ({"input": None}, "input"),
        ({"input": ["ok", None]}, "input[1]"),
        ({"input": ["ok", 3]}, "input[1]"),
        ({"input": ["ok", ""]}, "input[1]"),
        ({"input": ["ok"], "encoding_format": "int8"}, "encoding_format"),
        ({"input": ["ok"], "max_concurrency": 0}, "max_concurrency"),
        ({"input": ["ok"], "bogus": 1}, "bogus"),
    ],
)
def test_bad_input_is_refused_before_any_request(make_runner: Any, kwargs: dict[str, Any], param: str) -> None:
    run = make_runner(tei_server())
    with pytest.raises(errors.InvalidParameterError) as info:
        embed(run, **kwargs)
    assert info.value.param == param
    assert [r.url.path for r in run.server.requests if r.url.path != "/info"] == []
    if "encoding_format" not in kwargs:
        assert run.server.requests == []


def test_a_failing_batch_raises_with_the_server_message(make_runner: Any) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/info":
            return httpx.Response(200, json={"max_client_batch_size": 2})
        return httpx.Response(424, json={"error": "backend died", "error_type": "Backend"})

    run = make_runner(handle)
    with pytest.raises(errors.APIStatusError, match="backend died"):
        embed(run, input=["a", "b", "c"])


# ---------------------------------------------------------------- batch size, refusals, iteration, progress


def batches_sent(run: Any) -> list[int]:
    return [len(json.loads(r.content)["inputs"]) for r in run.server.requests if r.url.path == "/embed"]


def no_info(inner: Any) -> Any:
    """A TEI without `/info` (reached with engine="tei": nothing tells it apart)."""

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404) if request.url.path == "/info" else inner(request)

    return handle


def test_batch_size_caps_the_server_limit_and_the_call_wins_over_the_setting(make_runner: Any) -> None:
    run = make_runner(tei_server(8))
    texts = [f"t{i}" for i in range(12)]
    huggingface.embedding_batch_size = 5
    r = embed(run, input=texts)
    assert batches_sent(run) == [5, 5, 2] and [d.index for d in r.data] == list(range(12))
    run.server.requests.clear()
    embed(run, input=texts, batch_size=100)  # never above the server's /info limit
    assert batches_sent(run) == [8, 4]


def test_a_batch_refused_as_too_large_is_split_and_the_limit_remembered(make_runner: Any) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        if len(inputs) > 5:  # TEI <= 1.8: 413; the message names the limit
            message = f"batch size {len(inputs)} > maximum allowed batch size 5"
            return httpx.Response(413, json={"error": message, "error_type": "Validation"})
        return httpx.Response(200, json=[vector_for(t) for t in inputs], headers={"x-compute-tokens": "1"})

    run = make_runner(no_info(handle))
    texts = [f"text {i}" for i in range(12)]
    r = embed(run, engine="tei", input=texts, max_concurrency=1)
    assert [d.embedding for d in r.data] == [vector_for(t) for t in texts]
    assert batches_sent(run) == [12, 5, 5, 2] and r.usage["prompt_tokens"] == 3
    run.server.requests.clear()
    embed(run, engine="tei", input=texts)
    assert batches_sent(run) == [5, 5, 2]  # remembered for this server: no refusal the second time


def test_a_refusal_without_the_limit_halves_the_batch(make_runner: Any) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        if len(inputs) > 3:  # TEI >= 1.9 answers 422
            return httpx.Response(422, json={"error": "batch size too large", "error_type": "Validation"})
        return httpx.Response(200, json=[vector_for(t) for t in inputs])

    run = make_runner(no_info(handle))
    r = embed(run, engine="tei", input=[f"t{i}" for i in range(10)], max_concurrency=1)
    assert [d.index for d in r.data] == list(range(10))
    assert batches_sent(run) == [10, 5, 2, 2, 1, 2, 2, 1]  # halved until it fits: 10 -> 5 -> 2


def test_a_payload_refusal_halves_for_this_call_only(make_runner: Any) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        if len(inputs) > 4:  # axum's payload limit: plain text
            return httpx.Response(413, text="Failed to buffer the request body: length limit exceeded")
        return httpx.Response(200, json=[vector_for(t) for t in inputs])

    run = make_runner(no_info(handle))
    embed(run, engine="tei", input=[f"t{i}" for i in range(8)], max_concurrency=1)
    assert batches_sent(run) == [8, 4, 4]
    run.server.requests.clear()
    embed(run, engine="tei", input=[f"t{i}" for i in range(8)], max_concurrency=1)
    assert batches_sent(run) == [8, 4, 4]  # not a count limit: not remembered


def test_a_too_long_input_is_not_split(make_runner: Any) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        message = "`inputs` must have less than 512 tokens. Given: 600"
        return httpx.Response(413, json={"error": message, "error_type": "Validation"})

    run = make_runner(no_info(handle))
    with pytest.raises(errors.APIStatusError, match="512 tokens"):
        embed(run, engine="tei", input=["a", "b", "c"])
    assert batches_sent(run) == [3]


def iterate(run: Any, **kwargs: Any) -> list[Any]:
    """`Embedding.iter_batches` (sync) or `aiter_batches` (async), collected."""
    kwargs.setdefault("api_base", "http://tgi.test")
    if run.shell == "sync":
        huggingface.http_client = httpx.Client(transport=httpx.MockTransport(run.server))
        return list(huggingface.Embedding.iter_batches(**kwargs))

    async def collect() -> list[Any]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(run.server)) as client:
            huggingface.async_http_client = client
            return [part async for part in huggingface.Embedding.aiter_batches(**kwargs)]

    return asyncio.run(collect())


def test_iter_batches_yields_one_response_per_batch_in_input_order(make_runner: Any) -> None:
    run = make_runner(tei_server(4))
    texts = [f"text number {i}" for i in range(10)]
    parts = iterate(run, input=texts, max_concurrency=2)
    assert [[d.index for d in p.data] for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [d.embedding for p in parts for d in p.data] == [vector_for(t) for t in texts]
    assert [p.usage["prompt_tokens"] for p in parts] == [8, 8, 4]
    for part in parts:
        CreateEmbeddingResponse.model_validate(json.loads(json.dumps(part)))


def test_iter_batches_refuses_bad_input_at_the_call(make_runner: Any) -> None:
    run = make_runner(tei_server())
    with pytest.raises(errors.InvalidParameterError) as info:
        iterate(run, input=["ok", None])
    assert info.value.param == "input[1]" and run.server.requests == []
    with pytest.raises(errors.InvalidParameterError, match="encoding_format"):
        huggingface.Embedding.aiter_batches(input=["ok"], encoding_format="int8")


def test_leaving_iter_batches_early_sends_no_more_batches() -> None:
    seen: list[list[str]] = []
    huggingface.http_client = httpx.Client(transport=httpx.MockTransport(tei_server(2, seen)))
    parts = huggingface.Embedding.iter_batches(input=[f"t{i}" for i in range(40)], api_base="http://tgi.test")
    for _ in parts:
        break
    parts.close()
    assert len(seen) <= 1 + 2 * 8  # the first batch, then at most the window (2 x max_concurrency)


def test_leaving_aiter_batches_early_cancels_the_rest() -> None:
    seen: list[list[str]] = []

    async def first_only() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(tei_server(2, seen))) as client:
            huggingface.async_http_client = client
            texts = [f"t{i}" for i in range(40)]
            parts = huggingface.Embedding.aiter_batches(input=texts, api_base="http://tgi.test", max_concurrency=1)
            async for _ in parts:
                break
            await parts.aclose()  # type: ignore[attr-defined]

    asyncio.run(first_only())
    assert 1 <= len(seen) <= 3  # the first batch, then at most the window of 2


def test_show_progress_draws_a_bar_on_stderr(make_runner: Any, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_runner(tei_server(4))
    r = embed(run, input=[f"t{i}" for i in range(10)], show_progress=True)
    assert len(r.data) == 10
    err = capsys.readouterr().err
    assert "embeddings" in err and "10/10" in err


def test_show_progress_without_tqdm_says_how_to_install_it(make_runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    run = make_runner(tei_server())
    with pytest.raises(errors.InvalidParameterError, match=r"pip install tqdm.*easyllm\[progress\]") as info:
        embed(run, input=["a"], show_progress=True)
    assert info.value.param == "show_progress" and run.server.requests == []


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"max_concurrency": True}, "max_concurrency"),
        ({"show_progress": "yes"}, "show_progress"),
    ],
)
def test_bad_batching_options_are_refused(make_runner: Any, kwargs: dict[str, Any], param: str) -> None:
    run = make_runner(tei_server())
    with pytest.raises(errors.InvalidParameterError) as info:
        embed(run, input=["a"], **kwargs)
    assert info.value.param == param and run.server.requests == []


def test_a_bad_module_setting_is_named(make_runner: Any) -> None:
    huggingface.embedding_concurrency = 0
    with pytest.raises(errors.InvalidParameterError) as info:
        embed(make_runner(tei_server()), input=["a"])
    assert info.value.param == "embedding_concurrency"

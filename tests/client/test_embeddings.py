"""Embeddings through both shells: TEI /embed with its batch limit, and the Inference API pipeline route."""

from __future__ import annotations

import json
import math
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
            return httpx.Response(200, json={"model_id": "m", "max_client_batch_size": batch_limit})
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
    assert str(run.server.requests[0].url) == "https://api-inference.test/pipeline/feature-extraction/org/model"
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

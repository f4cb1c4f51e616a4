"""`client.embeddings` on an OpenAI-compatible route (TEI's `/v1/embeddings`): batching, refusals, iteration."""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import pickle
from typing import Any

import httpx
import pydantic
import pytest
from openai.types import CreateEmbeddingResponse as OpenAICreateEmbeddingResponse

import easyllm
from easyllm import client_resources
from easyllm.schema import types
from easyllm.schema.openai import OpenAIObject
from tests.client import v1_helpers
from tests.client.fake_tgi import FakeServer
from tests.client.v1_helpers import V1, V1Runner

# fixtures shared by the v1 tests
v1_shell = v1_helpers.v1_shell


def unit(text: str) -> list[float]:
    """A distinct unit vector per text, so order and normalisation can be checked."""
    return [1.0, 0.0] if int(text.split()[-1]) % 2 == 0 else [0.0, 1.0]


def tei_openai_route(limit: int) -> Any:
    """TEI's OpenAI route: its error body is `{"message", "code", "type"}`, not wrapped in `error`."""

    def handle(request: httpx.Request) -> httpx.Response:
        texts = json.loads(request.content)["input"]
        if len(texts) > limit:
            message = f"batch size {len(texts)} > maximum allowed batch size {limit}"
            return httpx.Response(413, json={"message": message, "code": 413, "type": "Validation"})
        data = [{"object": "embedding", "index": i, "embedding": unit(t)} for i, t in enumerate(texts)]
        usage = {"prompt_tokens": 3 * len(texts), "total_tokens": 3 * len(texts)}
        return httpx.Response(200, json={"object": "list", "data": data, "model": "tei-model", "usage": usage})

    return handle


@pytest.fixture
def v1(v1_shell: str) -> Any:
    def make(limit: int) -> V1Runner:
        return V1Runner(v1_shell, FakeServer([tei_openai_route(limit)]))

    return make


def sizes(run: V1Runner) -> list[int]:
    return [len(body["input"]) for body in run.bodies()]


def test_the_openai_route_is_batched_and_merged_in_order(v1: Any) -> None:
    run = v1(100)
    texts = [f"text {i}" for i in range(70)]
    r = run("embeddings", input=texts, model="m")
    assert sizes(run) == [32, 32, 6] and run.paths() == ["/v1/embeddings"] * 3
    assert [d.index for d in r.data] == list(range(70)) and [d.embedding for d in r.data] == [unit(t) for t in texts]
    assert r.usage.prompt_tokens == 210 and r.model == "tei-model"
    OpenAICreateEmbeddingResponse.model_validate(r.model_dump())


def test_embedding_models_look_exactly_like_validated_ones(v1: Any) -> None:
    r = v1(100)("embeddings", input=[f"text {i}" for i in range(3)], model="m")
    again = types.embedding_response(r.model_dump())
    assert repr(r) == repr(again) and r.model_dump_json() == again.model_dump_json()
    assert [d.model_fields_set for d in r.data] == [d.model_fields_set for d in again.data]


def test_client_batch_size_and_the_call_s_own(v1: Any) -> None:
    run = v1(100)
    texts = [f"text {i}" for i in range(40)]
    run("embeddings", client={"embedding_batch_size": 16}, input=texts)
    assert sizes(run) == [16, 16, 8]
    run.server.requests.clear()
    run("embeddings", client={"embedding_batch_size": 16}, input=texts, batch_size=25)
    assert sizes(run) == [25, 15]


def test_a_refused_batch_is_split_to_the_limit_the_server_names(v1: Any) -> None:
    run = v1(10)
    texts = [f"text {i}" for i in range(25)]
    r = run("embeddings", input=texts, max_concurrency=1)
    assert sizes(run) == [25, 10, 10, 5] and [d.index for d in r.data] == list(range(25))
    run.server.requests.clear()
    run("embeddings", input=texts)
    assert sizes(run) == [10, 10, 5]  # remembered for this server


def iterate(run: V1Runner, **kwargs: Any) -> list[Any]:
    if run.shell == "sync":
        http = httpx.Client(transport=httpx.MockTransport(run.server))
        with easyllm.HuggingFace(base_url=V1, http_client=http) as hf:
            return list(hf.embeddings.iter_batches(**kwargs))

    async def collect() -> list[Any]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(run.server)) as http:
            hf = easyllm.AsyncHuggingFace(base_url=V1, http_client=http, embedding_concurrency=2)
            return [part async for part in hf.embeddings.iter_batches(**kwargs)]

    return asyncio.run(collect())


def test_iter_batches_gives_typed_partial_responses_in_order(v1: Any) -> None:
    run = v1(100)
    texts = [f"text {i}" for i in range(20)]
    parts = iterate(run, input=texts, batch_size=8)
    assert [[d.index for d in p.data] for p in parts] == [list(range(8)), list(range(8, 16)), list(range(16, 20))]
    assert [p.usage.prompt_tokens for p in parts] == [24, 24, 12]
    for part in parts:
        OpenAICreateEmbeddingResponse.model_validate(part.model_dump())


def test_with_options_keeps_the_embedding_settings() -> None:
    with easyllm.HuggingFace(base_url=V1, embedding_batch_size=8, embedding_concurrency=3) as client:
        derived = client.with_options(timeout=5)
        assert (derived.embedding_batch_size, derived.embedding_concurrency) == (8, 3)


@pytest.mark.parametrize("name", ["create", "iter_batches"])
def test_sync_and_async_embedding_methods_match(name: str) -> None:
    sync = inspect.signature(getattr(client_resources.Embeddings, name))
    asyn = inspect.signature(getattr(client_resources.AsyncEmbeddings, name))
    assert [(p.name, p.default) for p in sync.parameters.values()] == [
        (p.name, p.default) for p in asyn.parameters.values()
    ]


def test_checked_embeddings_build_what_validation_builds() -> None:
    value = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.25, -1.5]},
            {"object": "embedding", "index": 1, "embedding": "AACAPwAAAMA="},
        ],
        "model": "m",
        "usage": {"prompt_tokens": 3, "total_tokens": 3, "estimated": True},
    }
    lean = types.embeddings_checked(value)
    assert lean == types.embedding_response(value)
    assert lean.data[0].embedding is value["data"][0]["embedding"]  # the vector is not copied
    merged = types.embeddings_checked({**value, "data": lean.data})
    assert merged.data[1] is lean.data[1] and merged.usage.model_dump()["estimated"] is True


def test_checked_embeddings_take_over_items_in_field_order_and_copy_the_rest() -> None:
    def answer(*items: Any) -> dict[str, Any]:
        return {"object": "list", "data": list(items), "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1}}

    item = {"object": "embedding", "index": 0, "embedding": [0.5]}
    validated = types.embedding_response(answer(dict(item)))
    built = types.embeddings_checked(answer(item))
    assert vars(built.data[0]) is item  # handed over: the protocol's item is the model's own dict
    assert built == validated and repr(built) == repr(validated)
    assert built.data[0].model_fields_set == validated.data[0].model_fields_set == {"object", "index", "embedding"}
    other_order = {"index": 0, "object": "embedding", "embedding": [0.5]}
    for other in (other_order, OpenAIObject(item), {"index": 0, "embedding": [0.5]}):
        copied = types.embeddings_checked(answer(other)).data[0]
        assert vars(copied) is not other and copied == validated.data[0] and repr(copied) == repr(validated.data[0])
        assert copied.model_fields_set == set(other)


def test_an_adopted_vector_model_makes_its_field_set_on_demand_and_behaves_as_a_validated_one() -> None:
    def answer(*items: Any) -> dict[str, Any]:
        return {"object": "list", "data": list(items), "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1}}

    items = [{"object": "embedding", "index": i, "embedding": [v]} for i, v in enumerate((0.5, 0.25))]
    first, second = types.embeddings_checked(answer(*items)).data
    slot = pydantic.BaseModel.__dict__["__pydantic_fields_set__"]
    with pytest.raises(AttributeError):  # nothing made per vector until asked for
        slot.__get__(second, types.Embedding)
    validated = types.Embedding.model_validate({"object": "embedding", "index": 0, "embedding": [0.5]})
    assert first.model_fields_set == validated.model_fields_set
    assert first.model_fields_set is first.model_fields_set  # made once, then kept
    first.note = "extra"  # an extra field given later joins this model's set only
    assert first.model_fields_set == {"object", "index", "embedding", "note"}
    assert second.model_fields_set == {"object", "index", "embedding"}
    assert first.model_dump(exclude_unset=True) == {**items[0], "note": "extra"}
    for again in (copy.copy(second), copy.deepcopy(second), pickle.loads(pickle.dumps(second))):
        assert again == second and again.model_fields_set == second.model_fields_set
    updated = second.model_copy(update={"index": 7})
    assert updated.index == 7 and second.index == 1 and updated.model_fields_set == second.model_fields_set
    partial = types.Embedding.model_construct(index=2, embedding=[1.0])  # pydantic's own paths set the slot
    assert partial.model_fields_set == {"index", "embedding"}

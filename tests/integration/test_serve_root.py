"""The root of the demo server speaks for both models: its `/info` says the limits every root route enforces,
and `POST /` answers embeddings for the embedding model as well as generation for the chat model."""

from __future__ import annotations

import httpx
import pytest

from easyllm import embedding_calls
from easyllm.clients import huggingface

pytestmark = pytest.mark.integration

DIM = 384


def test_root_info_describes_both_models_with_one_batch_limit(http: httpx.Client) -> None:
    info = http.get("/info").json()
    assert info["model_id"] == "HuggingFaceTB/SmolLM2-135M-Instruct"  # TGI's fields: the chat model
    assert info["max_input_tokens"] < info["max_total_tokens"] == 2048
    assert info["max_input_length"] == 256 and info["auto_truncate"] is True  # TEI's limits: the embedding model
    assert "model_type" not in info  # which would say "TEI only", and clients would not chat here
    # the smaller of the two models' own limits (4 and 32), held by every root route below
    assert info["max_client_batch_size"] == 4
    assert http.get("/smollm2/info").json()["max_client_batch_size"] == 4
    assert http.get("/minilm/info").json()["max_client_batch_size"] == 32


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/embed", {"inputs": ["x"] * 5}),
        ("/v1/embeddings", {"input": ["x"] * 5}),
        ("/v1/embeddings", {"input": ["x"] * 5, "model": "minilm"}),
        ("/embeddings", {"input": ["x"] * 5}),
        ("/", {"inputs": ["x"] * 5}),
        ("/v1/completions", {"prompt": ["x"] * 5, "max_tokens": 1}),
    ],
)
def test_every_root_route_enforces_the_advertised_limit(http: httpx.Client, path: str, body: dict[str, object]) -> None:
    limit = http.get("/info").json()["max_client_batch_size"]
    refused = http.post(path, json=body)
    assert refused.status_code in (413, 422)
    assert f"maximum allowed batch size {limit}" in refused.text or f"batch size of {limit}" in refused.text
    at_limit = {key: value[:limit] if isinstance(value, list) else value for key, value in body.items()}
    assert http.post(path, json=at_limit).status_code == 200


@pytest.mark.parametrize("prefix", ["/minilm", "/models/minilm"])
def test_a_models_own_routes_enforce_what_its_own_info_says(http: httpx.Client, prefix: str) -> None:
    limit = http.get(f"{prefix}/info").json()["max_client_batch_size"]
    assert limit == 32
    refused = http.post(prefix, json={"inputs": ["x"] * (limit + 1)})  # the Inference API's feature extraction
    assert refused.status_code == 413
    assert refused.json() == {"error": f"batch size {limit + 1} > maximum allowed batch size {limit}"}
    assert len(http.post(prefix, json={"inputs": ["x"] * limit}).json()) == limit


def test_root_post_embeds_a_list_with_the_embedding_model(http: httpx.Client) -> None:
    vectors = http.post("/", json={"inputs": ["a cat", "a dog"]}).json()
    assert len(vectors) == 2 and all(len(v) == DIM for v in vectors)
    same = http.post("/minilm/embed", json={"inputs": ["a cat", "a dog"]}).json()
    assert vectors[0] == pytest.approx(same[0], abs=1e-5) and vectors[1] == pytest.approx(same[1], abs=1e-5)


def test_root_post_with_teis_fields_is_an_embedding(http: httpx.Client) -> None:
    vector = http.post("/", json={"inputs": "hello", "normalize": False}).json()
    assert len(vector) == DIM and isinstance(vector[0], float)


def test_root_post_with_one_string_is_still_tgis_generation(http: httpx.Client) -> None:
    body = {"inputs": "The capital of France is", "parameters": {"max_new_tokens": 2}}
    answer = http.post("/", json=body).json()
    assert answer[0]["generated_text"].startswith("The capital of France is")
    plain = http.post("/", json={"inputs": "The capital of France is"}).json()
    assert plain[0]["generated_text"].startswith("The capital of France is")


def test_the_client_batches_to_the_roots_advertised_limit(serve_url: str) -> None:
    texts = [f"sentence number {i}" for i in range(10)]
    answer = huggingface.Embedding.create(api_base=serve_url, input=texts)
    assert [item["index"] for item in answer["data"]] == list(range(10))
    assert embedding_calls._batch_sizes[serve_url] == 4  # read from the root's /info, and never refused

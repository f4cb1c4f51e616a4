"""TEI's routes and the Inference API's feature-extraction on the demo server (MiniLM, 384 dimensions)."""

from __future__ import annotations

import base64
import math
import struct

import httpx
import pytest

pytestmark = pytest.mark.integration

DIM = 384


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


def test_embed_returns_one_normalised_vector_per_input(http: httpx.Client) -> None:
    response = http.post("/embed", json={"inputs": ["a cat", "a dog", "a car"]})
    assert response.status_code == 200
    vectors = response.json()
    assert len(vectors) == 3 and all(len(v) == DIM for v in vectors)
    assert all(abs(norm(v) - 1) < 1e-4 for v in vectors)
    cat, dog, car = vectors
    similarity = [sum(x * y for x, y in zip(cat, other, strict=True)) for other in (dog, car)]
    assert similarity[0] > similarity[1]  # real embeddings: a cat is nearer a dog than a car
    assert int(response.headers["x-compute-tokens"]) > 0


def test_embed_single_string_is_still_a_list_of_lists(http: httpx.Client) -> None:
    vectors = http.post("/embed", json={"inputs": "hello"}).json()
    assert len(vectors) == 1 and len(vectors[0]) == DIM


def test_embed_normalize_false_and_dimensions(http: httpx.Client) -> None:
    raw = http.post("/embed", json={"inputs": "hello", "normalize": False}).json()[0]
    assert norm(raw) > 1.5
    short = http.post("/embed", json={"inputs": "hello", "dimensions": 64}).json()[0]
    assert len(short) == 64 and abs(norm(short) - 1) < 1e-4


def test_embed_batch_limit_answers_413_with_teis_body(http: httpx.Client) -> None:
    response = http.post("/minilm/embed", json={"inputs": ["x"] * 33})  # the model's own limit, under its endpoint
    assert response.status_code == 413
    assert response.json() == {"error": "batch size 33 > maximum allowed batch size 32", "error_type": "Validation"}
    assert http.post("/minilm/embed", json={"inputs": ["x"] * 32}).status_code == 200


def test_embed_empty_input(http: httpx.Client) -> None:
    response = http.post("/embed", json={"inputs": ""})
    assert response.status_code == 400
    assert response.json() == {"error": "`inputs` cannot be empty", "error_type": "Empty"}


def test_embed_too_long_without_truncation(http: httpx.Client) -> None:
    long_text = "word " * 400
    refused = http.post("/embed", json={"inputs": long_text, "truncate": False})
    assert refused.status_code == 413
    assert refused.json()["error"].startswith("`inputs` must have less than 256 tokens. Given: ")
    assert http.post("/embed", json={"inputs": long_text}).status_code == 200  # auto-truncate


def test_openai_embeddings(http: httpx.Client) -> None:
    body = http.post("/v1/embeddings", json={"input": ["a", "b"], "model": "minilm"}).json()
    assert body["object"] == "list" and body["model"] == "minilm"
    assert [(d["object"], d["index"], len(d["embedding"])) for d in body["data"]] == [
        ("embedding", 0, DIM),
        ("embedding", 1, DIM),
    ]
    assert body["usage"] == {"prompt_tokens": 6, "total_tokens": 6}
    encoded = http.post("/v1/embeddings", json={"input": "a", "encoding_format": "base64"}).json()
    floats = struct.unpack(f"<{DIM}f", base64.b64decode(encoded["data"][0]["embedding"]))
    assert floats == pytest.approx(body["data"][0]["embedding"], abs=1e-6)


def test_openai_embeddings_error_shape(http: httpx.Client) -> None:
    response = http.post("/minilm/v1/embeddings", json={"input": ["x"] * 40})
    assert response.status_code == 413
    assert response.json() == {
        "message": "batch size 40 > maximum allowed batch size 32",
        "code": 413,
        "type": "Validation",
    }


def test_tei_info(http: httpx.Client) -> None:
    info = http.get("/minilm/info").json()
    assert info["model_id"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert info["max_client_batch_size"] == 32 and info["max_input_length"] == 256
    assert info["model_type"] == {"embedding": {"pooling": "mean"}}


def test_inference_api_feature_extraction(http: httpx.Client, minilm_url: str) -> None:
    single = httpx.post(minilm_url, json={"inputs": "hello"}, timeout=60).json()
    assert len(single) == DIM and isinstance(single[0], float)  # depth 1 for one string
    listed = http.post("/pipeline/feature-extraction/minilm", json={"inputs": ["hello", "world"]}).json()
    assert len(listed) == 2 and len(listed[0]) == DIM
    assert listed[0] == pytest.approx(single, abs=1e-5)


def test_inference_api_generation_model(smollm2_url: str) -> None:
    response = httpx.post(
        smollm2_url, json={"inputs": "The capital of France is", "parameters": {"max_new_tokens": 2}}, timeout=60
    )
    assert response.status_code == 200
    assert response.json()[0]["generated_text"].startswith("The capital of France is")


def test_unknown_and_mismatched_models(http: httpx.Client) -> None:
    missing = http.post("/models/nope", json={"inputs": "x"})
    assert missing.status_code == 404 and missing.json() == {"error": "Model nope does not exist"}
    wrong_task = http.post("/pipeline/feature-extraction/smollm2", json={"inputs": "x"})
    assert wrong_task.status_code == 400 and "generation model" in wrong_task.json()["error"]

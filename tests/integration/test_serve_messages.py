"""The Messages API routes (`/v1/chat/completions`, `/v1/completions`, `/v1/models`) on the demo server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

QUESTION = [{"role": "user", "content": "What is 2+2? Answer with one number."}]


def chunks(response: httpx.Response) -> list[Any]:
    frames = [f for f in response.text.split("\n\n") if f.strip()]
    assert all(f.startswith("data: ") for f in frames), frames
    assert frames[-1] == "data: [DONE]"
    return [json.loads(f.removeprefix("data: ")) for f in frames[:-1]]


def chat(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/v1/chat/completions", json={"messages": QUESTION, **body})


def test_chat_completion_shape(http: httpx.Client) -> None:
    response = chat(http, max_tokens=30, temperature=0)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["id"] == ""
    assert body["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert isinstance(body["created"], int) and body["system_fingerprint"].endswith("-native")
    [choice] = body["choices"]
    assert choice["index"] == 0 and choice["logprobs"] is None
    assert choice["message"]["role"] == "assistant"
    assert "4" in choice["message"]["content"] and "<|im_end|>" not in choice["message"]["content"]
    assert choice["finish_reason"] == "stop"  # eos_token maps to stop
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert response.headers["x-prompt-tokens"] == str(usage["prompt_tokens"])


def test_chat_uses_the_models_own_template(http: httpx.Client) -> None:
    usage = chat(http, max_tokens=1, temperature=0).json()["usage"]
    template = (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nWhat is 2+2? Answer with one number.<|im_end|>\n<|im_start|>assistant\n"
    )
    assert len(http.post("/tokenize", json={"inputs": template}).json()) == usage["prompt_tokens"]


def test_chat_greedy_is_deterministic_and_honours_max_tokens(http: httpx.Client) -> None:
    a = chat(http, max_tokens=3, temperature=0).json()
    b = chat(http, max_tokens=3, temperature=0).json()
    assert a["choices"] == b["choices"]
    assert a["choices"][0]["finish_reason"] == "length" and a["usage"]["completion_tokens"] == 3


def test_chat_seed_is_reproducible(http: httpx.Client) -> None:
    a = chat(http, max_tokens=8, temperature=1.2, seed=3).json()["choices"]
    assert a == chat(http, max_tokens=8, temperature=1.2, seed=3).json()["choices"]


def test_chat_stop_sequence_leaks_through_as_tgi_does(http: httpx.Client) -> None:
    choice = chat(http, max_tokens=30, temperature=0, stop=["is"]).json()["choices"][0]
    assert choice["finish_reason"] == "stop_sequence"
    assert choice["message"]["content"].endswith("is")


def test_chat_logprobs(http: httpx.Client) -> None:
    choice = chat(http, max_tokens=2, temperature=0, logprobs=True, top_logprobs=2).json()["choices"][0]
    content = choice["logprobs"]["content"]
    assert len(content) == 2
    assert all(len(c["top_logprobs"]) == 2 and c["logprob"] <= 0 for c in content)
    assert "".join(c["token"] for c in content) == choice["message"]["content"]


def test_chat_stream_chunks_end_with_done(http: httpx.Client) -> None:
    response = chat(http, max_tokens=30, temperature=0, stream=True, stream_options={"include_usage": True})
    assert response.status_code == 200
    stream = chunks(response)
    *token_chunks, usage_chunk = stream
    assert all(c["object"] == "chat.completion.chunk" and c["usage"] is None for c in token_chunks)
    assert all(c["choices"][0]["delta"]["role"] == "assistant" for c in token_chunks)
    assert [c["choices"][0]["finish_reason"] for c in token_chunks[:-1]] == [None] * (len(token_chunks) - 1)
    assert token_chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert token_chunks[-1]["choices"][0]["delta"]["content"] == ""  # the EOS token streams as empty content
    text = "".join(c["choices"][0]["delta"]["content"] for c in token_chunks)
    assert text == chat(http, max_tokens=30, temperature=0).json()["choices"][0]["message"]["content"]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"]["completion_tokens"] == len(token_chunks)


def test_chat_stream_without_usage(http: httpx.Client) -> None:
    stream = chunks(chat(http, max_tokens=2, temperature=0, stream=True))
    assert len(stream) == 2 and all(c["choices"] for c in stream)


def test_chat_validation_errors(http: httpx.Client) -> None:
    response = chat(http, top_p=1.0)
    assert response.status_code == 422
    assert response.json() == {
        "error": "Input validation error: `top_p` must be > 0.0 and < 1.0",
        "error_type": "validation",
    }
    streamed = chat(http, top_p=1.0, stream=True)
    assert streamed.status_code == 200
    [event] = chunks(streamed)
    assert event == {
        "error": {"message": "Input validation error: `top_p` must be > 0.0 and < 1.0", "http_status_code": 422}
    }


def test_chat_map_logit_bias_is_a_body_error(http: httpx.Client) -> None:
    response = chat(http, logit_bias={"1": 2})
    assert response.status_code == 422 and response.text.startswith("Failed to deserialize")


def test_chat_routes_by_model_field_and_per_model_prefix(http: httpx.Client, smollm2_url: str) -> None:
    body = {"messages": QUESTION, "max_tokens": 2, "temperature": 0, "model": "smollm2"}
    assert http.post("/v1/chat/completions", json=body).json()["model"] == "smollm2"
    prefixed = httpx.post(f"{smollm2_url}/v1/chat/completions", json=body, timeout=60)
    assert prefixed.status_code == 200
    assert http.post("/smollm2/v1/chat/completions", json=body).status_code == 200


def test_completions_shape_and_batch(http: httpx.Client) -> None:
    body = http.post(
        "/v1/completions", json={"prompt": ["The capital of France is", "1, 2, 3,"], "max_tokens": 3, "temperature": 0}
    ).json()
    assert body["object"] == "text_completion"
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert body["choices"][0]["text"].startswith(" Paris")
    assert all(c["finish_reason"] == "length" and c["logprobs"] is None for c in body["choices"])
    assert body["usage"]["completion_tokens"] == 6


def test_completions_refusals(http: httpx.Client) -> None:
    too_many = http.post("/v1/completions", json={"prompt": ["a"] * 5, "max_tokens": 1})
    assert too_many.status_code == 422
    assert too_many.json() == {
        "error": "Number of prompts exceeds the maximum allowed batch size of 4",
        "error_type": "batch size exceeded",
    }
    suffix = http.post("/v1/completions", json={"prompt": "a", "suffix": "b"})
    assert suffix.status_code == 422 and suffix.json()["error_type"] == "suffix not supported"


def test_completions_stream(http: httpx.Client) -> None:
    response = http.post(
        "/v1/completions",
        json={"prompt": "The capital of France is", "max_tokens": 3, "temperature": 0, "stream": True},
    )
    stream = chunks(response)
    assert all(c["object"] == "text_completion" for c in stream)
    assert [c["choices"][0]["finish_reason"] for c in stream] == ["", "", "length"]
    assert "usage" not in stream[0] and stream[-1]["usage"]["completion_tokens"] == 3
    assert "".join(c["choices"][0]["text"] for c in stream).startswith(" Paris")


def test_models_list(http: httpx.Client) -> None:
    body = http.get("/v1/models").json()
    assert body["object"] == "list"
    assert [(m["id"], m["object"]) for m in body["data"]] == [
        ("smollm2", "model"),
        ("minilm", "model"),
        ("guard", "model"),
    ]
    assert [m["id"] for m in http.get("/models/smollm2/v1/models").json()["data"]] == ["smollm2"]

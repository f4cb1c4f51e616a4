"""The issue's examples end to end: the module facade over HTTP against `easyllm serve` (real SmolLM2, MiniLM)."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import pytest
from openai.types import Completion as OpenAICompletion
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion as OpenAIChatCompletion
from openai.types.chat import ChatCompletionChunk

from easyllm import errors, transport
from easyllm.clients import huggingface

pytestmark = pytest.mark.integration

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest, serve_url: str) -> Any:
    """Call `create` or `acreate` (collecting streams into lists) against the local server."""
    shell = request.param

    def run(api: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("api_base", serve_url)
        if shell == "sync":
            result = api.create(**kwargs)
            return list(result) if kwargs.get("stream") else result

        async def go() -> Any:
            try:
                result = await api.acreate(**kwargs)
                if kwargs.get("stream"):
                    async with result:
                        return [chunk async for chunk in result]
                return result
            finally:
                await transport.aclose_pools()

        return asyncio.run(go())

    return run


def greedy_chat(call: Any, **kwargs: Any) -> Any:
    kwargs = {"messages": QUESTION, "prompt_builder": "chatml", "temperature": 0, "max_tokens": 24, **kwargs}
    return call(huggingface.ChatCompletion, **kwargs)


def test_chat_completion(call: Any) -> None:
    r = greedy_chat(call)
    content = r.choices[0].message.content
    assert content and content == r["choices"][0]["message"]["content"]
    assert "<|im_end|>" not in content and "<|im_start|>" not in content
    assert r.choices[0].finish_reason in ("stop", "length")
    assert "estimated" not in r.usage and r.usage.prompt_tokens > 5 and r.usage.completion_tokens > 0
    OpenAIChatCompletion.model_validate(json.loads(json.dumps(r)))


def test_stream_matches_the_non_stream_answer(call: Any) -> None:
    whole = greedy_chat(call).choices[0].message.content
    chunks = greedy_chat(call, stream=True, stream_options={"include_usage": True})
    assert chunks[0].choices[0].delta["role"] == "assistant"
    streamed = "".join(c.choices[0].delta.get("content", "") for c in chunks if c.choices)
    assert streamed == whole
    assert chunks[-2].choices[0].finish_reason in ("stop", "length")
    assert chunks[-1].usage.completion_tokens > 0
    for chunk in chunks:
        ChatCompletionChunk.model_validate(json.loads(json.dumps(chunk)))


def test_stop_sequence_is_cut_streamed_or_not(call: Any) -> None:
    whole = greedy_chat(call, max_tokens=32).choices[0].message.content
    words = whole.split()
    assert len(words) >= 3, whole
    stop = " " + words[2]
    expected = whole[: whole.index(stop)]
    r = greedy_chat(call, max_tokens=32, stop=[stop])
    assert r.choices[0].message.content == expected and r.choices[0].finish_reason == "stop"
    chunks = greedy_chat(call, max_tokens=32, stop=[stop], stream=True)
    assert "".join(c.choices[0].delta.get("content", "") for c in chunks) == expected
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_seed_reproduces_and_n_gives_distinct_samples(call: Any) -> None:
    kwargs = {
        "messages": [{"role": "user", "content": "Tell me a story."}],
        "prompt_builder": "chatml",
        "max_tokens": 16,
        "temperature": 1.2,
    }
    one = call(huggingface.ChatCompletion, seed=11, **kwargs).choices[0].message.content
    again = call(huggingface.ChatCompletion, seed=11, **kwargs).choices[0].message.content
    assert one == again
    r = call(huggingface.ChatCompletion, n=3, seed=11, **kwargs)
    texts = [c.message.content for c in r.choices]
    assert texts[0] == one and len(set(texts)) == 3


def test_n_streams_match_the_non_stream_samples_of_the_same_seed(call: Any) -> None:
    kwargs = {
        "messages": [{"role": "user", "content": "Tell me a story."}],
        "prompt_builder": "chatml",
        "max_tokens": 16,
        "temperature": 1.0,
        "n": 2,
        "seed": 23,
    }
    whole = [c.message.content for c in call(huggingface.ChatCompletion, **kwargs).choices]
    chunks = call(huggingface.ChatCompletion, stream=True, stream_options={"include_usage": True}, **kwargs)
    streamed: dict[int, list[Any]] = {}
    for chunk in chunks[:-1]:
        streamed.setdefault(chunk.choices[0].index, []).append(chunk.choices[0])
    assert sorted(streamed) == [0, 1]
    for choices in streamed.values():
        assert choices[0].delta["role"] == "assistant" and choices[-1].finish_reason in ("stop", "length")
    assert ["".join(c.delta.get("content", "") for c in streamed[i]) for i in (0, 1)] == whole
    assert whole[0] != whole[1]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 1
    for chunk in chunks:
        ChatCompletionChunk.model_validate(json.loads(json.dumps(chunk)))


def test_text_completion_with_echo_and_logprobs(call: Any) -> None:
    prompt = "The capital of France is"
    r = call(huggingface.Completion, prompt=prompt, max_tokens=6, temperature=0, echo=True, logprobs=2)
    choice = r.choices[0]
    assert choice.text.startswith(prompt) and len(choice.text) > len(prompt)
    assert "".join(choice.logprobs.tokens) == choice.text[len(prompt) :]
    assert all(lp <= 0 for lp in choice.logprobs.token_logprobs)
    assert all(len(top) <= 2 for top in choice.logprobs.top_logprobs)
    OpenAICompletion.model_validate(json.loads(json.dumps(r)))
    plain = call(huggingface.Completion, prompt=prompt, max_tokens=6, temperature=0, echo=False, logprobs=False)
    assert prompt + plain.choices[0].text == choice.text


def test_server_validation_error_is_typed(call: Any) -> None:
    with pytest.raises(errors.UnprocessableEntityError) as info:
        greedy_chat(call, max_tokens=10**6)
    assert info.value.status_code == 422 and "max_new_tokens" in str(info.value)


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )


def test_embeddings_rank_by_meaning(call: Any) -> None:
    texts = ["A cat sleeps on the sofa.", "A kitten naps on the couch.", "Interest rates rose sharply."]
    r = call(huggingface.Embedding, model="sentence-transformers/all-MiniLM-L6-v2", input=texts)
    CreateEmbeddingResponse.model_validate(json.loads(json.dumps(r)))
    v = [d.embedding for d in r.data]
    assert len(v) == 3 and len(v[0]) == 384
    assert cosine(v[0], v[1]) > cosine(v[0], v[2]) + 0.2
    assert math.isclose(sum(x * x for x in v[0]), 1.0, rel_tol=1e-4)


def test_more_inputs_than_the_batch_limit_merge_in_order(call: Any) -> None:
    texts = [f"sentence number {i} about topic {i % 7}" for i in range(70)]
    many = call(huggingface.Embedding, input=texts)
    assert [d.index for d in many.data] == list(range(70))
    single = call(huggingface.Embedding, input=[texts[45]])
    assert cosine(many.data[45].embedding, single.data[0].embedding) > 0.9999


def test_inference_api_style_model_collection(call: Any, serve_url: str) -> None:
    base = f"{serve_url}/models"
    r = call(
        huggingface.ChatCompletion,
        api_base=base,
        model="smollm2",
        messages=QUESTION,
        prompt_builder="chatml",
        temperature=0,
        max_tokens=8,
    )
    assert r.model == "smollm2" and r.choices[0].message.content
    e = call(huggingface.Embedding, api_base=base, model="minilm", input=["hello", "world"])
    assert len(e.data) == 2 and len(e.data[1].embedding) == 384

"""easyllm against llama.cpp's own current `llama-server` (SmolLM2, `--jinja`, embeddings with mean pooling).

The llama.cpp dialect end to end on the real server, not on recorded bodies: the `/v1/models` + `/props` reading,
chat whole and streamed (the server's own usage in the stream), structured output through its grammar, the
Responses API on its native route, embeddings (base64 asked, floats returned), `extra_body`, its errors, and an
inline `<think>` block moved to `reasoning` whole and streamed.
Answers are validated with the openai package's own types.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pydantic
import pytest
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion as OpenAIChatCompletion
from openai.types.chat import ChatCompletionChunk as OpenAIChatCompletionChunk
from openai.types.responses import Response as OpenAIResponse
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

import easyllm
from easyllm import calls, response_calls
from easyllm.clients import huggingface
from tests.client.v1_helpers import dump
from tests.integration import llamacpp_server

pytestmark = pytest.mark.integration

llama_server_url = llamacpp_server.llama_server_url  # the session fixture
ASK = [{"role": "user", "content": "What is 2+2? Answer with one number."}]
EVENT = TypeAdapter(ResponseStreamEvent)


@pytest.fixture(autouse=True)
def forget_servers() -> None:
    calls.forget_servers()
    response_calls.forget_servers()


def run(shell: str, base_url: str, resource: str, method: str, **kwargs: Any) -> Any:
    """`client.<resource>.<method>(**kwargs)` with a fresh client of the given shell; streams are drained."""

    def target(client: Any) -> Any:
        for name in resource.split("."):
            client = getattr(client, name)
        return getattr(client, method)

    if shell == "sync":
        with easyllm.HuggingFace(base_url=base_url, timeout=120) as hf:
            result = target(hf)(**kwargs)
            return list(result) if kwargs.get("stream") else result

    async def main() -> Any:
        async with easyllm.AsyncHuggingFace(base_url=base_url, timeout=120) as hf:
            result = await target(hf)(**kwargs)
            return [c async for c in result] if kwargs.get("stream") else result

    return asyncio.run(main())


def test_the_model_list_reads_props(llama_server_url: str) -> None:
    with easyllm.HuggingFace(base_url=llama_server_url, timeout=120) as hf:
        (model,) = list(hf.models.list())
    assert model.server == "llama.cpp"
    assert model.limits.max_total_tokens == 2048  # the slot's context, from /props
    assert model.capabilities.chat is True  # it has a chat template


def test_chat_whole_and_streamed_in_openai_shapes(shell: str, llama_server_url: str) -> None:
    whole = run(shell, llama_server_url, "chat.completions", "create", messages=ASK, max_tokens=16, temperature=0)
    OpenAIChatCompletion.model_validate(dump(whole))
    assert whole.choices[0].message.content and whole.usage.completion_tokens > 0
    chunks = run(shell, llama_server_url, "chat.completions", "create", messages=ASK, max_tokens=16, temperature=0,
                 stream=True, stream_options={"include_usage": True})  # fmt: skip
    for chunk in chunks:
        OpenAIChatCompletionChunk.model_validate(dump(chunk))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content  # greedy: the same answer, whole or streamed
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage  # the server's own counts, last


class Sum(pydantic.BaseModel):
    """The answer to a sum."""

    result: int
    sure: bool


def test_structured_output_goes_through_its_grammar(shell: str, llama_server_url: str) -> None:
    r = run(shell, llama_server_url, "chat.completions", "parse", messages=ASK, response_format=Sum, max_tokens=48,
            temperature=0)  # fmt: skip
    assert isinstance(r.choices[0].message.parsed, Sum)
    assert Sum.model_validate_json(r.choices[0].message.content) == r.choices[0].message.parsed


def test_the_responses_api_on_its_native_route(shell: str, llama_server_url: str) -> None:
    ask = {"input": "Name a colour.", "max_output_tokens": 16, "temperature": 0}
    r = run(shell, llama_server_url, "responses", "create", **ask)
    OpenAIResponse.model_validate(dump(r))
    assert r.status == "completed" and r.output_text
    events = run(shell, llama_server_url, "responses", "create", stream=True, **ask)
    for event in events:
        EVENT.validate_python(dump(event))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert [e.sequence_number for e in events] == sorted(e.sequence_number for e in events)
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == events[-1].response.output_text == r.output_text


def test_embeddings_come_back_as_floats_whatever_the_wire(shell: str, llama_server_url: str) -> None:
    texts = ["a cat", "a dog", "the stock market"]
    asked = run(shell, llama_server_url, "embeddings", "create", input=texts)  # base64 on the wire by default
    CreateEmbeddingResponse.model_validate(dump(asked))
    floats = run(shell, llama_server_url, "embeddings", "create", input=texts, encoding_format="float")
    assert [d.index for d in asked.data] == [0, 1, 2] and len(asked.data[0].embedding) == 576
    assert all(type(x) is float for x in asked.data[0].embedding)
    for a, b in zip(asked.data, floats.data, strict=True):
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)  # float32 on the wire either way
    assert asked.usage.prompt_tokens == floats.usage.prompt_tokens > 0


def test_extra_body_reaches_it_and_its_errors_are_typed(llama_server_url: str) -> None:
    with easyllm.HuggingFace(base_url=llama_server_url, timeout=120) as hf:
        greedy = hf.chat.completions.create(messages=ASK, max_tokens=8, extra_body={"top_k": 1, "seed": 3})
        assert greedy.choices[0].message.content
        with pytest.raises(easyllm.APIStatusError) as caught:
            hf.chat.completions.create(messages=ASK, max_tokens=8, extra_body={"n_probs": "many"})
    assert 400 <= caught.value.status_code < 500 and llama_server_url in str(caught.value)


def test_the_module_facade(llama_server_url: str) -> None:
    r = huggingface.ChatCompletion.create(api_base=llama_server_url, messages=ASK, max_tokens=16, temperature=0,
                                          request_timeout=120)  # fmt: skip
    assert r["choices"][0]["message"]["content"] == r.choices[0].message.content
    assert r.choices[0].finish_reason in ("stop", "length")


def test_an_inline_think_block_becomes_reasoning_whole_and_streamed(shell: str, llama_server_url: str) -> None:
    # SmolLM2 does not think, so llama.cpp's grammar makes it write a <think> block (this template gets no reasoning
    # parser on the server): the client moves the block to `reasoning` / `reasoning_content`, even when the stream
    # splits the tags over tokens (`<`, `t`, `hi`, `n`, `k`, ...).
    forced = {"grammar": 'root ::= "<think>\\nI add two and two.\\n</think>\\n\\nIt is 4."'}
    kwargs = {"messages": ASK, "max_tokens": 40, "temperature": 0, "extra_body": forced}
    whole = run(shell, llama_server_url, "chat.completions", "create", **kwargs).choices[0].message
    assert (whole.content, whole.reasoning, whole.reasoning_content) == ("It is 4.", *["\nI add two and two.\n"] * 2)
    deltas = [c.choices[0].delta for c in run(shell, llama_server_url, "chat.completions", "create", stream=True,
                                             **kwargs) if c.choices]  # fmt: skip
    assert "".join(d.content or "" for d in deltas) == "It is 4."
    assert "".join(d.reasoning or "" for d in deltas) == "\nI add two and two.\n"

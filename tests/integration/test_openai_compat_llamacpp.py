"""`HuggingFace` / `AsyncHuggingFace` end to end against llama-cpp-python's OpenAI-compatible server (SmolLM2)."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any, Literal

import pydantic
import pytest
from openai.types import Completion as OpenAICompletion
from openai.types import CreateEmbeddingResponse as OpenAICreateEmbeddingResponse
from openai.types.chat import ChatCompletion as OpenAIChatCompletion
from openai.types.chat import ChatCompletionChunk as OpenAIChatCompletionChunk
from openai.types.chat import ParsedChatCompletion as OpenAIParsedChatCompletion

import easyllm
from easyllm import errors
from easyllm.clients import huggingface
from tests.client.v1_helpers import dump
from tests.integration import llamacpp_server

pytestmark = pytest.mark.integration

llamacpp_url = llamacpp_server.llamacpp_url  # the session fixture

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def call(shell: str, url: str, resource: str, engine: str | None = None, method: str = "create", **kwargs: Any) -> Any:
    """`client.<resource>.<method>(**kwargs)` with a fresh client of the given shell; streams are drained."""
    if shell == "sync":
        with easyllm.HuggingFace(base_url=url, timeout=120, engine=engine) as client:
            result = getattr(_resource(client, resource), method)(**kwargs)
            return list(result) if kwargs.get("stream") else result

    async def main() -> Any:
        async with easyllm.AsyncHuggingFace(base_url=url, timeout=120, engine=engine) as client:
            result = await getattr(_resource(client, resource), method)(**kwargs)
            return [c async for c in result] if kwargs.get("stream") else result

    return asyncio.run(main())


def _resource(client: Any, name: str) -> Any:
    for part in name.split("."):
        client = getattr(client, part)
    return client


def test_chat_answer_validates_against_openai_types(shell: str, llamacpp_url: str) -> None:
    r = call(shell, llamacpp_url, "chat.completions", messages=QUESTION, max_tokens=12, temperature=0)
    OpenAIChatCompletion.model_validate(dump(r))
    assert r.choices[0].message.content and r.choices[0].finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens > 0 and "estimated" not in r.usage.model_dump()


def test_stream_matches_the_whole_answer_and_estimates_missing_usage(shell: str, llamacpp_url: str) -> None:
    whole = call(shell, llamacpp_url, "chat.completions", messages=QUESTION, max_tokens=12, temperature=0)
    chunks = call(
        shell, llamacpp_url, "chat.completions", messages=QUESTION, max_tokens=12, temperature=0, stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    for c in chunks:
        OpenAIChatCompletionChunk.model_validate(dump(c))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[-2].choices[0].finish_reason == whole.choices[0].finish_reason
    usage = chunks[-1].usage.model_dump()
    assert chunks[-1].choices == [] and usage["completion_tokens"] == whole.usage.completion_tokens
    assert usage["estimated"] is True  # llama.cpp sends no stream usage; the deltas were counted


def test_stop_strings_never_reach_the_caller(shell: str, llamacpp_url: str) -> None:
    whole = call(shell, llamacpp_url, "chat.completions", messages=QUESTION, max_tokens=16, temperature=0)
    text = whole.choices[0].message.content
    stop = text.split()[1]
    r = call(shell, llamacpp_url, "chat.completions", messages=QUESTION, max_tokens=16, temperature=0, stop=[stop])
    assert stop not in r.choices[0].message.content and r.choices[0].finish_reason == "stop"
    assert text.startswith(r.choices[0].message.content)


def test_response_format_passes_through(shell: str, llamacpp_url: str) -> None:
    messages = [{"role": "user", "content": "Where is the Eiffel tower? Answer in JSON."}]
    # llama.cpp's own extension: json_object with a `schema`; passed through as written
    fmt = {"type": "json_object", "schema": SCHEMA}
    r = call(shell, llamacpp_url, "chat.completions", messages=messages, max_tokens=40, temperature=0,
             response_format=fmt)  # fmt: skip
    assert isinstance(json.loads(r.choices[0].message.content)["city"], str)
    # it has no json_schema type and answers 500 with a validation message: that surfaces as a 422
    with pytest.raises(errors.UnprocessableEntityError, match="json_object"):
        call(shell, llamacpp_url, "chat.completions", messages=messages, max_tokens=4,
             response_format={"type": "json_schema", "json_schema": {"name": "place", "schema": SCHEMA}})  # fmt: skip


def test_json_schema_is_translated_for_the_llama_cpp_python_engine(shell: str, llamacpp_url: str) -> None:
    messages = [{"role": "user", "content": "Where is the Eiffel tower? Answer in JSON."}]
    fmt = {"type": "json_schema", "json_schema": {"name": "place", "schema": SCHEMA}}
    r = call(shell, llamacpp_url, "chat.completions", engine="llama-cpp-python", messages=messages, max_tokens=40,
             temperature=0, response_format=fmt)  # fmt: skip
    assert isinstance(json.loads(r.choices[0].message.content)["city"], str)
    # and a null assistant content (which this server answers 500 to) is sent as ""
    history = [*messages, {"role": "assistant", "content": None}, {"role": "user", "content": "Again."}]
    r = call(shell, llamacpp_url, "chat.completions", engine="llama-cpp-python", messages=history, max_tokens=4)
    assert r.choices[0].finish_reason in ("stop", "length")


class Capital(pydantic.BaseModel):
    """A country's capital."""

    country: Literal["France", "Italy", "Spain"]
    capital: Literal["Paris", "Rome", "Madrid", "Lyon"]
    sure: bool


def test_parse_reads_the_grammar_constrained_answer_into_the_model(shell: str, llamacpp_url: str) -> None:
    r = call(shell, llamacpp_url, "chat.completions", engine="llama-cpp-python", method="parse", messages=QUESTION,
             response_format=Capital, max_tokens=60, temperature=0)  # fmt: skip
    parsed = r.choices[0].message.parsed
    assert isinstance(parsed, Capital) and parsed == Capital.model_validate_json(r.choices[0].message.content)
    assert OpenAIParsedChatCompletion[Capital].model_validate(dump(r)).choices[0].message.parsed == parsed
    # a tool made from a model: the server's grammar-constrained call comes back as that model
    tool = easyllm.pydantic_function_tool(Capital)
    r = call(shell, llamacpp_url, "chat.completions", engine="llama-cpp-python", method="parse", messages=QUESTION,
             tools=[tool], tool_choice={"type": "function", "function": {"name": "Capital"}}, max_tokens=60,
             temperature=0)  # fmt: skip
    (tool_call,) = r.choices[0].message.tool_calls
    assert isinstance(tool_call.function.parsed_arguments, Capital)
    # the token limit cuts the JSON short: a typed error with the answer, not a parse failure
    with pytest.raises(errors.LengthFinishReasonError) as info:
        call(shell, llamacpp_url, "chat.completions", engine="llama-cpp-python", method="parse", messages=QUESTION,
             response_format=Capital, max_tokens=3, temperature=0)  # fmt: skip
    assert info.value.completion.choices[0].finish_reason == "length"
    # the Responses API's parse, translated onto this server's chat route (it has no /v1/responses)
    r = call(shell, llamacpp_url, "responses", engine="llama-cpp-python", method="parse",
             input=QUESTION[0]["content"], text_format=Capital, max_output_tokens=60, temperature=0)  # fmt: skip
    assert isinstance(r.output_parsed, Capital) and r.output_parsed == Capital.model_validate_json(r.output_text)


def test_chat_logprobs_in_openai_shape(shell: str, llamacpp_url: str) -> None:
    r = call(shell, llamacpp_url, "chat.completions", messages=QUESTION, max_tokens=4, temperature=0,
             logprobs=True, top_logprobs=2)  # fmt: skip
    OpenAIChatCompletion.model_validate(dump(r))
    content = r.choices[0].logprobs.content
    assert content and all(len(t.top_logprobs) == 2 and t.logprob <= 0 for t in content)


def test_n_samples(shell: str, llamacpp_url: str) -> None:
    r = call(shell, llamacpp_url, "chat.completions", messages=QUESTION, max_tokens=8, temperature=1.0, n=2)
    assert [c.index for c in r.choices] == [0, 1]


def test_text_completion_with_logprobs(shell: str, llamacpp_url: str) -> None:
    r = call(shell, llamacpp_url, "completions", prompt="The capital of France is", max_tokens=3, temperature=0,
             logprobs=2)  # fmt: skip
    OpenAICompletion.model_validate(dump(r))
    assert r.choices[0].text and len(r.choices[0].logprobs.tokens) == 3
    chunks = call(shell, llamacpp_url, "completions", prompt="The capital of France is", max_tokens=3,
                  temperature=0, stream=True)  # fmt: skip
    assert "".join(c.choices[0].text for c in chunks) == r.choices[0].text
    assert chunks[-1].choices[0].finish_reason == r.choices[0].finish_reason


def test_embeddings_are_pooled_normalised_and_in_order(shell: str, llamacpp_url: str) -> None:
    texts = ["The cat sat on the mat.", "A kitten rested on a rug.", "Stock markets fell sharply."]
    r = call(shell, llamacpp_url, "embeddings", input=texts)
    OpenAICreateEmbeddingResponse.model_validate(dump(r))
    assert [d.index for d in r.data] == [0, 1, 2] and r.usage.prompt_tokens > 0
    assert all(math.isclose(sum(x * x for x in d.embedding), 1.0, rel_tol=1e-5) for d in r.data)
    assert len({len(d.embedding) for d in r.data}) == 1


def test_server_validation_errors_sent_as_500_become_422(shell: str, llamacpp_url: str) -> None:
    with pytest.raises(errors.UnprocessableEntityError) as info:
        call(shell, llamacpp_url, "chat.completions", messages=QUESTION, tool_choice={"type": "bogus"})
    assert info.value.status_code == 422 and "validation" in str(info.value)


def test_the_module_facade_on_the_same_server(llamacpp_url: str) -> None:
    r = huggingface.ChatCompletion.create(api_base=llamacpp_url, messages=QUESTION, max_tokens=8, temperature=0)
    assert r["choices"][0]["message"]["content"] == r.choices[0].message.content
    OpenAIChatCompletion.model_validate(r.to_dict())


# ---------------------------------------------------------------- what the server can do, and what it cannot


def test_models_list_and_retrieve(shell: str, llamacpp_url: str) -> None:
    from openai.types import Model as OpenAIModel

    if shell == "sync":
        with easyllm.HuggingFace(base_url=llamacpp_url, timeout=60) as client:
            listed = list(client.models.list())
            one = client.models.retrieve(listed[0].id)
    else:

        async def main() -> Any:
            async with easyllm.AsyncHuggingFace(base_url=llamacpp_url, timeout=60) as client:
                found = list(await client.models.list())
                return found, await client.models.retrieve(found[0].id)

        listed, one = asyncio.run(main())
    assert len(listed) == 1 and one.id == listed[0].id
    OpenAIModel.model_validate(dump(one))
    # llama-cpp-python's list says nothing of limits or capabilities (no /props, no meta): None, not a guess
    assert one.server == "openai" and set(dump(one)["limits"].values()) == {None}


def test_llamacpp_python_serves_no_rerank_and_says_so(shell: str, llamacpp_url: str) -> None:
    with pytest.raises(errors.NotFoundError):
        call(shell, llamacpp_url, "rerank", query="capital of France", documents=["Paris", "Berlin"])

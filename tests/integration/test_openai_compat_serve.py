"""`HuggingFace` / `AsyncHuggingFace` against `easyllm serve`: its `/v1` routes, and TGI routes with detection."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import pydantic
import pytest
from openai.types.chat import ChatCompletion as OpenAIChatCompletion
from openai.types.chat import ChatCompletionChunk as OpenAIChatCompletionChunk

import easyllm
from easyllm import calls
from tests.client.v1_helpers import dump

pytestmark = pytest.mark.integration

QUESTION = [{"role": "user", "content": "What is 2+2? Answer with one number."}]


def chat(shell: str, base_url: str, client: dict[str, Any] | None = None, method: str = "create", **kwargs: Any) -> Any:
    kwargs.setdefault("messages", QUESTION)
    if shell == "sync":
        with easyllm.HuggingFace(base_url=base_url, timeout=120, **(client or {})) as hf:
            result = getattr(hf.chat.completions, method)(**kwargs)
            return list(result) if kwargs.get("stream") else result

    async def main() -> Any:
        async with easyllm.AsyncHuggingFace(base_url=base_url, timeout=120, **(client or {})) as hf:
            result = await getattr(hf.chat.completions, method)(**kwargs)
            return [c async for c in result] if kwargs.get("stream") else result

    return asyncio.run(main())


def test_v1_routes_answer_in_openai_shapes(shell: str, serve_url: str) -> None:
    whole = chat(shell, f"{serve_url}/v1", max_tokens=12, temperature=0)
    OpenAIChatCompletion.model_validate(dump(whole))
    chunks = chat(shell, f"{serve_url}/v1", max_tokens=12, temperature=0, stream=True)
    for c in chunks:
        OpenAIChatCompletionChunk.model_validate(dump(c))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == whole.choices[0].finish_reason


def test_tgi_base_without_builder_detects_the_messages_api(shell: str, serve_url: str) -> None:
    calls.forget_servers()
    via_messages = chat(shell, serve_url, max_tokens=12, temperature=0)
    assert calls._missing_routes == set()  # the Messages API answered: no switch to the native route
    via_v1 = chat(shell, f"{serve_url}/v1", max_tokens=12, temperature=0)
    assert via_messages.choices[0].message.content == via_v1.choices[0].message.content


def test_tgi_base_with_builder_uses_the_native_route(shell: str, serve_url: str) -> None:
    r = chat(shell, serve_url, client={"prompt_builder": "chatml"}, max_tokens=12, temperature=0)
    assert r.choices[0].message.content and r.usage.completion_tokens > 0
    OpenAIChatCompletion.model_validate(dump(r))


def test_completions_and_embeddings_on_v1(serve_url: str) -> None:
    with easyllm.HuggingFace(base_url=f"{serve_url}/v1", timeout=120) as hf:
        text = hf.completions.create(prompt="1, 2, 3,", max_tokens=4, temperature=0)
    assert text.choices[0].text
    with easyllm.HuggingFace(base_url=f"{serve_url}/models/minilm/v1", timeout=120) as hf:
        vectors = hf.embeddings.create(input=["a cat", "a dog"])
    assert [d.index for d in vectors.data] == [0, 1]


class Sum(pydantic.BaseModel):
    """The answer to a sum."""

    answer: Literal[3, 4, 5]
    certain: bool


@pytest.mark.parametrize("where", ["", "/v1", "native"])
def test_parse_gets_a_model_from_the_servers_grammar(shell: str, serve_url: str, where: str) -> None:
    # TGI's Messages API at the root, the /v1 routes, and TGI's native route (a prompt builder): each dialect sends
    # the model's schema in its form, the server masks its sampling to it, and the answer is read into `Sum`
    calls.forget_servers()
    base, client = (serve_url, {"prompt_builder": "chatml"}) if where == "native" else (serve_url + where, {})
    r = chat(shell, base, client, method="parse", response_format=Sum, max_tokens=40, temperature=0)
    parsed = r.choices[0].message.parsed
    assert isinstance(parsed, Sum) and parsed == Sum.model_validate_json(r.choices[0].message.content)
    assert r.choices[0].finish_reason == "stop"


def test_responses_parse_gets_a_model_from_the_native_route(shell: str, serve_url: str) -> None:
    async def main() -> Any:
        async with easyllm.AsyncHuggingFace(base_url=f"{serve_url}/v1", timeout=120) as hf:
            return await hf.responses.parse(input=QUESTION[0]["content"], text_format=Sum, max_output_tokens=40,
                                            temperature=0)  # fmt: skip

    if shell == "sync":
        with easyllm.HuggingFace(base_url=f"{serve_url}/v1", timeout=120) as hf:
            r = hf.responses.parse(input=QUESTION[0]["content"], text_format=Sum, max_output_tokens=40, temperature=0)
    else:
        r = asyncio.run(main())
    assert isinstance(r.output_parsed, Sum) and r.output_parsed == Sum.model_validate_json(r.output_text)
    assert r.status == "completed" and r.text["format"]["name"] == "Sum"


def test_the_stream_helper_reads_the_grammar_held_stream(shell: str, serve_url: str) -> None:
    kwargs = {"messages": QUESTION, "response_format": Sum, "max_tokens": 40, "temperature": 0}

    async def main() -> Any:
        hf = easyllm.AsyncHuggingFace(base_url=f"{serve_url}/v1", timeout=120)
        async with hf, hf.chat.completions.stream(**kwargs) as stream:
            return [e async for e in stream], await stream.get_final_completion()

    if shell == "sync":
        with (
            easyllm.HuggingFace(base_url=f"{serve_url}/v1", timeout=120) as hf,
            hf.chat.completions.stream(**kwargs) as stream,
        ):
            events, final = list(stream), stream.get_final_completion()
    else:
        events, final = asyncio.run(main())
    text = "".join(e.delta for e in events if e.type == "content.delta")
    (done,) = [e for e in events if e.type == "content.done"]
    assert done.content == text == final.choices[0].message.content
    assert isinstance(done.parsed, Sum) and final.choices[0].message.parsed == done.parsed


def test_the_responses_stream_helper_reads_the_native_stream(serve_url: str) -> None:
    with (
        easyllm.HuggingFace(base_url=f"{serve_url}/v1", timeout=120) as hf,
        hf.responses.stream(
            input=QUESTION[0]["content"], text_format=Sum, max_output_tokens=40, temperature=0
        ) as stream,
    ):
        events, final = list(stream), stream.get_final_response()
    (done,) = [e for e in events if e.type == "response.output_text.done"]
    snapshots = [e.snapshot for e in events if e.type == "response.output_text.delta"]
    assert snapshots[-1] == done.text == final.output_text
    assert isinstance(done.parsed, Sum) and final.output_parsed == done.parsed

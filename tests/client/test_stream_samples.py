"""Streams with `n > 1`: one request per sample, chunks sample by sample, one usage chunk; both shells, both routes."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openai.types.chat import ChatCompletionChunk as OpenAIChatCompletionChunk

import easyllm
from easyllm import errors
from easyllm.clients import huggingface
from tests.client import v1_helpers
from tests.client.conftest import BASE
from tests.client.fake_tgi import Body, generate_body, reply, sse, stream_reply, token_events
from tests.client.test_chat import MESSAGES, chat, simple_builder
from tests.client.v1_helpers import V1, chat_body, chunk, dump, sse_done, usage_chunk

# fixtures shared by the v1 tests
forget_routes = v1_helpers.forget_routes
make_v1 = v1_helpers.make_v1
v1_shell = v1_helpers.v1_shell

Handler = Callable[[httpx.Request], httpx.Response]


def pieces_for(seed: int) -> list[str]:
    """What the fake model says for a seed: each sample's text tells which seed made it."""
    return [f"s{seed}", " says", f" {seed * 2}"]


class Recorder:
    """A fake server that answers by seed, keeps every response it made, and can fail one seed's stream."""

    def __init__(self, answer: Callable[[dict[str, Any], int], Handler], fail_seed: int | None = None) -> None:
        self.answer = answer
        self.fail_seed = fail_seed
        self.requests: list[httpx.Request] = []
        self.responses: list[httpx.Response] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = json.loads(request.content)
        seed = body["parameters"]["seed"] if "parameters" in body else body["seed"]
        made = self.answer(body, seed)(request) if seed != self.fail_seed else self.failure(body)(request)
        response = httpx.Response(made.status_code, headers=made.headers, stream=Body(made.content))
        assert not response.is_closed
        self.responses.append(response)
        return response

    def failure(self, body: dict[str, Any]) -> Handler:
        events: list[Any] = token_events(["par", "tial", "ly"])[:2]
        events.append({"error": "Request failed during generation: boom", "error_type": "generation"})
        return stream_reply(events)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests]


def native_answer(body: dict[str, Any], seed: int) -> Handler:
    pieces = pieces_for(seed)
    if not body["stream"]:
        return reply(json_body=generate_body("".join(pieces), tokens=len(pieces) + 1))
    return stream_reply(token_events(pieces, input_length=7, seed=seed))


def v1_answer(body: dict[str, Any], seed: int) -> Handler:
    pieces = pieces_for(seed)
    usage = {"prompt_tokens": 5, "completion_tokens": len(pieces), "total_tokens": 5 + len(pieces)}
    if not body.get("stream"):
        return reply(json_body=chat_body("".join(pieces), usage=usage))
    server_id = f"chatcmpl-server-{seed}"  # a server gives each request its own id and says index 0
    events = [chunk({"content": p}, id=server_id) for p in pieces]
    return sse_done([*events, chunk({}, "stop", id=server_id), {**usage_chunk(5, len(pieces)), "id": server_id}])


def by_index(chunks: list[Any]) -> dict[int, list[Any]]:
    groups: dict[int, list[Any]] = {}
    for c in chunks:
        if c.choices:
            groups.setdefault(c.choices[0].index, []).append(c.choices[0])
    return groups


def check_sample_streams(chunks: list[Any], content: Callable[[Any], str], role: Callable[[Any], Any]) -> list[str]:
    """Each index: a role chunk, then deltas, then one finish chunk; indices come in order. Returns the texts."""
    indices = [c.choices[0].index for c in chunks if c.choices]
    assert indices == sorted(indices) and set(indices) == {0, 1, 2}
    texts = []
    for choices in by_index(chunks).values():
        assert role(choices[0]) == "assistant" and all(role(c) is None for c in choices[1:])
        assert choices[-1].finish_reason == "stop" and all(c.finish_reason is None for c in choices[:-1])
        texts.append("".join(content(c) for c in choices))
    return texts


# ---------------------------------------------------------------- TGI's native route (module facade)


def test_native_n_streams_sample_by_sample_with_one_usage_chunk(make_runner: Any) -> None:
    server = Recorder(native_answer)
    run = make_runner(server)
    chunks = chat(run, n=3, seed=7, temperature=0.8, stream=True, stream_options={"include_usage": True})
    texts = check_sample_streams(chunks, lambda c: c.delta.get("content", ""), lambda c: c.delta.get("role"))
    whole = chat(run, n=3, seed=7, temperature=0.8)
    assert texts == [c.message.content for c in whole.choices] == ["s7 says 14", "s8 says 16", "s9 says 18"]
    assert [b["parameters"]["seed"] for b in server.bodies()[:3]] == [7, 8, 9]
    assert all(b["stream"] is True for b in server.bodies()[:3])
    usage = [c for c in chunks if not c.choices]
    assert usage == [chunks[-1]]
    assert chunks[-1].usage == {"prompt_tokens": 7, "completion_tokens": 12, "total_tokens": 19}
    assert len({c.id for c in chunks}) == 1
    for c in chunks:
        OpenAIChatCompletionChunk.model_validate(json.loads(json.dumps(c)))


def test_native_n_stream_without_usage_asked_has_no_usage_chunk(make_runner: Any) -> None:
    run = make_runner(Recorder(native_answer))
    chunks = chat(run, n=2, seed=1, stream=True)
    assert all(c.choices for c in chunks) and {c.choices[0].index for c in chunks} == {0, 1}


def test_native_text_completion_streams_carry_the_sample_index(make_runner: Any) -> None:
    run = make_runner(Recorder(native_answer))
    chunks = run(huggingface.Completion, prompt="Count:", n=2, seed=3, stream=True)
    texts = {i: "".join(c.text for c in cs) for i, cs in by_index(chunks).items()}
    assert texts == {0: "s3 says 6", 1: "s4 says 8"}


def test_native_stop_strings_are_trimmed_per_sample(make_runner: Any) -> None:
    run = make_runner(Recorder(native_answer))
    chunks = chat(run, n=2, seed=7, stream=True, stop=[" says"])
    texts = {i: "".join(c.delta.get("content", "") for c in cs) for i, cs in by_index(chunks).items()}
    assert texts == {0: "s7", 1: "s8"}


# ---------------------------------------------------------------- an OpenAI-compatible server (client objects)


def test_v1_n_streams_sample_by_sample_with_one_usage_chunk(make_v1: Any) -> None:
    server = Recorder(v1_answer)
    run = make_v1(server)
    kwargs: dict[str, Any] = {"messages": MESSAGES, "n": 3, "seed": 7, "temperature": 0.8}
    chunks = run("chat.completions", stream=True, stream_options={"include_usage": True}, **kwargs)
    texts = check_sample_streams(chunks, lambda c: c.delta.content or "", lambda c: c.delta.role)
    whole = run("chat.completions", **kwargs)
    assert texts == [c.message.content for c in whole.choices] == ["s7 says 14", "s8 says 16", "s9 says 18"]
    assert [b["seed"] for b in server.bodies()[:3]] == [7, 8, 9]
    assert all(b["stream"] is True and "n" not in b for b in server.bodies()[:3])
    assert [c for c in chunks if not c.choices] == [chunks[-1]]
    assert chunks[-1].usage is not None and chunks[-1].usage.model_dump(exclude_none=True) == {
        "prompt_tokens": 5,
        "completion_tokens": 9,
        "total_tokens": 14,
    }
    assert {c.id for c in chunks} == {"chatcmpl-server-7"}  # one call, one id (the first sample's)
    for c in chunks:
        OpenAIChatCompletionChunk.model_validate(dump(c))


def test_v1_n_streams_through_the_facade_too(make_runner: Any) -> None:
    run = make_runner(Recorder(v1_answer))
    chunks = chat(run, n=3, seed=7, stream=True, api_base=V1, prompt_builder=None)
    texts = check_sample_streams(chunks, lambda c: c.delta.get("content", ""), lambda c: c.delta.get("role"))
    assert texts == ["s7 says 14", "s8 says 16", "s9 says 18"]


# ---------------------------------------------------------------- errors and closing, both shells


def drive(shell: str, server: Recorder, use: Callable[[Any], Any], **kwargs: Any) -> Any:
    """Create an n>1 stream through `shell`, hand it to `use` (a sync or async function), return the stream."""
    kwargs = {"messages": MESSAGES, "prompt_builder": simple_builder, "api_base": "http://tgi.test", **kwargs}
    if shell == "sync":
        huggingface.http_client = httpx.Client(transport=httpx.MockTransport(server))
        stream = huggingface.ChatCompletion.create(stream=True, **kwargs)
        use(stream)
        return stream

    async def go() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
            huggingface.async_http_client = client
            stream = await huggingface.ChatCompletion.acreate(stream=True, **kwargs)
            await use(stream)
            return stream

    return asyncio.run(go())


def test_an_error_in_sample_two_raises_with_its_partial_text_and_closes_all(shell: str) -> None:
    server = Recorder(native_answer, fail_seed=8)
    seen: list[Any] = []

    def read_sync(stream: Any) -> None:
        seen.extend(stream)

    async def read_async(stream: Any) -> None:
        async for c in stream:
            seen.append(c)

    with pytest.raises(errors.APIStatusError, match="boom") as info:
        drive(shell, server, read_sync if shell == "sync" else read_async, n=3, seed=7)
    assert info.value.partial_text == "partial"
    texts = {i: "".join(c.delta.get("content", "") for c in cs) for i, cs in by_index(seen).items()}
    assert texts == {0: "s7 says 14", 1: "partial"}  # sample 0 whole, sample 1 up to the error, no sample 2
    assert len(server.responses) == 3 and all(r.is_closed for r in server.responses)


@pytest.mark.parametrize("how", ["break", "close", "with"])
def test_stopping_early_closes_every_response(shell: str, how: str) -> None:
    server = Recorder(native_answer)

    def stop_sync(stream: Any) -> None:
        if how == "with":
            with stream:
                next(stream)
            return
        for _ in stream:
            break
        if how == "close":
            stream.close()

    async def stop_async(stream: Any) -> None:
        if how == "with":
            async with stream:
                await stream.__anext__()
            return
        async for _ in stream:
            break
        if how == "close":
            await stream.close()

    if how == "break":
        drive(shell, server, stop_sync if shell == "sync" else stop_async, n=3, seed=7)  # the stream is dropped
        gc.collect()
    else:
        stream = drive(shell, server, stop_sync if shell == "sync" else stop_async, n=3, seed=7)
        assert stream.response is stream.responses[0] and len(stream.responses) == 3
    assert len(server.responses) == 3 and all(r.is_closed for r in server.responses)


def test_a_failed_opening_closes_the_streams_already_open(shell: str) -> None:
    def answer(body: dict[str, Any], seed: int) -> Handler:
        if seed == 9:
            return reply(400, json_body={"error": "Input validation error: nope", "error_type": "validation"})
        return native_answer(body, seed)

    server = Recorder(answer)

    def never(stream: Any) -> Any:
        raise AssertionError("the stream should not open")

    with pytest.raises(errors.BadRequestError, match="nope"):
        drive(shell, server, never, n=3, seed=7)
    assert len(server.responses) == 3 and all(r.is_closed for r in server.responses)


def test_client_object_stream_closes_every_response(v1_shell: str) -> None:
    server = Recorder(v1_answer)
    kwargs: dict[str, Any] = {"messages": MESSAGES, "n": 2, "seed": 1, "stream": True}
    if v1_shell == "sync":
        http = httpx.Client(transport=httpx.MockTransport(server))
        with easyllm.HuggingFace(base_url=V1, http_client=http) as hf, hf.chat.completions.create(**kwargs) as stream:
            next(stream)
    else:

        async def go() -> None:
            async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
                hf = easyllm.AsyncHuggingFace(base_url=V1, http_client=http)
                async with await hf.chat.completions.create(**kwargs) as stream:
                    await stream.__anext__()

        asyncio.run(go())
    assert len(server.responses) == 2 and all(r.is_closed for r in server.responses)


def test_cancelled_while_opening_closes_the_streams_already_open() -> None:
    opened: list[httpx.Response] = []
    first_open = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        seed = json.loads(request.content)["parameters"]["seed"]
        if seed == 7:
            response = httpx.Response(200, stream=Body(sse(token_events(["a", "b"]))))
            opened.append(response)
            first_open.set()
            return response
        await asyncio.sleep(30)  # the second sample never opens before the caller gives up
        raise AssertionError("unreachable")

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            huggingface.async_http_client = http
            task = asyncio.ensure_future(
                huggingface.ChatCompletion.acreate(
                    messages=MESSAGES, prompt_builder=simple_builder, api_base=BASE, stream=True, n=2, seed=7
                )
            )
            await first_open.wait()
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(go())
    assert len(opened) == 1 and opened[0].is_closed

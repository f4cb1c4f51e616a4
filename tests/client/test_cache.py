"""The answer cache: hits and misses counted by the server, per-text embeddings, streams, expiry, processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import easyllm
from easyllm.clients import huggingface
from easyllm.errors import InvalidParameterError
from easyllm.schema.types import ChatCompletion, ChatCompletionChunk, CreateEmbeddingResponse
from tests.client.pool_helpers import Counting, run
from tests.client.v1_helpers import MESSAGES, V1, chunk, sse_done, usage_chunk


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cache(tmp_path: Path) -> easyllm.Cache:
    return easyllm.Cache(tmp_path / "answers")


def twice(shell: str, call: Any) -> Any:
    """`call(hf)` twice on one client; both answers."""
    if shell == "sync":
        return lambda hf: (call(hf), call(hf))

    async def both(hf: Any) -> tuple[Any, Any]:
        return await call(hf), await call(hf)

    return both


def chat(**options: Any) -> Any:
    return lambda hf: hf.chat.completions.create(messages=MESSAGES, model="m", **options)


def test_a_greedy_chat_is_answered_from_the_cache_the_second_time(shell: str, cache: easyllm.Cache) -> None:
    server = Counting()
    first, second = run(shell, server, twice(shell, chat(temperature=0)), base_url=V1, cache=cache)
    assert sum(server.hosts.values()) == 1
    assert cache.stats == easyllm.CacheStats(hits=1, misses=1)
    assert type(second) is ChatCompletion
    assert second.choices == first.choices and second.id == first.id and second.model == first.model
    assert first.usage is not None and second.usage is not None
    assert second.usage.total_tokens == first.usage.total_tokens == 14
    assert second.usage.model_extra == {"cached": True, "cost": 0.0}
    assert not first.usage.model_extra


@pytest.mark.parametrize("options", [{"seed": 7}, {"top_p": 0}, {"temperature": 0, "max_tokens": 5}])
def test_seeded_and_greedy_calls_are_reproducible(shell: str, cache: easyllm.Cache, options: dict[str, Any]) -> None:
    server = Counting()
    run(shell, server, twice(shell, chat(**options)), base_url=V1, cache=cache)
    assert sum(server.hosts.values()) == 1


def test_sampled_calls_are_sent_every_time_unless_always(shell: str, tmp_path: Path) -> None:
    server = Counting()
    run(shell, server, twice(shell, chat(temperature=0.7)), base_url=V1, cache=tmp_path / "c")
    assert sum(server.hosts.values()) == 2
    always = easyllm.Cache(tmp_path / "c", completions="always")
    run(shell, server, twice(shell, chat(temperature=0.7)), base_url=V1, cache=always)
    assert sum(server.hosts.values()) == 3
    assert always.stats == (1, 1)


def test_always_uses_the_default_folder(shell: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EASYLLM_CACHE_DIR", str(tmp_path / "default"))
    server = Counting()
    run(shell, server, twice(shell, chat()), base_url=V1, cache="always")
    assert sum(server.hosts.values()) == 1
    assert (tmp_path / "default" / "cache.db").exists()


def test_every_parameter_that_changes_the_answer_is_in_the_key(shell: str, cache: easyllm.Cache) -> None:
    server = Counting()
    calls = [chat(temperature=0), chat(temperature=0, max_tokens=3), chat(temperature=0, stop=["x"])]

    def all_of(hf: Any) -> Any:
        if shell == "sync":
            return [c(hf) for c in calls] + [hf.chat.completions.create(messages=MESSAGES, model="n", temperature=0)]

        async def seq() -> list[Any]:
            out = [await c(hf) for c in calls]
            return [*out, await hf.chat.completions.create(messages=MESSAGES, model="n", temperature=0)]

        return seq()

    run(shell, server, all_of, base_url=V1, cache=cache)
    assert sum(server.hosts.values()) == 4
    assert cache.stats.hits == 0


def test_the_token_is_never_in_a_key_or_a_value(shell: str, cache: easyllm.Cache) -> None:
    server = Counting()
    run(shell, server, chat(temperature=0), base_url=V1, cache=cache, api_key="hf_tokenvalue123")
    run(shell, server, chat(temperature=0), base_url=V1, cache=cache, api_key="hf_othertoken456")
    assert sum(server.hosts.values()) == 1  # another token, the same request: the same entry
    stored = b"".join(p.read_bytes() for p in cache.path.rglob("*") if p.is_file())
    assert b"hf_tokenvalue123" not in stored and b"tokenvalue" not in stored


def test_a_call_can_turn_the_client_cache_off(shell: str, cache: easyllm.Cache) -> None:
    server = Counting()
    run(shell, server, twice(shell, chat(temperature=0, cache=False)), base_url=V1, cache=cache)
    assert sum(server.hosts.values()) == 2
    assert cache.stats == (0, 0)


def test_a_bad_cache_is_refused_before_sending(shell: str) -> None:
    server = Counting()
    with pytest.raises(InvalidParameterError) as info:
        run(shell, server, chat(temperature=0, cache=3), base_url=V1)
    assert info.value.param == "cache" and not server.hosts
    with pytest.raises(InvalidParameterError) as info:
        easyllm.Cache(max_size=0)
    assert info.value.param == "max_size"


def stream_twice(shell: str) -> Any:
    options = {"messages": MESSAGES, "model": "m", "stream": True, "temperature": 0}
    options["stream_options"] = {"include_usage": True}
    if shell == "sync":
        return lambda hf: [list(hf.chat.completions.create(**options)) for _ in range(2)]

    async def read(hf: Any) -> list[list[Any]]:
        out = []
        for _ in range(2):
            out.append([c async for c in await hf.chat.completions.create(**options)])
        return out

    return read


def test_a_stream_is_replayed_as_chunks_of_the_same_types(shell: str, cache: easyllm.Cache) -> None:
    sent: list[str] = []
    body = sse_done([chunk({"content": "Hel"}), chunk({"content": "lo"}), chunk({}, "stop"), usage_chunk()])

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return body(request)

    live, replayed = run(shell, handler, stream_twice(shell), base_url=V1, cache=cache)
    assert len(sent) == 1
    assert all(type(c) is ChatCompletionChunk for c in replayed)
    assert [c.model_dump(exclude={"usage"}) for c in replayed] == [c.model_dump(exclude={"usage"}) for c in live]
    assert replayed[-1].usage is not None and replayed[-1].usage.model_extra == {"cached": True, "cost": 0.0}
    assert live[-1].usage is not None and live[-1].usage.total_tokens == replayed[-1].usage.total_tokens


def test_a_stream_without_usage_is_another_entry(shell: str, cache: easyllm.Cache) -> None:
    body = sse_done([chunk({"content": "Hi"}), chunk({}, "stop"), usage_chunk()])
    sent: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        return body(request)

    options = {"messages": MESSAGES, "stream": True, "temperature": 0}
    if shell == "sync":
        read = lambda hf, **more: list(hf.chat.completions.create(**options, **more))  # noqa: E731
    else:

        async def read(hf: Any, **more: Any) -> list[Any]:
            return [c async for c in await hf.chat.completions.create(**options, **more)]

    def both(hf: Any) -> Any:
        if shell == "sync":
            return read(hf), read(hf, stream_options={"include_usage": True})

        async def seq() -> Any:
            return await read(hf), await read(hf, stream_options={"include_usage": True})

        return seq()

    plain, with_usage = run(shell, handler, both, base_url=V1, cache=cache)
    assert len(sent) == 2
    assert plain[-1].usage is None and with_usage[-1].usage is not None


def test_a_stream_closed_early_is_not_stored(cache: easyllm.Cache) -> None:
    server_calls: list[int] = []
    body = sse_done([chunk({"content": "Hel"}), chunk({"content": "lo"}), chunk({}, "stop"), usage_chunk()])

    def handler(request: httpx.Request) -> httpx.Response:
        server_calls.append(1)
        return body(request)

    with easyllm.HuggingFace(
        base_url=V1, cache=cache, http_client=httpx.Client(transport=httpx.MockTransport(handler))
    ) as hf:
        for _ in range(2):
            with hf.chat.completions.create(messages=MESSAGES, stream=True, temperature=0) as stream:
                next(iter(stream))
    assert len(server_calls) == 2 and cache.stats.hits == 0


# ---------------------------------------------------------------- embeddings


def embed_call(texts: list[str], **options: Any) -> Any:
    return lambda hf: hf.embeddings.create(input=texts, model="m", normalize=False, **options)


def test_a_corpus_with_ten_percent_new_texts_sends_only_those(shell: str, cache: easyllm.Cache) -> None:
    corpus = [f"document number {i}" for i in range(200)]
    server = Counting()
    first = run(shell, server, embed_call(corpus, batch_size=16), base_url=V1, cache=cache)
    assert len(server.texts) == 200
    grown = corpus[:180] + [f"new document {i}" for i in range(20)]
    grown[5], grown[190] = grown[190], grown[5]  # new texts anywhere, not only at the end
    server.texts.clear()
    second = run(shell, server, embed_call(grown, batch_size=16), base_url=V1, cache=cache)
    assert sorted(server.texts) == sorted(f"new document {i}" for i in range(20))
    assert type(second) is CreateEmbeddingResponse
    assert [item.index for item in second.data] == list(range(200))
    assert [item.embedding for item in second.data] == [[float(len(t)), 1.0] for t in grown]
    assert second.data[0].embedding == first.data[0].embedding
    assert second.usage.model_extra == {"cached_inputs": 180}
    assert second.usage.prompt_tokens == sum(len(t.split()) for t in server.texts)
    assert cache.stats == (180, 220)


def test_a_corpus_all_in_the_cache_sends_nothing_and_costs_nothing(shell: str, cache: easyllm.Cache) -> None:
    server = Counting()
    texts = ["a b", "c d e"]
    run(shell, server, embed_call(texts), base_url=V1, cache=cache)
    again = run(shell, server, embed_call(texts), base_url=V1, cache=cache, prices={"m": {"input": 1.0}})
    assert sum(server.hosts.values()) == 1
    assert again.model == "served-model"
    assert again.usage.prompt_tokens == 0
    assert again.usage.model_extra == {"cached": True, "cost": 0.0, "cached_inputs": 2}


def test_how_vectors_are_finished_is_part_of_the_key(shell: str, cache: easyllm.Cache) -> None:
    server = Counting()
    run(shell, server, embed_call(["x y"]), base_url=V1, cache=cache)
    b64 = run(shell, server, embed_call(["x y"], encoding_format="base64"), base_url=V1, cache=cache)
    cut = run(shell, server, embed_call(["x y"], dimensions=1), base_url=V1, cache=cache)
    again = run(shell, server, embed_call(["x y"], encoding_format="base64"), base_url=V1, cache=cache)
    assert sum(server.hosts.values()) == 3
    assert isinstance(b64.data[0].embedding, str) and again.data[0].embedding == b64.data[0].embedding
    assert cut.data[0].embedding == [1.0]


def test_entries_expire_after_the_ttl_and_clear_empties_the_cache(shell: str, tmp_path: Path) -> None:
    server = Counting()
    short = easyllm.Cache(tmp_path / "short", ttl=0.3)
    run(shell, server, embed_call(["x"]), base_url=V1, cache=short)
    run(shell, server, embed_call(["x"]), base_url=V1, cache=short)
    assert sum(server.hosts.values()) == 1
    time.sleep(0.4)
    run(shell, server, embed_call(["x"]), base_url=V1, cache=short)
    assert sum(server.hosts.values()) == 2
    short.clear()
    assert short.stats == (0, 0) and len(short) == 0
    run(shell, server, embed_call(["x"]), base_url=V1, cache=short)
    assert sum(server.hosts.values()) == 3


def test_the_module_setting_and_a_folder_path(shell: str, tmp_path: Path) -> None:
    server = Counting()
    huggingface.cache = tmp_path / "module"
    for _ in range(2):
        if shell == "sync":
            huggingface.http_client = httpx.Client(transport=httpx.MockTransport(server))
            huggingface.Embedding.create(input=["x"], api_base=V1)
            huggingface.ChatCompletion.create(messages=MESSAGES, api_base=V1, temperature=0)
        else:

            async def main() -> None:
                async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
                    huggingface.async_http_client = http
                    await huggingface.Embedding.acreate(input=["x"], api_base=V1)
                    await huggingface.ChatCompletion.acreate(messages=MESSAGES, api_base=V1, temperature=0)

            asyncio.run(main())
    assert sum(server.hosts.values()) == 2
    with pytest.raises(InvalidParameterError):
        huggingface.Embedding.iter_batches(input=["x"], api_base=V1, cache=True)


_OTHER_PROCESS = """
import json, sys, httpx, easyllm
sent = []
def handler(request):
    body = json.loads(request.content)
    sent.extend(body["input"])
    data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0]} for i, t in enumerate(body["input"])]
    return httpx.Response(200, json={"object": "list", "model": "served-model", "data": data,
                                     "usage": {"prompt_tokens": 1, "total_tokens": 1}})
with easyllm.HuggingFace(base_url=sys.argv[2], cache=sys.argv[1],
                         http_client=httpx.Client(transport=httpx.MockTransport(handler))) as hf:
    answer = hf.embeddings.create(input=["shared one", "shared two", "only here"], model="m", normalize=False)
print(json.dumps({"sent": sent, "vectors": [d.embedding for d in answer.data]}))
"""


def test_two_processes_share_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    server = Counting()
    run("sync", server, embed_call(["shared one", "shared two"]), base_url=V1, cache=folder)
    done = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, str(folder), V1], capture_output=True, text=True, check=True, timeout=120
    )
    other = json.loads(done.stdout)
    assert other["sent"] == ["only here"]
    assert other["vectors"] == [[10.0, 1.0], [10.0, 1.0], [9.0, 1.0]]
    server.texts.clear()
    run("sync", server, embed_call(["only here"]), base_url=V1, cache=folder)
    assert server.texts == []  # what the other process stored is found here


def test_an_entry_that_is_not_json_text_reads_as_a_miss(cache: easyllm.Cache) -> None:
    import diskcache

    with diskcache.Cache(str(cache.path)) as raw:
        raw.set("pickled", {"answer": 1})  # diskcache's default Disk pickles a dict
        raw.set("text", "not json")
    assert cache.get("pickled") is None and cache.get("text") is None
    assert cache.stats == (0, 2)

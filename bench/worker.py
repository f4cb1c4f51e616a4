"""One client, one scenario, in a fresh process: `python -m bench.worker CLIENT SCENARIO BASE_URL PARAMS_JSON`.

Prints one JSON line with the measurements. CPU is `resource.getrusage(RUSAGE_SELF)` user + system time of this
process (all its threads), taken around the measured operations only, after a warm-up.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from bench.clients import ADAPTERS, Adapter, raw_httpx, raw_transport


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def server_stats(base: str, reset: bool = False) -> dict[str, Any]:
    if reset:
        urllib.request.urlopen(urllib.request.Request(f"{base}/bench/reset", data=b"", method="POST")).read()
        return {}
    return json.loads(urllib.request.urlopen(f"{base}/bench/stats").read())  # type: ignore[no-any-return]


def chat(a: Adapter, p: dict[str, Any]) -> dict[str, Any]:
    assert a.chat is not None
    tokens, n = p["tokens"], p["requests"]
    for _ in range(p["warmup"]):
        assert a.chat(tokens)
    rounds = []
    for _ in range(p["rounds"]):
        c0 = cpu()
        for _ in range(n):
            a.chat(tokens)
        rounds.append((cpu() - c0) / n)
    return {"cpu_per_op": statistics.median(rounds), "rounds": rounds}


def stream(a: Adapter, p: dict[str, Any], which: str = "stream") -> dict[str, Any]:
    fn = getattr(a, which)
    assert fn is not None
    tokens = p["tokens"]
    for _ in range(p["warmup"]):
        fn(tokens)
    rounds, firsts = [], []
    for _ in range(p["rounds"]):
        c0 = cpu()
        _, seen = fn(tokens)
        rounds.append((cpu() - c0) / tokens)
        assert seen >= tokens, f"only {seen} chunks for {tokens} tokens"
    # Time to the first chunk on short streams, so the rest of the body is not competing for the CPU.
    for _ in range(p["first_samples"]):
        firsts.append(fn(8)[0])
    return {"cpu_per_token": statistics.median(rounds), "rounds": rounds, "first_chunk": statistics.median(firsts)}


def embed(a: Adapter, p: dict[str, Any], base: str, route: str = "/embed") -> dict[str, Any]:
    fn = a.embed if route == "/embed" else a.embed_v1
    assert fn is not None
    texts = [f"passage {i}: the quick brown fox jumps over the lazy dog" for i in range(p["texts"])]
    fn(texts[:64])  # warm-up: imports, connections, /info
    walls, cpus = [], []
    stats: dict[str, Any] = {}
    for _ in range(p["rounds"]):
        server_stats(base, reset=True)
        c0, t0 = cpu(), time.perf_counter()
        vectors = fn(texts)
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
        assert len(vectors) == len(texts)
        assert isinstance(vectors[0], list) and len(vectors[0]) == p.get("dim", len(vectors[0]))
        stats = server_stats(base)
    requests = sum(v for k, v in stats["counts"].items() if k.endswith(route))
    return {
        "wall": statistics.median(walls),
        "walls": walls,
        "cpu": statistics.median(cpus),
        "requests": requests,
        "max_in_flight": stats["max_in_flight"],
    }


def rerank(a: Adapter, p: dict[str, Any]) -> dict[str, Any]:
    assert a.rerank is not None
    documents = [
        f"document {i}: foxes are small omnivorous mammals of the family Canidae" for i in range(p["documents"])
    ]
    for _ in range(p["warmup"]):
        assert len(a.rerank("what is a fox?", documents)) == len(documents)
    rounds = []
    for _ in range(p["rounds"]):
        c0 = cpu()
        for _ in range(p["requests"]):
            a.rerank("what is a fox?", documents)
        rounds.append((cpu() - c0) / p["requests"])
    return {"cpu_per_op": statistics.median(rounds), "rounds": rounds}


def _corpus(count: int) -> list[str]:
    return [f"passage {i}: the quick brown fox jumps over the lazy dog" for i in range(count)]


def _embed_requests(base: str) -> int:
    return sum(v for k, v in server_stats(base)["counts"].items() if k.endswith("/embed"))


def cached(base: str, p: dict[str, Any]) -> dict[str, Any]:
    """F: the corpus without a cache, then twice with `cache=`: cold (all sent and stored), then from the cache."""
    from easyllm.clients import huggingface

    texts = _corpus(p["texts"])
    huggingface.Embedding.create(input=texts[:64], api_base=base, engine="tei")  # warm-up: imports, /info
    out: dict[str, Any] = {}
    for name, cache in (("none", False), ("cold", p["folder"]), ("warm", p["folder"])):
        server_stats(base, reset=True)
        t0 = time.perf_counter()
        answer = huggingface.Embedding.create(input=texts, api_base=base, engine="tei", cache=cache)
        out[name] = time.perf_counter() - t0
        out[f"{name}_requests"] = _embed_requests(base)
        assert len(answer.data) == len(texts)
    return out


def pooled(bases: list[str], p: dict[str, Any]) -> dict[str, Any]:
    """G: the corpus embedded through one or several endpoints (`api_base` as a list)."""
    from easyllm.clients import huggingface

    texts = _corpus(p["texts"])
    huggingface.Embedding.create(input=texts[:64], api_base=bases, engine="tei")  # warm-up
    walls, shares = [], []
    for _ in range(p["rounds"]):
        for base in bases:
            server_stats(base, reset=True)
        t0 = time.perf_counter()
        answer = huggingface.Embedding.create(input=texts, api_base=bases, engine="tei")
        walls.append(time.perf_counter() - t0)
        assert len(answer.data) == len(texts)
        shares = [_embed_requests(base) for base in bases]
    return {"wall": statistics.median(walls), "walls": walls, "requests": shares}


def memory(a: Adapter, p: dict[str, Any]) -> dict[str, Any]:
    assert a.stream is not None
    a.stream(100)
    before = maxrss_mb()
    _, seen = a.stream(p["tokens"])
    return {"rss_before": before, "rss_after": maxrss_mb(), "chunks": seen}


#: scenario -> (the adapter callable it needs, how to run it)
SCENARIOS: dict[str, tuple[str, Callable[[Adapter, dict[str, Any], str], dict[str, Any]]]] = {
    "chat": ("chat", lambda a, p, base: chat(a, p)),
    "stream": ("stream", lambda a, p, base: stream(a, p)),
    "stream_v1": ("stream_v1", lambda a, p, base: stream(a, p, "stream_v1")),
    "responses": ("responses", lambda a, p, base: stream(a, p, "responses")),
    "embed": ("embed", lambda a, p, base: embed(a, p, base)),
    "embed_v1": ("embed_v1", lambda a, p, base: embed(a, p, base, "/v1/embeddings")),
    "rerank": ("rerank", lambda a, p, base: rerank(a, p)),
    "memory": ("stream", lambda a, p, base: memory(a, p)),
}


def main() -> None:
    name, scenario, base, raw = sys.argv[1:5]
    params = json.loads(raw)
    if scenario in ("cache", "pool"):  # easyllm only: `base` is one URL, or several joined by commas
        result = cached(base, params) if scenario == "cache" else pooled(base.split(","), params)
        print(json.dumps(result))
        return
    adapter: Adapter | None
    if name in ("httpx", "httpx+orjson"):
        decoder = "orjson" if name == "httpx+orjson" else "json"
        adapter = raw_httpx(base, params.get("concurrency", 1), decoder)
    elif name == "httpx-seq":
        adapter = raw_httpx(base, 1)
    elif name == "httpx-transport":
        adapter = raw_transport(base, params.get("concurrency", 1))
    else:
        adapter = ADAPTERS[name](base)
    needs, run = SCENARIOS[scenario]
    if adapter is None or getattr(adapter, needs) is None:
        print(json.dumps({"skipped": True}))
        return
    print(json.dumps(run(adapter, params, base)))


if __name__ == "__main__":
    main()

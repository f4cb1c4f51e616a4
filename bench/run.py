"""Run every benchmark in one go and print ratios to raw httpx measured in the same run.

    python -m bench.run            # full run (a few minutes); writes bench/results/latest.md
    python -m bench.run --quick    # smoke run, well under a minute

Each client runs in its own process (`bench.worker`) against one local server (`bench.server`) started here on
127.0.0.1 and stopped by its PID at the end. Repeats are interleaved (the client order rotates), and each ratio is
the median of the ratios of the same repeat, so load from other programs hits both sides alike; the spread
(min-max of those ratios) is printed as the noise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PEERS = ["httpx", "easyllm", "easyllm.HuggingFace", "huggingface_hub", "openai"]
EMBED_LATENCY_MS = 20.0
BATCH_LIMIT = 32


@dataclass
class Config:
    repeats: int
    chat: dict[str, Any]
    stream: dict[str, Any]
    embed: dict[str, Any]
    import_runs: int
    memory: tuple[int, int]
    embed_clients: list[str] = field(
        default_factory=lambda: ["httpx-seq", "httpx", "easyllm", "easyllm.HuggingFace", "huggingface_hub"]
    )


FULL = Config(
    repeats=5,
    chat={"tokens": 32, "requests": 300, "rounds": 3, "warmup": 30},
    stream={"tokens": 1000, "rounds": 5, "warmup": 2, "first_samples": 30},
    embed={"texts": 10_000, "rounds": 2},
    import_runs=9,
    memory=(10_000, 100_000),
)
QUICK = Config(
    repeats=1,
    chat={"tokens": 32, "requests": 50, "rounds": 2, "warmup": 10},
    stream={"tokens": 1000, "rounds": 2, "warmup": 1, "first_samples": 5},
    embed={"texts": 2_000, "rounds": 1},
    import_runs=3,
    memory=(2_000, 20_000),
    embed_clients=["httpx-seq", "httpx", "easyllm"],
)


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    # huggingface_hub refuses every request (even to 127.0.0.1) when offline mode is on; nothing here goes out.
    env.pop("HF_HUB_OFFLINE", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def start_server(*more: str) -> tuple[subprocess.Popen[str], str]:
    args = ["--embed-latency-ms", str(EMBED_LATENCY_MS), "--batch-limit", str(BATCH_LIMIT), *more]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.server", *args], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=worker_env()
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"bench server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_worker(client: str, scenario: str, base: str, params: dict[str, Any]) -> dict[str, Any] | None:
    cmd = [sys.executable, "-m", "bench.worker", client, scenario, base, json.dumps(params)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=worker_env(), timeout=900)
    if done.returncode != 0:
        print(f"  ! {client} {scenario} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return None if result.get("skipped") else result


def rotated(items: list[str], k: int) -> list[str]:
    k %= len(items)
    return items[k:] + items[:k]


def paired(cfg: Config, scenario: str, base: str, params: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """Interleaved repeats: {client: {key: [value per repeat]}}; a repeat is skipped for all if httpx failed."""
    out: dict[str, dict[str, list[float]]] = {c: {k: [] for k in keys} for c in PEERS}
    for rep in range(cfg.repeats):
        results = {c: run_worker(c, scenario, base, params) for c in rotated(PEERS, rep)}
        if results["httpx"] is None:
            continue
        for client, res in results.items():
            for key in keys:
                out[client][key].append(res[key] if res else math.nan)
        print(f"  {scenario} repeat {rep + 1}/{cfg.repeats} done", file=sys.stderr)
    return out


def ratio_stats(values: list[float], floor: list[float]) -> tuple[float, float, float] | None:
    ratios = [v / f for v, f in zip(values, floor, strict=True) if not math.isnan(v)]
    if not ratios:
        return None
    return statistics.median(ratios), min(ratios), max(ratios)


def fmt_ratio(stats: tuple[float, float, float] | None) -> str:
    if stats is None:
        return "n/a"
    med, lo, hi = stats
    return f"{med:.2f}× ({lo:.2f}–{hi:.2f})"


def med(values: list[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def import_time(module: str, runs: int) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=worker_env())
        if done.returncode != 0:
            return math.nan
        times.append(float(done.stdout.strip()))
    return statistics.median(times) * 1000


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> str:
    dists = ", ".join(f"{d} {version(d)}" for d in ("easyllm", "httpx", "huggingface_hub", "openai", "pydantic"))
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; {dists}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer, smaller measurements")
    parser.add_argument("--repeats", type=int, help="interleaved repeats per scenario (default 5, quick 1)")
    parser.add_argument("--only", help="comma-separated scenarios to run: A,B,C,D,E,F,G")
    parser.add_argument("--out", type=Path, help="markdown results file (default bench/results/latest.md)")
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    if args.repeats:
        cfg.repeats = args.repeats
    only = set((args.only or "A,B,C,D,E,F,G").upper().split(","))
    out_path = args.out or (RESULTS / ("quick.md" if args.quick else "latest.md"))

    started = time.perf_counter()
    lines: list[str] = []
    proc, base = start_server()
    try:
        if "A" in only:
            lines += section_a(cfg, base)
        if "B" in only:
            lines += section_b(cfg, base)
        if "C" in only:
            lines += section_c(cfg, base)
        if "E" in only:
            lines += section_e(cfg, base)
        if "F" in only:
            lines += section_f(cfg, base)
    finally:
        stop_server(proc)
    if "D" in only:
        lines += section_d(cfg)
    if "G" in only:
        lines += section_g(cfg)

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick" if args.quick else "full"
    header = [
        "# easyllm benchmark results",
        "",
        f"- date: {stamp} ({mode} run, {cfg.repeats} interleaved repeats, {time.perf_counter() - started:.0f} s)",
        f"- machine: {machine()}",
        "- command: `make bench` (`python -m bench.run`); ratios are to raw pooled httpx measured in the same run,",
        "  median of the per-repeat ratios, (min–max) across repeats as the noise.",
        "",
    ]
    text = "\n".join(header + lines) + "\n"
    print(text)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text)
    print(f"written to {out_path}", file=sys.stderr)


def section_a(cfg: Config, base: str) -> list[str]:
    p = cfg.chat
    data = paired(cfg, "chat", base, p, ["cpu_per_op"])
    floor = data["httpx"]["cpu_per_op"]
    rows = [
        f"## A. Client CPU per non-streaming request ({p['tokens']}-token answer with details; target ≤ 1.3×)",
        "",
        "| client | CPU per request | ratio to httpx |",
        "|---|---:|---:|",
    ]
    for c in PEERS:
        vals = data[c]["cpu_per_op"]
        rows.append(f"| {c} | {med(vals) * 1e6:.0f} µs | {fmt_ratio(ratio_stats(vals, floor))} |")
    return [*rows, ""]


def section_b(cfg: Config, base: str) -> list[str]:
    p = cfg.stream
    data = paired(cfg, "stream", base, p, ["cpu_per_token", "first_chunk"])
    floor, floor_first = data["httpx"]["cpu_per_token"], data["httpx"]["first_chunk"]
    rows = [
        f"## B. Streaming: client CPU per token ({p['tokens']}-token stream; target ≤ 2.0×) and time to first chunk "
        "(target ≤ 1.5×)",
        "",
        "| client | CPU per token | ratio | first chunk | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for c in PEERS:
        per, first = data[c]["cpu_per_token"], data[c]["first_chunk"]
        rows.append(
            f"| {c} | {med(per) * 1e6:.1f} µs | {fmt_ratio(ratio_stats(per, floor))} | {med(first) * 1e3:.2f} ms | "
            f"{fmt_ratio(ratio_stats(first, floor_first))} |"
        )
    return [*rows, ""]


def section_c(cfg: Config, base: str) -> list[str]:
    from easyllm.calls import DEFAULT_CONCURRENCY

    p = dict(cfg.embed, concurrency=DEFAULT_CONCURRENCY)
    requests = math.ceil(p["texts"] / BATCH_LIMIT)
    latency = EMBED_LATENCY_MS / 1000
    ideal = requests * latency / DEFAULT_CONCURRENCY
    sequential = requests * latency
    rows = [
        f"## C. Embeddings: {p['texts']:,} texts, TEI `/embed` with {EMBED_LATENCY_MS:g} ms per request and batch "
        f"limit {BATCH_LIMIT}",
        "",
        f"{requests} requests needed; ideal at easyllm's default concurrency {DEFAULT_CONCURRENCY} = "
        f"{requests} × {latency * 1000:g} ms ÷ {DEFAULT_CONCURRENCY} = {ideal:.2f} s; sequential batches of "
        f"{BATCH_LIMIT} ≥ {sequential:.2f} s. Targets: ≤ 1.3× ideal, ≥ 5× faster than sequential. Two vector sizes: "
        "384 floats (a MiniLM-sized answer, ~120 kB of JSON per batch, so decoding it is real client work) and "
        "16 floats (the server's latency dominates: this isolates batching and concurrency).",
        "",
        "| vector | client | wall | requests | most in flight | × ideal | speed-up vs sequential httpx | client CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    names = {"httpx-seq": "httpx, sequential batches", "httpx": f"httpx, {DEFAULT_CONCURRENCY} threads"}
    for dim, prefix in ((384, ""), (16, "/d16")):
        results = {}
        for client in cfg.embed_clients:
            results[client] = run_worker(client, "embed", base + prefix, p)
            print(f"  embed {dim} {client} done", file=sys.stderr)
        seq = results.get("httpx-seq")
        seq_wall = seq["wall"] if seq else sequential
        for client, r in results.items():
            name = names.get(client, client)
            if r is None:
                rows.append(f"| {dim} | {name} | n/a | | | | | |")
                continue
            rows.append(
                f"| {dim} | {name} | {r['wall']:.2f} s | {r['requests']} | {r['max_in_flight']} | "
                f"{r['wall'] / ideal:.2f}× | {seq_wall / r['wall']:.1f}× | {r['cpu']:.2f} s |"
            )
    return [*rows, ""]


def section_d(cfg: Config) -> list[str]:
    modules = ["easyllm.clients.huggingface", "easyllm", "httpx", "huggingface_hub", "openai"]
    rows = [
        "## D. Import time (fresh interpreter, the `import` statement alone, median of "
        f"{cfg.import_runs}; target ≤ 150 ms for `easyllm.clients.huggingface`)",
        "",
        "| module | import time |",
        "|---|---:|",
    ]
    for module in modules:
        rows.append(f"| `{module}` | {import_time(module, cfg.import_runs):.0f} ms |")
        print(f"  import {module} done", file=sys.stderr)
    return [*rows, ""]


def section_e(cfg: Config, base: str) -> list[str]:
    short, long = cfg.memory
    rows = [
        f"## E. Peak memory (ru_maxrss) consuming a {long:,}-token stream vs a {short:,}-token one (target: flat)",
        "",
        f"| client | peak, {short:,} tokens | peak, {long:,} tokens | growth |",
        "|---|---:|---:|---:|",
    ]
    for client in PEERS:
        a = run_worker(client, "memory", base, {"tokens": short})
        b = run_worker(client, "memory", base, {"tokens": long})
        if a is None or b is None:
            rows.append(f"| {client} | n/a | n/a | |")
            continue
        grow = b["rss_after"] - a["rss_after"]
        rows.append(f"| {client} | {a['rss_after']:.1f} MB | {b['rss_after']:.1f} MB | {grow:+.1f} MB |")
        print(f"  memory {client} done", file=sys.stderr)
    return [*rows, ""]


def section_f(cfg: Config, base: str) -> list[str]:
    import tempfile

    texts = cfg.embed["texts"]
    rows = [
        f"## F. Cache: {texts:,} texts embedded twice with `cache=` (TEI `/embed`, {EMBED_LATENCY_MS:g} ms per "
        f"request, batch limit {BATCH_LIMIT}), a fresh cache folder each repeat",
        "",
        "| repeat | no cache | first run (all sent, then stored) | requests | second run (from the cache) | requests |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for rep in range(cfg.repeats):
        with tempfile.TemporaryDirectory(prefix="easyllm-bench-cache-") as folder:
            r = run_worker("easyllm", "cache", base, {"texts": texts, "folder": folder})
        if r is None:
            rows.append(f"| {rep + 1} | n/a | n/a | | n/a | |")
            continue
        rows.append(
            f"| {rep + 1} | {r['none']:.2f} s | {r['cold']:.2f} s | {r['cold_requests']} | {r['warm']:.2f} s | "
            f"{r['warm_requests']} |"
        )
        print(f"  cache repeat {rep + 1}/{cfg.repeats} done", file=sys.stderr)
    return [*rows, ""]


POOL_SLOTS = 4
#: G's servers answer in 50 ms, so they (not the client's CPU on a shared machine) are the bottleneck.
POOL_LATENCY_MS = 50.0


def section_g(cfg: Config) -> list[str]:
    from easyllm.calls import DEFAULT_CONCURRENCY

    texts = cfg.embed["texts"]
    params = {"texts": texts, "rounds": max(1, cfg.embed["rounds"])}
    servers = [
        start_server("--embed-slots", str(POOL_SLOTS), "--embed-latency-ms", str(POOL_LATENCY_MS)) for _ in range(2)
    ]
    try:
        bases = [base + "/d16" for _, base in servers]  # 16-float vectors: the servers' capacity is what counts
        results = []
        for rep in range(cfg.repeats):
            one = run_worker("easyllm", "pool", bases[0], params)
            two = run_worker("easyllm", "pool", ",".join(bases), params)
            results.append((one, two))
            print(f"  pool repeat {rep + 1}/{cfg.repeats} done", file=sys.stderr)
    finally:
        for proc, _ in servers:
            stop_server(proc)
    requests = math.ceil(texts / BATCH_LIMIT)
    rows = [
        f"## G. Several endpoints: {texts:,} texts through 1 endpoint vs a list of 2 (each endpoint embeds at most "
        f"{POOL_SLOTS} batches at once, {POOL_LATENCY_MS:g} ms each, 16-float vectors; easyllm's default "
        f"{DEFAULT_CONCURRENCY} batches in flight)",
        "",
        f"{requests} requests; ideal with 1 endpoint = {requests} × {POOL_LATENCY_MS:g} ms ÷ {POOL_SLOTS} = "
        f"{requests * POOL_LATENCY_MS / 1000 / POOL_SLOTS:.2f} s, with 2 = half of that.",
        "",
        "| repeat | 1 endpoint | 2 endpoints | requests per endpoint | speed-up |",
        "|---:|---:|---:|---|---:|",
    ]
    for rep, (one, two) in enumerate(results):
        if one is None or two is None:
            rows.append(f"| {rep + 1} | n/a | n/a | | |")
            continue
        shares = " / ".join(str(n) for n in two["requests"])
        rows.append(
            f"| {rep + 1} | {one['wall']:.2f} s | {two['wall']:.2f} s | {shares} | {one['wall'] / two['wall']:.2f}× |"
        )
    return [*rows, ""]


if __name__ == "__main__":
    main()

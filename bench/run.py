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
import atexit
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PEERS = ["httpx", "easyllm", "easyllm.HuggingFace", "huggingface_hub", "openai"]
EASYLLM = ["easyllm", "easyllm.HuggingFace"]
EMBED_LATENCY_MS = 20.0
BATCH_LIMIT = 32
#: `--baseline DIR` measures easyllm from another checkout as well, as these clients (same run, interleaved).
BASE_SUFFIX = "@base"


@dataclass
class Config:
    repeats: int
    chat: dict[str, Any]
    stream: dict[str, Any]
    embed: dict[str, Any]
    rerank: dict[str, Any]
    import_runs: int
    memory: tuple[int, int]
    embed_repeats: int
    baseline: Path | None = None


FULL = Config(
    repeats=5,
    chat={"tokens": 32, "requests": 300, "rounds": 3, "warmup": 30},
    stream={"tokens": 1000, "rounds": 5, "warmup": 2, "first_samples": 30},
    embed={"texts": 10_000, "rounds": 1},
    rerank={"documents": 1000, "requests": 20, "rounds": 3, "warmup": 3},
    import_runs=9,
    memory=(10_000, 100_000),
    embed_repeats=5,  # C moves most between runs: as many repeats as the other rows
)
QUICK = Config(
    repeats=1,
    chat={"tokens": 32, "requests": 50, "rounds": 2, "warmup": 10},
    stream={"tokens": 1000, "rounds": 2, "warmup": 1, "first_samples": 5},
    embed={"texts": 2_000, "rounds": 1},
    rerank={"documents": 1000, "requests": 5, "rounds": 2, "warmup": 1},
    import_runs=3,
    memory=(2_000, 20_000),
    embed_repeats=1,
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


_shim: Path | None = None


def baseline_env(tree: Path) -> dict[str, str]:
    """A worker environment whose `easyllm` comes from `tree` (the bench itself still from this checkout)."""
    global _shim
    if _shim is None:
        _shim = Path(tempfile.mkdtemp(prefix="easyllm-bench-base-"))
        (_shim / "easyllm").symlink_to(tree.resolve() / "easyllm", target_is_directory=True)
        atexit.register(shutil.rmtree, _shim, ignore_errors=True)
    env = worker_env()
    env["PYTHONPATH"] = str(_shim) + os.pathsep + env["PYTHONPATH"]
    return env


def with_baseline(cfg: Config, clients: list[str]) -> list[str]:
    """`clients`, plus each easyllm client measured from the baseline checkout when one is given."""
    if cfg.baseline is None:
        return clients
    return clients + [c + BASE_SUFFIX for c in clients if c in EASYLLM]


def run_worker(
    client: str, scenario: str, base: str, params: dict[str, Any], cfg: Config | None = None
) -> dict[str, Any] | None:
    env, cwd = worker_env(), ROOT
    if client.endswith(BASE_SUFFIX):
        assert cfg is not None and cfg.baseline is not None
        client, env = client[: -len(BASE_SUFFIX)], baseline_env(cfg.baseline)
        cwd = Path(env["PYTHONPATH"].split(os.pathsep)[0])  # `-m` puts the working directory first on the path
    cmd = [sys.executable, "-m", "bench.worker", client, scenario, base, json.dumps(params)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=900)
    if done.returncode != 0:
        print(f"  ! {client} {scenario} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return None if result.get("skipped") else result


def rotated(items: list[str], k: int) -> list[str]:
    k %= len(items)
    return items[k:] + items[:k]


def paired(
    cfg: Config,
    scenario: str,
    base: str,
    params: dict[str, Any],
    keys: list[str],
    clients: list[str] | None = None,
    floor: str = "httpx",
    repeats: int | None = None,
) -> dict[str, Any]:
    """Interleaved repeats: {client: {key: [value per repeat]}}; a repeat is skipped for all if the floor failed.

    When no client but the floor has the scenario (a path not on this branch yet), it stops after one repeat.
    """
    clients = clients or with_baseline(cfg, PEERS)
    out: dict[str, dict[str, list[float]]] = {c: {k: [] for k in keys} for c in clients}
    total = repeats or cfg.repeats
    for rep in range(total):
        results = {c: run_worker(c, scenario, base, params, cfg) for c in rotated(clients, rep)}
        if results[floor] is None:
            continue
        for client, res in results.items():
            for key in keys:
                out[client][key].append(res[key] if res else math.nan)
        print(f"  {scenario} repeat {rep + 1}/{total} done", file=sys.stderr)
        if all(res is None for c, res in results.items() if c != floor):
            break
    return out


def measured(values: list[float]) -> bool:
    return any(not math.isnan(v) for v in values)


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


SECTIONS = "A,B,V,R,K,C,E,F,D,G"


def load() -> str:
    """How busy the machine is: the load averages and the number of cores."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:  # pragma: no cover - not on every platform
        return "unknown"
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer, smaller measurements")
    parser.add_argument("--repeats", type=int, help="interleaved repeats per scenario (default 5, quick 1)")
    parser.add_argument("--only", help=f"comma-separated sections to run (default all: {SECTIONS})")
    parser.add_argument("--out", type=Path, help="markdown results file (default bench/results/latest.md)")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout whose easyllm is measured too (rows marked @base)"
    )
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    if args.repeats:
        cfg.repeats = args.repeats
        cfg.embed_repeats = args.repeats
    cfg.baseline = args.baseline
    only = set((args.only or SECTIONS).upper().split(","))
    out_path = args.out or (RESULTS / ("quick.md" if args.quick else "latest.md"))

    started = time.perf_counter()
    load_before = load()
    lines: list[str] = []
    proc, base = start_server()
    try:
        for key, section in (
            ("A", section_a),
            ("B", section_b),
            ("V", section_v),
            ("R", section_r),
            ("K", section_k),
            ("C", section_c),
            ("E", section_e),
            ("F", section_f),
        ):
            if key in only:
                lines += section(cfg, base)
    finally:
        stop_server(proc)
    if "D" in only:
        lines += section_d(cfg)
    if "G" in only:
        lines += section_g(cfg)

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick" if args.quick else "full" if not args.only else f"sections {args.only}"
    header = [
        "# easyllm benchmark results",
        "",
        f"- date: {stamp} ({mode} run, {cfg.repeats} interleaved repeats, {time.perf_counter() - started:.0f} s)",
        f"- machine: {machine()}",
        f"- busy: {load_before} at the start, {load()} at the end",
        "- command: `make bench` (`python -m bench.run`); ratios are to raw pooled httpx measured in the same run,",
        "  median of the per-repeat ratios, (min–max) across repeats as the noise.",
    ]
    if cfg.baseline is not None:
        header.append(f"- `@base` rows: easyllm from `{cfg.baseline}`, measured in the same run, interleaved.")
    text = "\n".join([*header, "", *lines]) + "\n"
    print(text)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text)
    print(f"written to {out_path}", file=sys.stderr)


def section_a(cfg: Config, base: str) -> list[str]:
    p = cfg.chat
    data = paired(cfg, "chat", base, p, ["cpu_per_op"])
    floor = data["httpx"]["cpu_per_op"]
    rows = [
        f"## A. Client CPU per non-streaming request ({p['tokens']}-token answer with details; target ≤ 1.1×)",
        "",
        "| client | CPU per request | ratio to httpx |",
        "|---|---:|---:|",
    ]
    for c, vals in ((c, data[c]["cpu_per_op"]) for c in data):
        rows.append(f"| {c} | {med(vals) * 1e6:.0f} µs | {fmt_ratio(ratio_stats(vals, floor))} |")
    return [*rows, ""]


def stream_rows(data: dict[str, Any]) -> list[str]:
    floor, floor_first = data["httpx"]["cpu_per_token"], data["httpx"]["first_chunk"]
    rows = ["| client | CPU per token | ratio | first chunk | ratio |", "|---|---:|---:|---:|---:|"]
    for c in data:
        per, first = data[c]["cpu_per_token"], data[c]["first_chunk"]
        if not measured(per):
            rows.append(f"| {c} | n/a | | | |")
            continue
        rows.append(
            f"| {c} | {med(per) * 1e6:.1f} µs | {fmt_ratio(ratio_stats(per, floor))} | {med(first) * 1e3:.2f} ms | "
            f"{fmt_ratio(ratio_stats(first, floor_first))} |"
        )
    return rows


def section_b(cfg: Config, base: str) -> list[str]:
    p = cfg.stream
    data = paired(cfg, "stream", base, p, ["cpu_per_token", "first_chunk"])
    title = (
        f"## B. Streaming, TGI's native route: client CPU per token ({p['tokens']}-token stream; target ≤ 1.2×) "
        "and time to first chunk (target ≤ 1.2×)"
    )
    return [title, "", *stream_rows(data), ""]


def section_v(cfg: Config, base: str) -> list[str]:
    clients = with_baseline(cfg, ["httpx", *EASYLLM, "openai"])
    data = paired(cfg, "stream_v1", base, cfg.stream, ["cpu_per_token", "first_chunk"], clients)
    title = (
        "## V. Streaming, OpenAI-compatible `/v1/chat/completions` (the router and vLLM dialects: `easyllm` with "
        '`engine="router"`, `easyllm.HuggingFace` with `engine="vllm"`): CPU per token (target ≤ 1.2×)'
    )
    return [title, "", *stream_rows(data), ""]


def section_r(cfg: Config, base: str) -> list[str]:
    clients = with_baseline(cfg, ["httpx", "easyllm.HuggingFace"])
    data = paired(cfg, "responses", base, cfg.stream, ["cpu_per_token", "first_chunk"], clients)
    title = (
        "## R. Responses API translated over chat completions (`client.responses.create(stream=True)` on a server "
        "without `/v1/responses`), per text delta, against the same chat stream read raw (target ≤ 1.4×)"
    )
    if not any(measured(data[c]["cpu_per_token"]) for c in data if c != "httpx"):
        return [title, "", "n/a: `client.responses` is not on this branch yet; the row runs once it is.", ""]
    return [title, "", *stream_rows(data), ""]


def section_k(cfg: Config, base: str) -> list[str]:
    from easyllm.calls import DEFAULT_CONCURRENCY

    p = dict(cfg.rerank, concurrency=DEFAULT_CONCURRENCY)
    clients = with_baseline(cfg, ["httpx", *EASYLLM])
    data = paired(cfg, "rerank", base, p, ["cpu_per_op"], clients)
    title = (
        f"## K. Rerank: client CPU per call, {p['documents']:,} documents on TEI's `/rerank`, batch limit "
        f"{BATCH_LIMIT} (the floor batches too, {DEFAULT_CONCURRENCY} threads; target ≤ 1.2×)"
    )
    if not any(measured(data[c]["cpu_per_op"]) for c in data if c != "httpx"):
        return [title, "", "n/a: `client.rerank` is not on this branch yet; the row runs once it is.", ""]
    floor = data["httpx"]["cpu_per_op"]
    rows = [title, "", "| client | CPU per call | ratio to httpx |", "|---|---:|---:|"]
    for c in data:
        vals = data[c]["cpu_per_op"]
        rows.append(f"| {c} | {med(vals) * 1e6:.0f} µs | {fmt_ratio(ratio_stats(vals, floor))} |")
    return [*rows, ""]


def section_c(cfg: Config, base: str) -> list[str]:
    from easyllm.calls import DEFAULT_CONCURRENCY

    p = dict(cfg.embed, concurrency=DEFAULT_CONCURRENCY)
    requests = math.ceil(p["texts"] / BATCH_LIMIT)
    latency = EMBED_LATENCY_MS / 1000
    ideal = requests * latency / DEFAULT_CONCURRENCY
    sequential = requests * latency
    rows = [
        f"## C. Embeddings: {p['texts']:,} texts, {EMBED_LATENCY_MS:g} ms per request, batch limit {BATCH_LIMIT}",
        "",
        f"{requests} requests needed; ideal at easyllm's default concurrency {DEFAULT_CONCURRENCY} = "
        f"{requests} × {latency * 1000:g} ms ÷ {DEFAULT_CONCURRENCY} = {ideal:.2f} s; sequential batches ≥ "
        f"{sequential:.2f} s. Targets: client CPU ≤ 0.6× raw httpx + `json` decoding the same answers, wall ≤ 1.2× "
        "ideal on a quiet machine. Two floors: raw httpx with 8 threads decoding with `json`, and with `orjson`; "
        "and, for reference, httpx's transport driven directly (no `Client` layer) with orjson, the least CPU httpx "
        "can spend per batch. "
        "384 floats is a MiniLM-sized answer (~120 kB of JSON per batch: decoding is real client work); 16 floats "
        "isolates batching and concurrency. On `/v1/embeddings` the raw floors ask for floats (what a user writes); "
        "easyllm asks for base64 and returns floats; the openai SDK (sequential batches, as a user writes it) asks "
        f"for base64 too. Median of {cfg.embed_repeats} interleaved repeats, (min–max) as the noise.",
        "",
        "| route | vector | client | wall | × ideal | most in flight | client CPU | CPU ÷ httpx+json | "
        "CPU ÷ httpx+orjson |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    names = {
        "httpx-seq": "httpx, sequential batches",
        "httpx": f"httpx + json, {DEFAULT_CONCURRENCY} threads",
        "httpx+orjson": f"httpx + orjson, {DEFAULT_CONCURRENCY} threads",
        "httpx-transport": f"httpx's transport + orjson (no `Client`), {DEFAULT_CONCURRENCY} threads",
    }
    tei = ["httpx-seq", "httpx", "httpx+orjson", "httpx-transport", *EASYLLM, "huggingface_hub"]
    v1 = ["httpx", "httpx+orjson", "httpx-transport", *EASYLLM, "openai"]
    cases = [
        ("`/embed`", 384, "", "embed", tei),
        ("`/v1/embeddings`", 384, "", "embed_v1", v1),
        ("`/embed`", 16, "/d16", "embed", ["httpx", "httpx-transport", *EASYLLM]),
    ]
    keys = ["wall", "cpu", "max_in_flight"]
    for route, dim, prefix, scenario, clients in cases:
        clients = with_baseline(cfg, clients)
        params = dict(p, dim=dim)
        data = paired(cfg, scenario, base + prefix, params, keys, clients, repeats=cfg.embed_repeats)
        cpu_json, cpu_orjson = data["httpx"]["cpu"], data.get("httpx+orjson", {}).get("cpu")
        for client in clients:
            d = data[client]
            name = names.get(client, client)
            if not measured(d["wall"]):
                rows.append(f"| {route} | {dim} | {name} | n/a | | | | | |")
                continue
            walls = [w / ideal for w in d["wall"]]
            spread = f"{med(walls):.2f}× ({min(walls):.2f}–{max(walls):.2f})"
            vs_orjson = fmt_ratio(ratio_stats(d["cpu"], cpu_orjson)) if cpu_orjson else ""
            rows.append(
                f"| {route} | {dim} | {name} | {med(d['wall']):.2f} s | {spread} | {med(d['max_in_flight']):.0f} | "
                f"{med(d['cpu']):.2f} s | {fmt_ratio(ratio_stats(d['cpu'], cpu_json))} | {vs_orjson} |"
            )
    return [*rows, ""]


def section_d(cfg: Config) -> list[str]:
    modules = ["easyllm.clients.huggingface", "easyllm", "httpx", "huggingface_hub", "openai"]
    rows = [
        "## D. Import time (fresh interpreter, the `import` statement alone, median of "
        f"{cfg.import_runs}, interleaved; target: `easyllm` and `easyllm.clients.huggingface` under half of "
        "`import httpx`)",
        "",
        "| module | import time | ÷ `import httpx` |",
        "|---|---:|---:|",
    ]
    times: dict[str, list[float]] = {m: [] for m in modules}
    for rep in range(cfg.import_runs):
        for module in rotated(modules, rep):
            times[module].append(import_time(module, 1))
    floor = times["httpx"]
    for module in modules:
        rows.append(f"| `{module}` | {med(times[module]):.0f} ms | {fmt_ratio(ratio_stats(times[module], floor))} |")
    print("  imports done", file=sys.stderr)
    return [*rows, ""]


def section_e(cfg: Config, base: str) -> list[str]:
    short, long = cfg.memory
    rows = [
        f"## E. Peak memory (ru_maxrss) consuming a {long:,}-token stream vs a {short:,}-token one (target: flat)",
        "",
        f"| client | peak, {short:,} tokens | peak, {long:,} tokens | growth |",
        "|---|---:|---:|---:|",
    ]
    for client in with_baseline(cfg, PEERS):
        a = run_worker(client, "memory", base, {"tokens": short}, cfg)
        b = run_worker(client, "memory", base, {"tokens": long}, cfg)
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

"""What holding output to a JSON schema costs per token on `easyllm serve` (SmolLM2, the llama.cpp engine).

`python -m bench.structured [--baseline DIR] [--rounds 5]` starts the demo server of this checkout (and, with
`--baseline`, of another checkout, its easyllm first on the path), streams 64-token answers to the same question
free and under a schema that cannot end early (`{"story": string of ≥ 1000 characters}`), interleaved, and prints
the median time between two chunks for each: the per-token cost of the mask, without prefill or HTTP set-up.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCHEMA = {"type": "object", "properties": {"story": {"type": "string", "minLength": 1000}}, "required": ["story"]}
ASK = [{"role": "user", "content": "Tell a story about a cat."}]


def measure(label: str, rounds: int) -> None:
    """Print the free and held per-token times of this interpreter's easyllm serve."""
    import httpx

    from easyllm.serve.testing import running_server

    held_format = {"type": "json_schema", "json_schema": {"name": "story", "schema": SCHEMA}}
    with running_server() as url, httpx.Client(timeout=300) as http:

        def gaps(response_format: dict[str, object] | None) -> list[float]:
            body: dict[str, object] = {"messages": ASK, "max_tokens": 64, "temperature": 0.7, "seed": 1,
                                       "stream": True}  # fmt: skip
            if response_format:
                body["response_format"] = response_format
            times = []
            with http.stream("POST", f"{url}/v1/chat/completions", json=body) as r:
                times = [time.perf_counter() for line in r.iter_lines() if line.startswith("data: {")]
            return [b - a for a, b in itertools.pairwise(times[1:])]  # from the second chunk on

        gaps(None), gaps(held_format)  # warm-up: the model, the vocabulary's grammar view, the schema
        free: list[float] = []
        held: list[float] = []
        for _ in range(rounds):
            free += gaps(None)
            held += gaps(held_format)
    f, h = statistics.median(free) * 1000, statistics.median(held) * 1000
    print(f"{label:8} free {f:6.2f} ms/token   held {h:6.2f} ms/token   held − free {h - f:5.2f} ms   "
          f"held ÷ free {h / f:.2f}   ({len(free)} / {len(held)} gaps)", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another checkout whose easyllm serve is measured too")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--label", default="easyllm", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    measure(args.label, args.rounds)
    if args.baseline is not None:
        env = dict(os.environ, PYTHONPATH=str(args.baseline.resolve()))
        command = [sys.executable, __file__, "--label", "@base", "--rounds", str(args.rounds)]
        subprocess.run(command, env=env, check=True, cwd=args.baseline)


if __name__ == "__main__":
    main()

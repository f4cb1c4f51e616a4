"""Instructions per operation under callgrind: the rows of `bench.inprocess` counted instead of timed.

`python -m bench.instructions [A,B,V,R,C,CV,K] [--jobs 2]` runs every row of `bench.inprocess` (the bench server's
canned answers through `httpx.MockTransport`) in a fresh interpreter under `valgrind --tool=callgrind`, twice: once
with only a warm-up operation and once with `OPS` more. The difference, divided by the operations and their units,
is the row's instructions per request (A), per token (B, V, R), per embedded text (C, CV) or per rerank call (K),
printed with its ratio to the row's floor.

What it is for: a count depends on the code, the inputs and the interpreter, not on what else the machine is
doing, so it tells a change of a few percent apart on a machine whose timings move by 20 % between runs. The same
command repeats within 1 %; the rows whose batches run in worker threads (C, CV, K) differed by up to 5 % between
the whole table and a run of their section alone, as the garbage collector meets the threads at other moments, so
count before and after the same way. What it cannot see is the
time an instruction takes: cache misses, system calls, waiting for the GIL. Work that touches much memory
(allocating and freeing millions of floats, the collector walking vectors) costs more time per instruction than
parsing does, so the ratios here are lower than those of CPU time in `bench.run`, which are what the targets are
about. Needs valgrind (`apt-get install valgrind`); a row takes 20 to 60 s, the whole table about 8 minutes
with two jobs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

#: Operations counted per row, by section: enough that the warm-up's share of the difference is nil.
OPS = {"A": 20, "B": 3, "V": 3, "R": 3, "C": 2, "CV": 2, "K": 3}
_COLLECTED = re.compile(rb"Collected : (\d+)")


def _count(name: str, ops: int) -> int:
    """Instructions of a fresh interpreter that builds the rows, warms `name` up and runs it `ops` more times."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    command += ["-m", "bench.instructions", "--child", name, str(ops)]
    env = {**os.environ, "PYTHONHASHSEED": "0", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, env=env, check=False, timeout=1800)
    found = _COLLECTED.search(done.stderr)
    if done.returncode or found is None:
        raise RuntimeError(f"{name}: callgrind failed ({done.returncode}): {done.stderr[-2000:].decode()}")
    return int(found.group(1))


def _per_unit(name: str, section: str) -> float:
    from bench import inprocess

    ops = OPS[section]
    units = {"C": len(inprocess.TEXTS), "CV": len(inprocess.TEXTS), "A": 1, "K": 1}.get(section, inprocess.TOKENS)
    return (_count(name, ops) - _count(name, 0)) / ops / units


def _child(name: str, ops: int) -> None:
    from bench import inprocess

    op = inprocess.rows()[name][1]
    op()
    for _ in range(ops):
        op()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="?", default="A,B,V,R,C,CV,K")
    parser.add_argument("--jobs", type=int, default=2, help="interpreters under valgrind at once")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "OPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    from bench import inprocess

    wanted = args.sections.split(",")
    chosen = {name: section for name, (section, _) in inprocess.rows().items() if section in wanted}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        counts = dict(zip(chosen, pool.map(lambda name: _per_unit(name, chosen[name]), chosen), strict=True))
    units = {"A": "per request", "C": "per text", "CV": "per text", "K": "per call"}
    for name, section in chosen.items():
        floor = counts[f"{section} httpx"]
        unit = units.get(section, "per token")
        print(f"{name:26s} {counts[name]:14,.0f} instructions {unit:12s} {counts[name] / floor:5.2f}×")


if __name__ == "__main__":
    main()

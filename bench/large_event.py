"""Framing one large stream event that arrives in many reads (`easyllm.protocol.sse.SSEDecoder`).

A stream event can be megabytes: TGI's last event repeats the whole generated text, a Responses stream can carry a
base64 image. The body comes in reads of a few KiB; the decoder must hand the event on for the cost of its length.
`python -m bench.large_event [--baseline DIR]` prints the best of three times for 1, 4 and 16 MB events fed in 64
KiB and 4 KiB reads, for this checkout and, with `--baseline`, for the easyllm of another checkout (run in a fresh
interpreter with that checkout first on the path).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

SIZES = (1_000_000, 4_000_000, 16_000_000)
READS = (65536, 4096)


def measure(label: str) -> None:
    """Print the times of this interpreter's easyllm."""
    from easyllm.protocol.sse import SSEDecoder

    for size in SIZES:
        body = b'data: {"token": {"text": "' + b"x" * size + b'"}}\n\n'
        for read in READS:
            best = float("inf")
            for _ in range(3):
                decoder = SSEDecoder()
                decoder.feed(b"data: {}\n\n")
                events: list[bytes] = []
                start = time.perf_counter()
                for i in range(0, len(body), read):
                    events += decoder.feed(body[i : i + read])
                best = min(best, time.perf_counter() - start)
                assert len(events) == 1 and len(events[0]) == len(body) - 8, "the event was not framed whole"
            print(f"{label:8} {size / 1e6:4.0f} MB in {read // 1024:3d} KiB reads: {best * 1000:9.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another checkout whose easyllm is measured too")
    parser.add_argument("--label", default="easyllm", help=argparse.SUPPRESS)
    args = parser.parse_args()
    measure(args.label)
    if args.baseline is not None:
        # Run as a script: its own folder is first on the path, then the baseline, whose easyllm is imported.
        env = dict(os.environ, PYTHONPATH=str(args.baseline.resolve()))
        subprocess.run([sys.executable, __file__, "--label", "@base"], env=env, check=True)


if __name__ == "__main__":
    main()

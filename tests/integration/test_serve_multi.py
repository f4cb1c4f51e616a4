"""A config with several models: endpoints, `/models/{name}`, config defaults a request overrides, shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from easyllm.serve.testing import ServerStartError, running_server

pytestmark = pytest.mark.integration

CONFIG = """\
models:
  - name: tiny
    endpoint: /tiny
    model: demo:smollm2
    task: generation
    max_total_tokens: 512
    parameters:
      max_new_tokens: 3
  - name: chatty
    model: demo:smollm2
    task: generation
    parameters:
      stop: [","]
"""


@pytest.fixture(scope="module")
def multi_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = tmp_path_factory.mktemp("serve") / "models.yaml"
    config.write_text(CONFIG)
    with running_server(config) as base_url:
        yield base_url


def test_models_are_listed_in_config_order(multi_url: str) -> None:
    ids = [m["id"] for m in httpx.get(f"{multi_url}/v1/models").json()["data"]]
    assert ids == ["tiny", "chatty"]


def test_config_defaults_apply_and_requests_override_them(multi_url: str) -> None:
    url = f"{multi_url}/tiny/generate"
    default = httpx.post(url, json={"inputs": "Hello", "parameters": {"details": True}}, timeout=60).json()
    assert default["details"]["generated_tokens"] == 3
    asked = httpx.post(url, json={"inputs": "Hello", "parameters": {"details": True, "max_new_tokens": 5}}, timeout=60)
    assert asked.json()["details"]["generated_tokens"] == 5
    assert httpx.get(f"{multi_url}/tiny/info").json()["max_total_tokens"] == 512


def test_each_model_has_its_own_routes(multi_url: str) -> None:
    body = {"inputs": "1, 2, 3, 4", "parameters": {"max_new_tokens": 10, "details": True}}
    chatty = httpx.post(f"{multi_url}/models/chatty/generate", json=body, timeout=60).json()
    assert chatty["details"]["finish_reason"] == "stop_sequence"  # the configured default stop ","
    root = httpx.post(f"{multi_url}/generate", json=body, timeout=60).json()  # the first model: tiny
    assert root["details"]["generated_tokens"] == 10


def test_no_embedding_model_served(multi_url: str) -> None:
    response = httpx.post(f"{multi_url}/v1/embeddings", json={"input": "x"})
    assert response.status_code == 404


def test_start_failure_shows_the_servers_message(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("- {name: a, model: demo:smollm2, task: seq2seq}\n")
    expected = "demo model 'smollm2' serves task 'generation', not 'seq2seq'"
    with pytest.raises(ServerStartError, match=expected), running_server(config):
        pass


def test_sigterm_shuts_down_gracefully(tmp_path: Path) -> None:
    config = tmp_path / "one.yaml"
    config.write_text("- {name: one, model: demo:smollm2, task: generation}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "easyllm.serve", "--config", str(config), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("easyllm serve: listening on http://127.0.0.1:") and line.rstrip().endswith(
            "(models: one)"
        )
        url = line.split()[4]
        assert httpx.get(f"{url}/health").status_code == 200
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

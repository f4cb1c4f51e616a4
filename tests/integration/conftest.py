"""Integration fixtures: one `easyllm serve` process (the demo models) for the whole test session.

- `serve_url`: the server's base URL (root routes: SmolLM2 for generation/chat, MiniLM for embeddings).
- `smollm2_url`, `minilm_url`: per-model base URLs (`{serve_url}/models/<name>`), Inference-API style.
- `http`: a plain httpx client on `serve_url`.
- `shell`: "sync" or "async", for the tests that run a behaviour through both client shells.

The server is started on 127.0.0.1 with a free port and `HF_HUB_OFFLINE=1`, and stopped (by its PID) at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from easyllm.serve.testing import running_server


@pytest.fixture(scope="session")
def serve_url() -> Iterator[str]:
    with running_server() as base_url:
        yield base_url


@pytest.fixture(scope="session")
def smollm2_url(serve_url: str) -> str:
    return f"{serve_url}/models/smollm2"


@pytest.fixture(scope="session")
def minilm_url(serve_url: str) -> str:
    return f"{serve_url}/models/minilm"


@pytest.fixture
def http(serve_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=serve_url, timeout=120) as client:
        yield client


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)

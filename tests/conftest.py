"""Shared fixtures: every test starts with clean module settings, no token, and an empty /info cache."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants
from hypothesis import settings as hypothesis_settings

from easyllm import calls, log
from easyllm.clients import huggingface

# No per-example deadlines: speed is measured in bench/, never asserted in tests (a busy machine is not a bug).
hypothesis_settings.register_profile("easyllm", deadline=None)
hypothesis_settings.load_profile("easyllm")

_SETTINGS = (
    "api_key",
    "api_base",
    "prompt_builder",
    "stop_sequences",
    "timeout",
    "max_retries",
    "embedding_batch_size",
    "embedding_concurrency",
    "engine",
    "http_client",
    "async_http_client",
    "cache",
    "prices",
)
_ENV = (
    "HUGGINGFACE_TOKEN",
    "HF_TOKEN",
    "HUGGINGFACE_API_BASE",
    "HUGGINGFACE_PROMPT",
    "EASYLLM_LOG",
    "EASYLLM_CACHE_DIR",
)


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in _SETTINGS:
        monkeypatch.setattr(huggingface, name, None)
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    # No CLI login either: point huggingface_hub at a token file that does not exist.
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    calls.forget_servers()
    easyllm_logger = logging.getLogger("easyllm")
    handlers, level = list(easyllm_logger.handlers), easyllm_logger.level
    monkeypatch.setattr(log, "_applied", None)
    yield
    calls.forget_servers()
    easyllm_logger.handlers[:] = handlers  # a console handler a test turned on must not outlive it
    easyllm_logger.setLevel(level)


@pytest.fixture(scope="session", autouse=True)
def close_llama_cpp_null_files() -> Iterator[None]:
    """llama-cpp-python opens two /dev/null files at import and never closes them; a test that loads a GGUF model
    in this process imports it, and the interpreter would report them unclosed on exit. Closed once nothing runs."""
    yield
    utils = sys.modules.get("llama_cpp._utils")
    for name in ("outnull_file", "errnull_file"):
        handle = getattr(utils, name, None)
        if handle is not None:
            handle.close()

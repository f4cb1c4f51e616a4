"""How embedding vectors travel, end to end: base64 from `easyllm serve`'s `/v1/embeddings`; floats, found out and
remembered, from llama-cpp-python's server (it has no `encoding_format`). The caller always gets what it asked for."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest

import easyllm
from easyllm import calls
from easyllm.protocol.tei import decode_base64
from tests.integration import llamacpp_server

pytestmark = pytest.mark.integration

llamacpp_url = llamacpp_server.llamacpp_url  # the session fixture
TEXTS = ["The cat sat on the mat.", "Stock markets fell sharply."]


def embed(base_url: str, **kwargs: Any) -> tuple[list[Any], list[Any]]:
    """Vectors, and the `encoding_format` each request asked for."""
    asked: list[Any] = []

    def record(request: httpx.Request) -> None:
        asked.append(json.loads(request.content).get("encoding_format"))

    http = httpx.Client(event_hooks={"request": [record]}, timeout=120)
    with easyllm.HuggingFace(base_url=base_url, http_client=http, timeout=120) as hf:
        r = hf.embeddings.create(input=TEXTS, **kwargs)
    http.close()
    return [d.embedding for d in r.data], asked


@pytest.fixture(autouse=True)
def forget() -> Any:
    calls.forget_servers()
    yield
    calls.forget_servers()


def test_serve_sends_base64_and_the_caller_gets_floats(serve_url: str) -> None:
    base = f"{serve_url}/models/minilm/v1"
    floats, asked = embed(base)
    assert asked == ["base64"] and all(type(x) is float for x in floats[0]) and len(floats[0]) == 384
    as_floats, asked = embed(base, encoding_format="float")
    assert asked == ["float"]
    for fast, plain in zip(floats, as_floats, strict=True):  # the same vectors, to float32 precision
        assert max(abs(a - b) for a, b in zip(fast, plain, strict=True)) < 1e-6
        assert math.isclose(math.hypot(*fast), 1.0, rel_tol=1e-6)
    encoded, asked = embed(base, encoding_format="base64")
    assert asked == ["base64"] and decode_base64(encoded[0]) == floats[0]


def test_llama_cpp_python_answers_floats_and_is_remembered(llamacpp_url: str) -> None:
    first, asked_first = embed(llamacpp_url)
    second, asked_second = embed(llamacpp_url)
    assert asked_first == ["base64"] and asked_second == ["float"]  # it ignored base64 once; floats since
    assert first == second and math.isclose(math.hypot(*first[0]), 1.0, rel_tol=1e-5)

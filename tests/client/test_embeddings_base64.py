"""OpenAI-compatible `/embeddings`: vectors travel as base64 unless the caller chose floats; servers that cannot are
found out (floats answered, or a 4xx naming `encoding_format`) and remembered. Both shells, both API styles."""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

import httpx
import pytest

from easyllm import calls, errors
from easyllm.clients import huggingface
from easyllm.protocol.tei import decode_base64
from tests.client import v1_helpers
from tests.client.fake_tgi import FakeServer
from tests.client.v1_helpers import V1, V1Runner

v1_shell = v1_helpers.v1_shell
VECTORS = {"a": [0.6, 0.8, 0.0], "b": [0.0, 3.0, 4.0]}  # "a" is unit length, "b" is not


def as_float32(vector: list[float]) -> list[float]:
    return list(struct.unpack(f"<{len(vector)}f", struct.pack(f"<{len(vector)}f", *vector)))


def b64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def server(*, accepts_base64: bool = True, refusal: int | None = None) -> Any:
    """An OpenAI-compatible embeddings route (vLLM / llama.cpp / TEI shaped); `refusal`: the status for base64."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        wants = body.get("encoding_format", "float")
        if wants == "base64" and refusal is not None:
            message = "1 validation error: encoding_format: Input should be 'float'"
            return httpx.Response(refusal, json={"object": "error", "message": message, "type": "BadRequestError"})
        encode = b64 if wants == "base64" and accepts_base64 else (lambda v: v)
        vectors = [encode(VECTORS[text]) for text in body["input"]]
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        usage = {"prompt_tokens": 2 * len(data), "total_tokens": 2 * len(data)}
        return httpx.Response(200, json={"object": "list", "data": data, "model": "served", "usage": usage})

    return handle


class Both:
    """One embedding call through the facade or the client, sync or async, against one fake server."""

    def __init__(self, style: str, shell: str, handler: Any) -> None:
        self.style, self.shell = style, shell
        self.server = FakeServer([handler])

    def __call__(self, **kwargs: Any) -> tuple[list[Any], str]:
        kwargs.setdefault("input", ["a", "b"])
        if self.style == "client":
            r = V1Runner(self.shell, self.server)("embeddings", **kwargs)
            return [d.embedding for d in r.data], r.model
        from tests.client.conftest import Runner

        r = Runner(self.shell, self.server)(huggingface.Embedding, api_base=V1, **kwargs)
        return [d["embedding"] for d in r["data"]], r["model"]

    def formats(self) -> list[str | None]:
        return [body.get("encoding_format") for body in self.server.bodies()]


@pytest.fixture(params=["facade", "client"])
def style(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def both(style: str, v1_shell: str) -> Any:
    return lambda handler: Both(style, v1_shell, handler)


def test_floats_by_default_travel_as_base64(both: Any) -> None:
    run = both(server())
    vectors, model = run()
    assert run.formats() == ["base64"] and model == "served"
    a, b = vectors
    assert a == as_float32(VECTORS["a"])  # already unit length (within float32): kept exactly as sent
    assert b == pytest.approx([0.0, 0.6, 0.8]) and math.isclose(math.hypot(*b), 1.0)
    assert all(type(x) is float for x in a + b)


def test_a_caller_who_chooses_floats_gets_floats_on_the_wire(both: Any) -> None:
    run = both(server())
    vectors, _ = run(encoding_format="float")
    assert run.formats() == ["float"] and vectors[0] == VECTORS["a"]


def test_a_caller_who_asks_base64_gets_base64(both: Any) -> None:
    run = both(server())
    vectors, _ = run(encoding_format="base64")
    assert run.formats() == ["base64"]
    assert decode_base64(vectors[0]) == as_float32(VECTORS["a"])
    assert decode_base64(vectors[1]) == pytest.approx([0.0, 0.6, 0.8])


def test_a_server_that_answers_floats_is_read_and_remembered(both: Any) -> None:
    run = both(server(accepts_base64=False))
    first, _ = run()
    second, _ = run()
    assert run.formats() == ["base64", "float"]  # found out once, asked for floats after
    assert first == second and first[0] == VECTORS["a"]
    calls.forget_servers()
    run()
    assert run.formats()[-1] == "base64"


def test_floats_answered_to_base64_still_return_base64_when_asked(both: Any) -> None:
    run = both(server(accepts_base64=False))
    vectors, _ = run(encoding_format="base64")
    assert decode_base64(vectors[0]) == as_float32(VECTORS["a"])


@pytest.mark.parametrize("status", [400, 422])
def test_a_4xx_naming_encoding_format_falls_back_to_floats_and_is_remembered(both: Any, status: int) -> None:
    run = both(server(refusal=status))
    vectors, _ = run(input=["a", "b", "a"], batch_size=1, max_concurrency=1)
    assert run.formats() == ["base64", "float", "float", "float"]  # one refusal, then floats for every batch
    assert vectors[0] == VECTORS["a"] and vectors[2] == VECTORS["a"]
    run()
    assert run.formats()[-1] == "float"


def test_another_4xx_is_raised_as_before(both: Any) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"object": "error", "message": "input is too long", "type": "BadRequest"})

    run = both(refuse)
    with pytest.raises(errors.BadRequestError, match="too long"):
        run()
    assert run.formats() == ["base64"]


def test_llama_cpp_python_is_asked_for_floats(both: Any) -> None:
    run = both(server(accepts_base64=False))
    if run.style == "facade":
        vectors, _ = run(engine="llama-cpp-python")
    else:
        r = V1Runner(run.shell, run.server)("embeddings", client={"engine": "llama-cpp-python"}, input=["a", "b"])
        vectors = [d.embedding for d in r.data]
    assert run.formats() == ["float"] and vectors[0] == VECTORS["a"]


def test_bad_base64_is_a_validation_error(both: Any) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        data = [{"object": "embedding", "index": 0, "embedding": "not base64!"}]
        return httpx.Response(200, json={"object": "list", "data": data, "model": "m", "usage": None})

    run = both(broken)
    with pytest.raises(errors.APIResponseValidationError, match="base64"):
        run(input=["a"])


def test_base64_vectors_of_different_lengths_are_refused(both: Any) -> None:
    def ragged(request: httpx.Request) -> httpx.Response:
        data = [
            {"object": "embedding", "index": 0, "embedding": b64([1.0, 0.0])},
            {"object": "embedding", "index": 1, "embedding": b64([1.0])},
        ]
        return httpx.Response(200, json={"object": "list", "data": data, "model": "m", "usage": None})

    run = both(ragged)
    with pytest.raises(errors.APIResponseValidationError, match="different lengths"):
        run()


def test_extra_body_can_still_set_the_wire_format(both: Any) -> None:
    run = both(server())
    vectors, _ = run(extra_body={"encoding_format": "float"})
    assert run.formats() == ["float"] and vectors[0] == VECTORS["a"]

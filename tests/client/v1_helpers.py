"""Helpers for the openai>=1 client tests: a runner over both shells and OpenAI-server-shaped answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest

import easyllm
from easyllm import calls, response_calls
from tests.client.fake_tgi import FakeServer, reply

V1 = "http://oai.test/v1"
TGI = "http://tgi.test"
MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture(autouse=True)
def forget_routes() -> Iterator[None]:
    calls.forget_servers()
    yield
    calls.forget_servers()


@pytest.fixture
def forget_responses_routes() -> Iterator[None]:
    """Forget which servers have `/responses` (a test module opts in: `forget_responses_routes = ...`, autouse)."""
    response_calls.forget_servers()
    yield
    response_calls.forget_servers()


def _resource(client: Any, name: str) -> Any:
    target = client
    for part in name.split("."):
        target = getattr(target, part)
    return target


class V1Runner:
    """Calls `client.<resource>.create(...)` through one shell against a `FakeServer`."""

    def __init__(self, shell: str, server: FakeServer) -> None:
        self.shell = shell
        self.server = server

    def __call__(
        self, resource: str, *, client: dict[str, Any] | None = None, method: str = "create", **kwargs: Any
    ) -> Any:
        options = {"base_url": V1, **(client or {})}
        if self.shell == "sync":
            http = httpx.Client(transport=httpx.MockTransport(self.server))
            with easyllm.HuggingFace(http_client=http, **options) as hf:
                result = getattr(_resource(hf, resource), method)(**kwargs)
                return list(result) if kwargs.get("stream") else result
        return asyncio.run(self._async(resource, options, method, kwargs))

    async def _async(self, resource: str, options: dict[str, Any], method: str, kwargs: dict[str, Any]) -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(self.server)) as http:
            hf = easyllm.AsyncHuggingFace(http_client=http, **options)
            result = await getattr(_resource(hf, resource), method)(**kwargs)
            if kwargs.get("stream"):
                return [chunk async for chunk in result]
            return result

    def paths(self) -> list[str]:
        return [r.url.path for r in self.server.requests]

    def bodies(self) -> list[Any]:
        return self.server.bodies()


@pytest.fixture(params=["sync", "async"])
def v1_shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_v1(v1_shell: str) -> Callable[..., V1Runner]:
    def make(*responses: Callable[[httpx.Request], httpx.Response]) -> V1Runner:
        return V1Runner(v1_shell, FakeServer(list(responses)))

    return make


# ---------------------------------------------------------------- OpenAI-server-shaped answers


def chat_body(
    content: str | None = "Hello!",
    *,
    finish: str = "stop",
    id: str = "",
    usage: dict[str, int] | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    logprobs: Any = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {
        "object": "chat.completion",
        "id": id,
        "created": 1706270835,
        "model": "served-model",
        "system_fingerprint": "3.3.7-native",
        "choices": [{"index": 0, "message": message, "logprobs": logprobs, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """A TGI-Messages-API-like chunk: every delta carries the role, the id is empty."""
    return {
        "object": "chat.completion.chunk",
        "id": "",
        "created": 1706270835,
        "model": "served-model",
        "system_fingerprint": "3.3.7-native",
        "choices": [{"index": 0, "delta": {"role": "assistant", **delta}, "logprobs": None, "finish_reason": finish}],
        **extra,
    }


def usage_chunk(prompt: int = 5, completion: int = 3) -> dict[str, Any]:
    return {
        "object": "chat.completion.chunk",
        "id": "",
        "created": 1706270835,
        "model": "served-model",
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }


def sse_done(events: Sequence[dict[str, Any] | str]) -> Callable[[httpx.Request], httpx.Response]:
    """An OpenAI-style stream (`data: {json}`, blank line, ending in `data: [DONE]`)."""
    body = "".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in [*events, "[DONE]"])
    return reply(200, content=body.encode(), headers={"content-type": "text/event-stream"})


def dump(model: Any) -> Any:
    """A model's JSON-mode dump, as openai's types would read it off the wire."""
    return json.loads(model.model_dump_json())

"""Run each client behaviour through both shells: `run(...)` calls `create` or `acreate` on a fake server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from easyllm.clients import huggingface
from tests.client.fake_tgi import FakeServer

BASE = "http://tgi.test"


class Runner:
    """Calls the facade through one shell against a `FakeServer`."""

    def __init__(self, shell: str, server: FakeServer) -> None:
        self.shell = shell
        self.server = server

    def __call__(self, api: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("api_base", BASE)
        if self.shell == "sync":
            huggingface.http_client = httpx.Client(transport=httpx.MockTransport(self.server))
            result = api.create(**kwargs)
            return list(result) if kwargs.get("stream") else result
        return asyncio.run(self._async(api, kwargs))

    async def _async(self, api: Any, kwargs: dict[str, Any]) -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(self.server)) as client:
            huggingface.async_http_client = client
            result = await api.acreate(**kwargs)
            if kwargs.get("stream"):
                return [chunk async for chunk in result]
            return result


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_runner(shell: str) -> Callable[..., Runner]:
    def make(*responses: Callable[[httpx.Request], httpx.Response]) -> Runner:
        return Runner(shell, FakeServer(list(responses)))

    return make

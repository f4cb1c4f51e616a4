"""Run each client behaviour through both shells: `run(...)` calls `create` or `acreate` on a fake server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from easyllm.clients import huggingface
from easyllm.transport import new_async_http_client, new_http_client
from tests.client.fake_tgi import FakeServer

BASE = "http://tgi.test"


class Runner:
    """Calls the facade through one shell against a `FakeServer`.

    The client is made as easyllm makes its own (`new_http_client`), so whole answers take the direct path to the
    transport; a caller's own `httpx.Client` (every request through `send`) is what `task_servers`,
    `pool_helpers` and the `easyllm.HuggingFace` tests hand in.
    """

    def __init__(self, shell: str, server: FakeServer, own: bool = True) -> None:
        self.shell = shell
        self.server = server
        self.own = own  # False: a caller's own httpx client

    def __call__(self, api: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("api_base", BASE)
        if self.shell == "sync":
            mock = httpx.MockTransport(self.server)
            huggingface.http_client = new_http_client(mock) if self.own else httpx.Client(transport=mock)
            result = api.create(**kwargs)
            return list(result) if kwargs.get("stream") else result
        return asyncio.run(self._async(api, kwargs))

    async def _async(self, api: Any, kwargs: dict[str, Any]) -> Any:
        mock = httpx.MockTransport(self.server)
        async with new_async_http_client(mock) if self.own else httpx.AsyncClient(transport=mock) as client:
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
    def make(*responses: Callable[[httpx.Request], httpx.Response], own: bool = True) -> Runner:
        return Runner(shell, FakeServer(list(responses)), own)

    return make

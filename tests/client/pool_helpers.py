"""Helpers for tests with several endpoints, a cache or prices: OpenAI-shaped handlers that count what they get."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

import easyllm

Handler = Callable[[httpx.Request], httpx.Response]


def embedding_answer(texts: list[str], model: str = "served-model") -> dict[str, Any]:
    """An OpenAI `/embeddings` answer: a vector per text that encodes its length (so it can be checked)."""
    data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0]} for i, t in enumerate(texts)]
    tokens = sum(len(t.split()) for t in texts)
    return {"object": "list", "model": model, "data": data, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def chat_answer(content: str, model: str = "served-model") -> dict[str, Any]:
    """An OpenAI `/chat/completions` answer with exact usage."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1706270835,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14},
    }


class Counting:
    """A MockTransport handler that counts requests per host and texts embedded, then answers like an OpenAI server.

    `fail` maps a host to what it does instead of answering: an exception to raise, or a status code.
    """

    def __init__(self, fail: dict[str, Any] | None = None, delay: float = 0.0) -> None:
        self.fail = dict(fail or {})
        self.delay = delay
        self.hosts: Counter[str] = Counter()
        self.texts: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.delay:
            time.sleep(self.delay)
        return self.answer(request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        """The same answers after an asynchronous wait (so async calls overlap)."""
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.answer(request)

    def answer(self, request: httpx.Request) -> httpx.Response:
        """Count the request and answer it (or fail as told)."""
        host = request.url.host
        body = json.loads(request.content) if request.content else {}
        with self.lock:
            self.hosts[host] += 1
            self.bodies.append(body)
        failure = self.fail.get(host)
        if isinstance(failure, BaseException):
            raise type(failure)(str(failure), request=request)  # type: ignore[call-arg]
        if isinstance(failure, int):
            return httpx.Response(failure, json={"error": "overloaded"})
        if request.url.path.endswith("/embeddings"):
            with self.lock:
                self.texts.extend(body["input"])
            return httpx.Response(200, json=embedding_answer(body["input"]))
        if request.url.path.endswith("/chat/completions"):
            text = body["messages"][-1]["content"]
            return httpx.Response(200, json=chat_answer(f"echo {text}"))
        return httpx.Response(404, json={"error": "no such route"})


def run(shell: str, handler: Handler, call: Callable[[Any], Any], **client: Any) -> Any:
    """`call(client)` on a `HuggingFace` (sync) or an `AsyncHuggingFace` (async: `call` returns an awaitable)."""
    if shell == "sync":
        with easyllm.HuggingFace(http_client=httpx.Client(transport=httpx.MockTransport(handler)), **client) as hf:
            return call(hf)

    async def main() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(_async(handler))) as http:
            return await call(easyllm.AsyncHuggingFace(http_client=http, **client))

    return asyncio.run(main())


def run_many(shell: str, handler: Handler, calls: int, call: Callable[[Any, int], Any], **client: Any) -> list[Any]:
    """`calls` concurrent calls `call(client, i)`: 32 threads (sync) or tasks (async); results in order."""
    if shell == "sync":
        from concurrent.futures import ThreadPoolExecutor

        with (
            easyllm.HuggingFace(http_client=httpx.Client(transport=httpx.MockTransport(handler)), **client) as hf,
            ThreadPoolExecutor(32) as pool,
        ):
            return list(pool.map(lambda i: call(hf, i), range(calls)))

    async def main() -> list[Any]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(_async(handler))) as http:
            hf = easyllm.AsyncHuggingFace(http_client=http, **client)
            return list(await asyncio.gather(*(call(hf, i) for i in range(calls))))

    return asyncio.run(main())


def _async(handler: Handler) -> Any:
    return handler.async_handler if isinstance(handler, Counting) else handler

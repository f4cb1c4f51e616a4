"""Fake rerank / classification / model-info servers for `httpx.MockTransport`, answering like the real ones.

Shapes: TEI `/rerank` and `/predict` (sorted `[{index, score}]`, `[[{label, score}]]`, 413 over
`max_client_batch_size`), vLLM's `/v1/rerank` (`id`, `document: {text}`, `usage`), llama.cpp's `/v1/rerank`
(`object: list`, no document), the router's hf-inference text-classification (`[[{label, score}]]` per input).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx

import easyllm

Handler = Callable[[httpx.Request], httpx.Response]


def relevance(query: str, text: str) -> float:
    """A made-up cross encoder: the share of the document's words that are in the query."""
    words = text.lower().split()
    hits = sum(word in query.lower().split() for word in words)
    return round(hits / len(words), 4)


class Recorder:
    """Routes requests by path to handlers and keeps every request."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(request.url.path)
        if handler is None:
            return httpx.Response(404, json={"error": "Not Found"})
        return handler(request)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def bodies(self, path: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.url.path == path]


def tei_info(kind: str, limit: int = 32, labels: dict[str, str] | None = None) -> Handler:
    id2label = labels or {"0": "LABEL_0"}
    body = {
        "model_id": f"org/{kind}-model", "model_sha": None, "model_dtype": "float16", "served_model_name": "m",
        "model_type": {kind: {"id2label": id2label, "label2id": {v: int(k) for k, v in id2label.items()}}},
        "max_concurrent_requests": 512, "max_input_length": 512, "max_batch_tokens": 16384,
        "max_batch_requests": None, "max_client_batch_size": limit, "auto_truncate": True,
        "tokenization_workers": 4, "version": "1.8.2", "sha": "abc", "docker_label": "sha-abc",
    }  # fmt: skip
    return lambda request: httpx.Response(200, json=body)


def _too_many(size: int, limit: int) -> httpx.Response:
    message = f"batch size {size} > maximum allowed batch size {limit}"
    return httpx.Response(413, json={"error": message, "error_type": "Validation"})


def tei_rerank(limit: int = 32) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        texts = body["texts"]
        if len(texts) > limit:
            return _too_many(len(texts), limit)
        ranks = [{"index": i, "score": relevance(body["query"], t)} for i, t in enumerate(texts)]
        ranks.sort(key=lambda r: -r["score"])
        return httpx.Response(200, json=ranks, headers={"x-compute-tokens": str(10 * len(texts))})

    return handle


def vllm_rerank(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    docs = body["documents"]
    results = [
        {"index": i, "document": {"text": d}, "relevance_score": relevance(body["query"], d)}
        for i, d in enumerate(docs)
    ]
    results.sort(key=lambda r: -r["relevance_score"])
    if body.get("top_n"):
        results = results[: body["top_n"]]
    usage = {"prompt_tokens": 7 * len(docs), "total_tokens": 7 * len(docs)}
    return httpx.Response(
        200, json={"id": "rerank-1", "model": body.get("model", "bge"), "usage": usage, "results": results}
    )


def llamacpp_rerank(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    docs = body["documents"]
    results = [{"index": i, "relevance_score": relevance(body["query"], d)} for i, d in enumerate(docs)]
    results.sort(key=lambda r: -r["relevance_score"])
    results = results[: body.get("top_n", len(docs))]
    usage = {"prompt_tokens": 5 * len(docs), "total_tokens": 5 * len(docs)}
    return httpx.Response(200, json={"model": "gpt-3.5-turbo", "object": "list", "usage": usage, "results": results})


def pipeline_pairs(nested: bool) -> Handler:
    """hf-inference text-classification of a one-label cross encoder, over a list of `{text, text_pair}`."""

    def handle(request: httpx.Request) -> httpx.Response:
        pairs = json.loads(request.content)["inputs"]
        labels = [{"label": "LABEL_0", "score": relevance(p["text"], p["text_pair"])} for p in pairs]
        return httpx.Response(200, json=[[label] for label in labels] if nested else labels)

    return handle


def classifier_scores(text: str) -> list[dict[str, Any]]:
    """A made-up prompt-injection classifier: texts that say "ignore" are injections."""
    injection = 0.97 if "ignore" in text.lower() else 0.02
    return [{"label": "INJECTION", "score": injection}, {"label": "SAFE", "score": round(1 - injection, 2)}]


def tei_predict(limit: int = 32) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        if isinstance(inputs, str):
            return httpx.Response(200, json=classifier_scores(inputs))
        if len(inputs) > limit:
            return _too_many(len(inputs), limit)
        return httpx.Response(200, json=[classifier_scores(text) for text in inputs])

    return handle


def pipeline_classify(request: httpx.Request) -> httpx.Response:
    text = json.loads(request.content)["inputs"]
    assert isinstance(text, str), "the pipeline route is sent one text per request"
    return httpx.Response(200, json=[classifier_scores(text)])


def call(
    shell: str, base_url: str, server: Recorder, resource: str, *args: Any, engine: str = "auto", **kwargs: Any
) -> Any:
    """`client.<resource>(*args, **kwargs)` through one shell (`resource` such as "rerank.create")."""

    def target(client: Any) -> Any:
        for part in resource.split("."):
            client = getattr(client, part)
        return client

    if shell == "sync":
        with httpx.Client(transport=httpx.MockTransport(server)) as http:
            return target(easyllm.HuggingFace(base_url=base_url, engine=engine, http_client=http))(*args, **kwargs)

    async def run() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            client = easyllm.AsyncHuggingFace(base_url=base_url, engine=engine, http_client=http)
            return await target(client)(*args, **kwargs)

    return asyncio.run(run())

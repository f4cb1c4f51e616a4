"""The clients under test, each written the way its documentation says to use it.

Every adapter builds its client once (pooled connections, as a real program would) and returns small callables
(None where a client has no such call, or this branch does not have it yet):

- `chat(tokens)`: one non-streaming chat request for `tokens` tokens with details; returns the answer text;
- `stream(tokens)`: one streamed answer, consumed to the end; returns (seconds to the first chunk, chunks seen);
- `stream_v1(tokens)`: the same on an OpenAI-compatible `/v1/chat/completions` (the router / vLLM dialects);
- `responses(tokens)`: a streamed Responses API answer translated over that chat stream; returns as `stream`;
- `embed(texts)` / `embed_v1(texts)`: vectors for all texts, in order (TEI `/embed`; OpenAI `/v1/embeddings`);
- `rerank(query, documents)`: one relevance score per document, in input order.

`httpx` is the floor: a pooled `httpx.Client`, `json.loads` per response and per SSE line, nothing else
(`httpx+orjson`: the same with `orjson.loads`, the second floor for decoding-bound rows; `httpx-transport`: the
embedding requests sent straight to httpx's `HTTPTransport`, below the `Client` layer, bodies made and read with
orjson: the least CPU httpx can spend on a batch, the third floor of the embedding rows, not a way to use it).

Adding a row for a new easyllm path: give the easyllm adapters a callable (returning None when the branch lacks
the path), give `raw_httpx` the floor's callable, and add the scenario to `bench.worker.SCENARIOS` and a section in
`bench.run`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

PROMPT = "<|im_start|>user\nSay something about foxes.<|im_end|>\n<|im_start|>assistant\n"
PROMPT_TEXT = "Say something about foxes."
MESSAGES = [{"role": "user", "content": PROMPT_TEXT}]
BATCH = 32


class Adapter:
    """A client under test; `None` for a scenario it does not apply to."""

    chat: Callable[[int], str] | None = None
    stream: Callable[[int], tuple[float, int]] | None = None
    stream_v1: Callable[[int], tuple[float, int]] | None = None
    responses: Callable[[int], tuple[float, int]] | None = None
    embed: Callable[[list[str]], list[Any]] | None = None
    embed_v1: Callable[[list[str]], list[Any]] | None = None
    rerank: Callable[[str, list[str]], list[float]] | None = None


def _timed(open_stream: Callable[[], Any]) -> tuple[float, int]:
    """Open a stream and consume its chunks: (seconds from the call to the first chunk, how many)."""
    start = time.perf_counter()
    first, seen = 0.0, 0
    for _chunk in open_stream():
        if not seen:
            first = time.perf_counter() - start
        seen += 1
    return first, seen


# ---------------------------------------------------------------- raw httpx: the floor


def raw_httpx(base: str, concurrency: int = 1, decoder: str = "json") -> Adapter:
    import httpx

    client = httpx.Client(timeout=600)
    if decoder == "orjson":
        import orjson

        loads: Callable[[Any], Any] = orjson.loads
    else:
        loads = json.loads
    a = Adapter()

    def chat(tokens: int) -> str:
        body = {"inputs": PROMPT, "parameters": {"max_new_tokens": tokens, "details": True}}
        r = client.post(f"{base}/generate", json=body)
        r.raise_for_status()
        return str(loads(r.content)["generated_text"])

    def stream(tokens: int) -> tuple[float, int]:
        start = time.perf_counter()
        first, seen = 0.0, 0
        body = {"inputs": PROMPT, "parameters": {"max_new_tokens": tokens, "details": True}}
        with client.stream("POST", f"{base}/generate_stream", json=body) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if line.startswith("data:"):
                    event = loads(line[5:])
                    if not seen:
                        first = time.perf_counter() - start
                    seen += 1
                    if event["generated_text"] is not None:
                        break
        return first, seen

    def stream_v1(tokens: int) -> tuple[float, int]:
        # What a user writes for an OpenAI-compatible stream: SSE lines, `[DONE]` at the end.
        start = time.perf_counter()
        first, seen = 0.0, 0
        body = {"model": "bench/tiny", "messages": MESSAGES, "max_tokens": tokens, "stream": True}
        with client.stream("POST", f"{base}/v1/chat/completions", json=body) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if line.startswith("data:"):
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    loads(data)
                    if not seen:
                        first = time.perf_counter() - start
                    seen += 1
        return first, seen

    def post_batch(batch: list[str]) -> list[Any]:
        r = client.post(f"{base}/embed", json={"inputs": batch, "normalize": True})
        r.raise_for_status()
        return loads(r.content)  # type: ignore[no-any-return]

    def post_batch_v1(batch: list[str]) -> list[Any]:
        r = client.post(f"{base}/v1/embeddings", json={"input": batch, "model": "bench/tiny"})
        r.raise_for_status()
        return [item["embedding"] for item in loads(r.content)["data"]]

    def batched(post: Callable[[list[str]], list[Any]]) -> Callable[[list[str]], list[Any]]:
        def embed(texts: list[str]) -> list[Any]:
            batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
            if concurrency == 1:
                parts = [post(b) for b in batches]
            else:
                with ThreadPoolExecutor(concurrency) as pool:
                    parts = list(pool.map(post, batches))
            return [v for part in parts for v in part]

        return embed

    def rerank_batch(query: str, documents: list[str], start: int) -> list[tuple[int, float]]:
        r = client.post(f"{base}/rerank", json={"query": query, "texts": documents})
        r.raise_for_status()
        return [(start + item["index"], item["score"]) for item in loads(r.content)]

    def rerank(query: str, documents: list[str]) -> list[float]:
        # TEI refuses more texts than its batch limit (32 by default): batches, in threads as for embeddings.
        starts = range(0, len(documents), BATCH)
        with ThreadPoolExecutor(concurrency) as pool:
            parts = pool.map(lambda i: rerank_batch(query, documents[i : i + BATCH], i), starts)
            scores = [0.0] * len(documents)
            for part in parts:
                for index, score in part:
                    scores[index] = score
        return scores

    a.chat, a.stream, a.stream_v1 = chat, stream, stream_v1
    a.responses = stream_v1  # the floor for the Responses API translated over chat: the same chat stream read raw
    a.embed, a.embed_v1, a.rerank = batched(post_batch), batched(post_batch_v1), rerank
    return a


def raw_transport(base: str, concurrency: int) -> Adapter:
    """Embeddings sent straight to `httpx.HTTPTransport`: no `Client` (redirects, cookies, auth, hooks, proxies).

    What is left is the least CPU httpx can spend per batch (h11, httpcore's pool, the socket) and orjson's; a
    floor for the embedding rows, not a way to use httpx (nothing of what `Client` does for a caller is done).
    """
    import httpx
    import orjson

    transport = httpx.HTTPTransport()
    timeout = httpx.Timeout(600).as_dict()
    a = Adapter()

    def post(url: str, body: Any) -> Any:
        content = orjson.dumps(body)
        request = httpx.Request(
            "POST", url, content=content, headers={"content-type": "application/json"}, extensions={"timeout": timeout}
        )
        response = transport.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code} from {url}")
        return orjson.loads(response.content)

    def batched(post_batch: Callable[[list[str]], list[Any]]) -> Callable[[list[str]], list[Any]]:
        def embed(texts: list[str]) -> list[Any]:
            batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
            with ThreadPoolExecutor(concurrency) as pool:
                return [v for part in pool.map(post_batch, batches) for v in part]

        return embed

    embed_url, v1_url = httpx.URL(f"{base}/embed"), httpx.URL(f"{base}/v1/embeddings")
    a.embed = batched(lambda batch: post(embed_url, {"inputs": batch, "normalize": True}))  # type: ignore[no-any-return]
    a.embed_v1 = batched(
        lambda batch: [item["embedding"] for item in post(v1_url, {"input": batch, "model": "bench/tiny"})["data"]]
    )
    return a


# ---------------------------------------------------------------- easyllm


def easyllm_facade(base: str) -> Adapter:
    from easyllm.clients import huggingface

    huggingface.api_base = base
    huggingface.prompt_builder = "chatml"
    a = Adapter()

    def chat(tokens: int) -> str:
        r = huggingface.ChatCompletion.create(model="bench/tiny", messages=MESSAGES, max_tokens=tokens)
        return str(r.choices[0].message.content)

    def stream(tokens: int) -> tuple[float, int]:
        start = time.perf_counter()
        first, seen = 0.0, 0
        for _chunk in huggingface.ChatCompletion.create(
            model="bench/tiny", messages=MESSAGES, max_tokens=tokens, stream=True
        ):
            if not seen:
                first = time.perf_counter() - start
            seen += 1
        return first, seen

    def stream_v1(tokens: int) -> tuple[float, int]:
        return _timed(
            lambda: huggingface.ChatCompletion.create(
                model="bench/tiny", messages=MESSAGES, max_tokens=tokens, stream=True, api_base=f"{base}/v1",
                engine="router",
            )
        )  # fmt: skip

    def embed(texts: list[str]) -> list[Any]:
        r = huggingface.Embedding.create(model="bench/tiny", input=texts)
        return [d["embedding"] for d in r["data"]]

    def embed_v1(texts: list[str]) -> list[Any]:
        r = huggingface.Embedding.create(model="bench/tiny", input=texts, api_base=f"{base}/v1")
        return [d["embedding"] for d in r["data"]]

    a.chat, a.stream, a.stream_v1, a.embed, a.embed_v1 = chat, stream, stream_v1, embed, embed_v1
    rerank = getattr(huggingface, "Rerank", None)
    if rerank is not None:  # issue 14: `huggingface.Rerank.create(query=..., documents=[...])`

        def rerank_call(query: str, documents: list[str]) -> list[float]:
            r = rerank.create(query=query, documents=documents, api_base=base)
            scores = [0.0] * len(documents)
            for item in r["results"]:
                scores[item["index"]] = item["relevance_score"]
            return scores

        a.rerank = rerank_call
    return a


def easyllm_client(base: str) -> Adapter | None:
    import easyllm

    cls = getattr(easyllm, "HuggingFace", None)
    if cls is None:
        return None
    client = cls(base_url=base, api_key="-")
    a = Adapter()

    def chat(tokens: int) -> str:
        r = client.chat.completions.create(model="bench/tiny", messages=MESSAGES, max_tokens=tokens)
        return str(r.choices[0].message.content)

    def stream(tokens: int) -> tuple[float, int]:
        start = time.perf_counter()
        first, seen = 0.0, 0
        for _chunk in client.chat.completions.create(
            model="bench/tiny", messages=MESSAGES, max_tokens=tokens, stream=True
        ):
            if not seen:
                first = time.perf_counter() - start
            seen += 1
        return first, seen

    def embed(texts: list[str]) -> list[Any]:
        r = client.embeddings.create(model="bench/tiny", input=texts)
        return [d.embedding for d in r.data]

    v1 = cls(base_url=f"{base}/v1", api_key="-", engine="vllm")

    def stream_v1(tokens: int) -> tuple[float, int]:
        return _timed(
            lambda: v1.chat.completions.create(model="bench/tiny", messages=MESSAGES, max_tokens=tokens, stream=True)
        )

    def embed_v1(texts: list[str]) -> list[Any]:
        r = v1.embeddings.create(model="bench/tiny", input=texts)
        return [d.embedding for d in r.data]

    a.chat, a.stream, a.stream_v1, a.embed, a.embed_v1 = chat, stream, stream_v1, embed, embed_v1
    # A TGI-like root has no `/v1/responses`: the Responses API is translated over `/v1/chat/completions`.
    translated = cls(base_url=f"{base}/v1", api_key="-", engine="llama-cpp-python")
    if hasattr(translated, "responses"):  # issue 12

        def responses(tokens: int) -> tuple[float, int]:
            def deltas() -> Any:
                events = translated.responses.create(
                    model="bench/tiny", input=PROMPT_TEXT, max_output_tokens=tokens, stream=True
                )
                return (e for e in events if e.type == "response.output_text.delta")

            return _timed(deltas)

        a.responses = responses
    if hasattr(client, "rerank"):  # issue 14

        def rerank(query: str, documents: list[str]) -> list[float]:
            r = client.rerank.create(query=query, documents=documents)
            scores = [0.0] * len(documents)
            for item in r.results:
                scores[item.index] = item.relevance_score
            return scores

        a.rerank = rerank
    return a


# ---------------------------------------------------------------- peers


def hf_hub(base: str) -> Adapter:
    from huggingface_hub import InferenceClient

    client = InferenceClient(base_url=base)
    embedder = InferenceClient(base_url=f"{base}/embed")  # with a base URL, the client posts to it as given
    a = Adapter()

    def chat(tokens: int) -> str:
        r = client.text_generation(PROMPT, max_new_tokens=tokens, details=True)
        return r.generated_text  # type: ignore[union-attr]

    def stream(tokens: int) -> tuple[float, int]:
        start = time.perf_counter()
        first, seen = 0.0, 0
        for _out in client.text_generation(PROMPT, max_new_tokens=tokens, details=True, stream=True):
            if not seen:
                first = time.perf_counter() - start
            seen += 1
        return first, seen

    def embed(texts: list[str]) -> list[Any]:
        # What a user writes: the client sends what it is given, so batch by hand, one request at a time.
        out: list[Any] = []
        for i in range(0, len(texts), BATCH):
            out.extend(embedder.feature_extraction(texts[i : i + BATCH]).tolist())
        return out

    a.chat, a.stream, a.embed = chat, stream, embed
    return a


def openai_sdk(base: str) -> Adapter:
    from openai import OpenAI

    client = OpenAI(base_url=f"{base}/v1", api_key="-")
    a = Adapter()

    def chat(tokens: int) -> str:
        r = client.chat.completions.create(model="bench/tiny", messages=MESSAGES, max_tokens=tokens)  # type: ignore[arg-type]
        return str(r.choices[0].message.content)

    def stream(tokens: int) -> tuple[float, int]:
        start = time.perf_counter()
        first, seen = 0.0, 0
        for _chunk in client.chat.completions.create(
            model="bench/tiny",
            messages=MESSAGES,  # type: ignore[arg-type]
            max_tokens=tokens,
            stream=True,
        ):
            if not seen:
                first = time.perf_counter() - start
            seen += 1
        return first, seen

    def embed_v1(texts: list[str]) -> list[Any]:
        # The SDK sends what it is given (and asks for base64, decoded with numpy): batches by hand, in turn.
        out: list[Any] = []
        for i in range(0, len(texts), BATCH):
            r = client.embeddings.create(model="bench/tiny", input=texts[i : i + BATCH])
            out.extend(d.embedding for d in r.data)
        return out

    a.chat, a.stream, a.stream_v1, a.embed_v1 = chat, stream, stream, embed_v1
    return a


ADAPTERS: dict[str, Callable[[str], Adapter | None]] = {
    "httpx": raw_httpx,
    "httpx-seq": raw_httpx,
    "httpx+orjson": raw_httpx,
    "easyllm": easyllm_facade,
    "easyllm.HuggingFace": easyllm_client,
    "huggingface_hub": hf_hub,
    "openai": openai_sdk,
}

"""The clients under test, each written the way its documentation says to use it.

Every adapter builds its client once (pooled connections, as a real program would) and returns small callables:

- `chat()`: one non-streaming chat request for `tokens` tokens with details; returns the answer text;
- `stream(tokens)`: one streamed answer, consumed to the end; returns (seconds to the first chunk, chunks seen);
- `embed(texts)`: vectors for all texts, in order.

`httpx` is the floor: a pooled `httpx.Client`, `json.loads` per response and per SSE line, nothing else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

PROMPT = "<|im_start|>user\nSay something about foxes.<|im_end|>\n<|im_start|>assistant\n"
MESSAGES = [{"role": "user", "content": "Say something about foxes."}]
BATCH = 32


class Adapter:
    """A client under test; `None` for a scenario it does not apply to."""

    chat: Callable[[int], str] | None = None
    stream: Callable[[int], tuple[float, int]] | None = None
    embed: Callable[[list[str]], list[Any]] | None = None


# ---------------------------------------------------------------- raw httpx: the floor


def raw_httpx(base: str, concurrency: int = 1) -> Adapter:
    import httpx

    client = httpx.Client(timeout=600)
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

    def post_batch(batch: list[str]) -> list[Any]:
        r = client.post(f"{base}/embed", json={"inputs": batch, "normalize": True})
        r.raise_for_status()
        return loads(r.content)  # type: ignore[no-any-return]

    def embed(texts: list[str]) -> list[Any]:
        batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
        if concurrency == 1:
            parts = [post_batch(b) for b in batches]
        else:
            with ThreadPoolExecutor(concurrency) as pool:
                parts = list(pool.map(post_batch, batches))
        return [v for part in parts for v in part]

    a.chat, a.stream, a.embed = chat, stream, embed
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

    def embed(texts: list[str]) -> list[Any]:
        r = huggingface.Embedding.create(model="bench/tiny", input=texts)
        return [d["embedding"] for d in r["data"]]

    a.chat, a.stream, a.embed = chat, stream, embed
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

    a.chat, a.stream, a.embed = chat, stream, embed
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

    a.chat, a.stream = chat, stream
    return a


ADAPTERS: dict[str, Callable[[str], Adapter | None]] = {
    "httpx": raw_httpx,
    "httpx-seq": raw_httpx,
    "easyllm": easyllm_facade,
    "easyllm.HuggingFace": easyllm_client,
    "huggingface_hub": hf_hub,
    "openai": openai_sdk,
}

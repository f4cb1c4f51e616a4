"""Client CPU without a network: the bench server's canned answers through `httpx.MockTransport`.

`python -m bench.inprocess [A,B,V,R,C,CV,K] [--profile NAME]` prints CPU per request (A), per token (B, V, R),
per embedded text (C: TEI `/embed`, CV: `/v1/embeddings`; 2,000 texts, batches of 32) or per rerank call (K: 1,000
documents on TEI's `/rerank`, batches of 32) for raw httpx and for easyllm, in one process: no socket, no server
process competing for the 2 cores, so the figures move by a few percent between runs instead of tens, and the gap
between a row and its floor is easyllm's own work. Use it to find and check a change; `python -m bench.run` (with a
real server and sockets) gives the figures the targets are about. `--profile NAME` writes
`bench/results/inprocess.prof` (cProfile) for one row.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from bench import server
from bench.clients import MESSAGES, PROMPT, PROMPT_TEXT

BASE = "http://127.0.0.1:9"
# The TEI rows' base: a server that answers `/info` as TEI is taken for TEI (and refuses chat) from then on.
TEI = "/tei"
TOKENS = 1000
TEXTS = [f"text number {i} to embed" for i in range(2000)]
DOCUMENTS = [f"document number {i} to rank" for i in range(1000)]
QUERY = "which document ranks first?"
BATCH = 32


def _split(raw: bytes) -> tuple[dict[str, str], bytes]:
    head, body = raw.split(b"\r\n\r\n", 1)
    return dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:]), body


def _unchunk(chunk: bytes) -> bytes:
    return chunk.split(b"\r\n", 1)[1][:-2]


class _Parts(httpx.SyncByteStream):
    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.parts)


def _handler() -> Callable[[httpx.Request], httpx.Response]:
    tgi_headers, tgi_body = _split(server.tgi_answer(32, False))
    _, root_body = _split(server.tgi_answer(32, True))
    _, chat_body = _split(server.openai_answer(32))
    tgi_events = [_unchunk(c) for c in server.tgi_events(TOKENS)]
    chat_events = [_unchunk(c) for c in server.openai_events(TOKENS)]
    sse = {"content-type": "text/event-stream"}

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(TEI)
        if request.method == "GET" and path == "/info":  # TEI's: clients that ask take its `/embed` route
            info = {"model_id": server.MODEL, "model_type": {"embedding": {"pooling": "mean"}}}
            return httpx.Response(200, json={**info, "max_client_batch_size": BATCH})
        if request.method == "GET":
            return httpx.Response(404, json={"error": "no such route"})
        if path.endswith("embed") or path.endswith("/embeddings"):
            return _embeddings(request)
        if path == "/rerank":
            headers, body = _split(server.tei_rerank(len(json.loads(request.content)["texts"])))
            return httpx.Response(200, content=body, headers=headers)
        streamed = json.loads(request.content).get("stream") or path.endswith("_stream")
        if path.endswith("/responses"):
            return httpx.Response(404, json={"error": "no such route"})
        if path.endswith("/chat/completions"):
            if streamed:
                return httpx.Response(200, stream=_Parts(chat_events), headers=sse)
            return httpx.Response(200, content=chat_body, headers={"content-type": "application/json"})
        if streamed:
            return httpx.Response(200, stream=_Parts(tgi_events), headers=sse)
        return httpx.Response(200, content=root_body if path == "/" else tgi_body, headers=tgi_headers)

    return handle


def _embeddings(request: httpx.Request) -> httpx.Response:
    """TEI's `/embed` or `/v1/embeddings` (base64 when asked), as the bench server answers them."""
    payload = json.loads(request.content)
    if request.url.path.endswith("/embed"):
        headers, body = _split(server.tei_answer(len(payload["inputs"]), server.DIM))
    else:
        b64 = payload.get("encoding_format") == "base64"
        headers, body = _split(server.openai_embeddings(len(payload["input"]), b64))
    return httpx.Response(200, content=body, headers=headers)


def _raw_embed(client: httpx.Client, path: str, loads: Callable[[bytes], Any]) -> int:
    """The floor: batches of 32 in turn, decoded with `loads` (no threads: no GIL hand-offs in the floor)."""
    key = "inputs" if path == "/embed" else "input"
    vectors = []
    for start in range(0, len(TEXTS), BATCH):
        body = loads(client.post(f"{BASE}{path}", json={key: TEXTS[start : start + BATCH]}).content)
        vectors.extend(body if path == "/embed" else [item["embedding"] for item in body["data"]])
    return len(vectors)


def _raw_rerank(client: httpx.Client, loads: Callable[[bytes], Any]) -> int:
    """The floor: TEI `/rerank` in batches of 32 in turn, the scores put back in document order."""
    scores = [0.0] * len(DOCUMENTS)
    for start in range(0, len(DOCUMENTS), BATCH):
        texts = DOCUMENTS[start : start + BATCH]
        for item in loads(client.post(f"{BASE}/rerank", json={"query": QUERY, "texts": texts}).content):
            scores[start + item["index"]] = item["score"]
    return len(scores)


def rows() -> dict[str, tuple[str, Callable[[], Any]]]:
    """name -> (section, one operation)."""
    import easyllm
    import easyllm.transport as transport
    from easyllm.clients import huggingface

    handler = _handler()
    raw = httpx.Client(transport=httpx.MockTransport(handler))
    pooled = transport.new_http_client(httpx.MockTransport(handler))
    transport._sync_pool[BASE] = pooled  # the facade's pool for this origin
    huggingface.api_base, huggingface.prompt_builder = BASE, "chatml"
    client = easyllm.HuggingFace(base_url=BASE, api_key="-", http_client=pooled)
    tei = easyllm.HuggingFace(base_url=BASE + TEI, api_key="-", http_client=pooled)
    v1 = easyllm.HuggingFace(base_url=f"{BASE}/v1", api_key="-", engine="vllm", http_client=pooled)
    translated = easyllm.HuggingFace(base_url=f"{BASE}/v1", api_key="-", engine="llama-cpp-python", http_client=pooled)
    generate = {"inputs": PROMPT, "parameters": {"max_new_tokens": 32, "details": True}}

    def raw_chat() -> Any:
        return json.loads(raw.post(f"{BASE}/generate", json=generate).content)["generated_text"]

    def raw_lines(path: str, body: dict[str, Any]) -> int:
        seen = 0
        with raw.stream("POST", f"{BASE}{path}", json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    json.loads(data)
                    seen += 1
        return seen

    def count(chunks: Any) -> int:
        return sum(1 for _ in chunks)

    chat = {"model": "bench/tiny", "messages": MESSAGES, "max_tokens": TOKENS, "stream": True}
    short = {**chat, "max_tokens": 32, "stream": False}
    router = {**chat, "api_base": f"{BASE}/v1", "engine": "router"}
    ranked = {"query": QUERY, "documents": DOCUMENTS}

    import orjson

    def embed(create: Callable[..., Any], **extra: Any) -> int:
        answer = create(model="bench/tiny", input=TEXTS, **extra)
        return len(answer["data"] if isinstance(answer, dict) else answer.data)

    def deltas() -> int:
        events = translated.responses.create(
            model="bench/tiny", input=PROMPT_TEXT, max_output_tokens=TOKENS, stream=True
        )
        return sum(1 for e in events if e.type == "response.output_text.delta")

    return {
        "A httpx": ("A", raw_chat),
        "A easyllm": ("A", lambda: huggingface.ChatCompletion.create(**short)),
        "A easyllm.HuggingFace": ("A", lambda: client.chat.completions.create(**short)),
        "B httpx": ("B", lambda: raw_lines("/generate_stream", {**generate, "stream": True})),
        "B easyllm": ("B", lambda: count(huggingface.ChatCompletion.create(**chat))),
        "B easyllm.HuggingFace": ("B", lambda: count(client.chat.completions.create(**chat))),
        "V httpx": ("V", lambda: raw_lines("/v1/chat/completions", chat)),
        "V easyllm": ("V", lambda: count(huggingface.ChatCompletion.create(**router))),
        "V easyllm.HuggingFace": ("V", lambda: count(v1.chat.completions.create(**chat))),
        "R httpx": ("R", lambda: raw_lines("/v1/chat/completions", chat)),
        "R easyllm.HuggingFace": ("R", deltas),
        "C httpx": ("C", lambda: _raw_embed(raw, "/embed", json.loads)),
        "C httpx+orjson": ("C", lambda: _raw_embed(raw, "/embed", orjson.loads)),
        "C easyllm": ("C", lambda: embed(huggingface.Embedding.create, api_base=BASE + TEI)),
        "C easyllm.HuggingFace": ("C", lambda: embed(tei.embeddings.create)),
        "CV httpx": ("CV", lambda: _raw_embed(raw, "/v1/embeddings", json.loads)),
        "CV httpx+orjson": ("CV", lambda: _raw_embed(raw, "/v1/embeddings", orjson.loads)),
        "CV easyllm": ("CV", lambda: embed(huggingface.Embedding.create, api_base=f"{BASE}/v1")),
        "CV easyllm.HuggingFace": ("CV", lambda: embed(v1.embeddings.create)),
        "K httpx": ("K", lambda: _raw_rerank(raw, json.loads)),
        "K easyllm": ("K", lambda: len(huggingface.Rerank.create(**ranked, api_base=BASE + TEI)["results"])),
        "K easyllm.HuggingFace": ("K", lambda: len(tei.rerank.create(**ranked).results)),
    }  # fmt: skip


_UNITS = {"A": 1, "C": len(TEXTS), "CV": len(TEXTS), "K": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="?", default="A,B,V,R,C,CV,K")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", metavar="NAME", help="a row name, such as 'V easyllm.HuggingFace'")
    args = parser.parse_args()
    chosen = {name: row for name, row in rows().items() if row[0] in args.sections.split(",")}
    per = {name: (32 if section == "A" else 1) for name, (section, _) in chosen.items()}
    for _, op in chosen.values():
        op(), op()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in chosen}
    for _ in range(args.repeats):  # interleaved, as bench.run does
        for name, (section, op) in chosen.items():
            ops = 300 if section == "A" else 1
            start = time.process_time()
            for _ in range(ops):
                op()
            times[name].append((time.process_time() - start) / ops / _UNITS.get(section, TOKENS) * 1e6)
    for name, (section, _) in chosen.items():
        floor = statistics.median(times[f"{section} httpx"])
        value = statistics.median(times[name])
        units = {"A": "µs per request", "C": "µs per text", "CV": "µs per text", "K": "µs per call"}
        unit = units.get(section, "µs per token")
        print(f"{name:26s} {value:8.1f} {unit:15s} {value / floor:5.2f}×  ({value - floor:+.1f})")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [chosen[args.profile][1]() for _ in range(per[args.profile])])
        profiler.dump_stats("bench/results/inprocess.prof")
        print("written to bench/results/inprocess.prof")


if __name__ == "__main__":
    main()

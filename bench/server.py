"""A local server that costs almost nothing: TGI, TEI and OpenAI routes answered from precomputed bodies.

Run as `python -m bench.server [--embed-latency-ms 20] [--batch-limit 32] [--pace-ms 0] [--embed-slots 0]`; it binds
127.0.0.1 on a free port, prints `PORT <n>` on its first stdout line, and serves until it is killed (by PID,
by whoever started it).

Routes (HTTP/1.1, keep-alive; streams use chunked encoding, one SSE event per chunk):

- `POST /` (TGI root route: a list of one answer, or an SSE stream when the body says `"stream": true`),
  `POST /generate`, `POST /generate_stream`: `max_new_tokens` tokens (default 32) with details;
- `POST /embed` (TEI): one vector per input, after `--embed-latency-ms`; 413 over `--batch-limit` inputs; with
  `--embed-slots N`, at most N batches are embedded at once and the others queue (a server of bounded capacity);
  under a `/d<N>` prefix (`/d16/embed`, `/d16/info`) the vectors have N floats instead of 384;
- `POST /rerank` (TEI): one `{index, score}` per text, best first, with `x-compute-tokens` as TEI sends it, at once
  (its row measures CPU per call);
  413 over `--batch-limit` texts, as TEI;
- `GET /info`: TEI's (`model_type`), with `max_client_batch_size` and the model id;
- `POST /v1/chat/completions` (+ `"stream": true`, ending in `data: [DONE]`);
- `POST /v1/embeddings`: floats, or base64 float32 when asked (`encoding_format`), with `/embed`'s latency and
  batch limit;
- `GET /bench/stats` (request counts per route, and the most requests in flight at once), `POST /bench/reset`.

Answers depend only on the token count or batch size asked for, so each is built once and cached as bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import struct
import sys
from collections import Counter
from functools import lru_cache
from typing import Any

MODEL = "bench/tiny"
DIM = 384
WORDS = [" the", " quick", " brown", " fox", " jumps", " over", " a", " lazy", " dog", ","]


def _token(i: int) -> dict[str, Any]:
    return {"id": 1000 + i % len(WORDS), "text": WORDS[i % len(WORDS)], "logprob": -0.25, "special": False}


def _text(n: int) -> str:
    return "".join(WORDS[i % len(WORDS)] for i in range(n))


def _http(status: str, body: bytes, content_type: str = "application/json", extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
STREAM_END = b"0\r\n\r\n"
TGI_HEADERS = "x-prompt-tokens: 12\r\nx-compute-type: cpu\r\n"


@lru_cache(maxsize=64)
def tgi_answer(n: int, as_list: bool) -> bytes:
    answer = {
        "generated_text": _text(n),
        "details": {
            "finish_reason": "length",
            "generated_tokens": n,
            "seed": None,
            "prefill": [],
            "tokens": [_token(i) for i in range(n)],
        },
    }
    body = json.dumps([answer] if as_list else answer).encode()
    return _http("200 OK", body, extra=TGI_HEADERS + f"x-generated-tokens: {n}\r\n")


@lru_cache(maxsize=16)
def tgi_events(n: int) -> tuple[bytes, ...]:
    """One chunked SSE event per token; the last carries `generated_text` and details."""
    events = []
    for i in range(n):
        event: dict[str, Any] = {
            "index": i + 1,
            "token": _token(i),
            "top_tokens": None,
            "generated_text": None,
            "details": None,
        }
        if i == n - 1:
            event["generated_text"] = _text(n)
            event["details"] = {"finish_reason": "length", "generated_tokens": n, "seed": None, "input_length": 12}
        events.append(_chunk(b"data:" + json.dumps(event).encode() + b"\n\n"))
    return tuple(events)


def _chat_base(obj: str) -> dict[str, Any]:
    return {"id": "chatcmpl-bench", "object": obj, "created": 1700000000, "model": MODEL, "system_fingerprint": "b"}


@lru_cache(maxsize=64)
def openai_answer(n: int) -> bytes:
    body = _chat_base("chat.completion") | {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": _text(n)},
                "logprobs": None,
                "finish_reason": "length",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": n, "total_tokens": 12 + n},
    }
    return _http("200 OK", json.dumps(body).encode())


@lru_cache(maxsize=16)
def openai_events(n: int) -> tuple[bytes, ...]:
    def event(delta: dict[str, Any], reason: str | None) -> bytes:
        body = _chat_base("chat.completion.chunk") | {
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}]
        }
        return _chunk(b"data: " + json.dumps(body).encode() + b"\n\n")

    events = [event({"role": "assistant", "content": ""}, None)]
    events += [event({"content": WORDS[i % len(WORDS)]}, None) for i in range(n)]
    events.append(event({}, "length"))
    events.append(_chunk(b"data: [DONE]\n\n"))
    return tuple(events)


@lru_cache(maxsize=8)
def vector(dim: int = DIM) -> list[float]:
    raw = [((i * 7919) % 1000) / 1000.0 - 0.5 for i in range(dim)]
    norm = sum(v * v for v in raw) ** 0.5
    return [round(v / norm, 6) for v in raw]


@lru_cache(maxsize=64)
def tei_answer(n: int, dim: int) -> bytes:
    return _http("200 OK", json.dumps([vector(dim)] * n).encode(), extra=f"x-compute-tokens: {n * 8}\r\n")


@lru_cache(maxsize=64)
def openai_embeddings(n: int, b64: bool) -> bytes:
    vec: Any = base64.b64encode(struct.pack(f"<{DIM}f", *vector())).decode() if b64 else vector()
    data = [{"object": "embedding", "index": i, "embedding": vec} for i in range(n)]
    body = {"object": "list", "data": data, "model": MODEL, "usage": {"prompt_tokens": n * 8, "total_tokens": n * 8}}
    return _http("200 OK", json.dumps(body).encode())


@lru_cache(maxsize=64)
def tei_rerank(n: int) -> bytes:
    """TEI's `/rerank` answer: one `{index, score}` per text, best first, with the tokens it read in a header."""
    ranks = sorted(
        ({"index": i, "score": round(1.0 / (1 + (i * 37) % n), 6)} for i in range(n)), key=lambda r: -r["score"]
    )
    return _http("200 OK", json.dumps(ranks).encode(), extra=f"x-compute-tokens: {n * 8}\r\n")


class Server:
    def __init__(self, embed_latency: float, batch_limit: int, pace: float, slots: int = 0) -> None:
        self.slots = asyncio.Semaphore(slots) if slots else None
        self.embed_latency = embed_latency
        self.batch_limit = batch_limit
        self.pace = pace
        self.counts: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    if line[:15].lower() == "content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                await self.route(method, target.split("?", 1)[0], body, writer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def route(self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter) -> None:
        self.counts[f"{method} {path}"] += 1
        dim = DIM
        if path.startswith("/d") and path[2:3].isdigit():  # `/d16/embed`: the same routes with 16-float vectors
            prefix, _, rest = path[1:].partition("/")
            dim, path = int(prefix[1:]), "/" + rest
        if method == "GET" and path == "/info":
            # TEI's shape (`model_type`), so clients that ask what the server is take its `/embed` route.
            info = {
                "model_id": MODEL,
                "model_type": {"embedding": {"pooling": "mean"}},
                "max_client_batch_size": self.batch_limit,
                "max_batch_total_tokens": 65536,
            }
            writer.write(_http("200 OK", json.dumps(info).encode()))
            return
        if method == "GET" and path == "/bench/stats":
            stats = {"counts": dict(self.counts), "max_in_flight": self.max_in_flight}
            writer.write(_http("200 OK", json.dumps(stats).encode()))
            return
        if method == "POST" and path == "/bench/reset":
            self.counts.clear()
            self.max_in_flight = 0
            writer.write(_http("200 OK", b"{}"))
            return
        payload = json.loads(body) if body else {}
        if path in ("/", "/generate", "/generate_stream"):
            n = int((payload.get("parameters") or {}).get("max_new_tokens") or 32)
            if path == "/generate_stream" or (path == "/" and payload.get("stream")):
                await self.stream(writer, tgi_events(n))
            else:
                writer.write(tgi_answer(n, as_list=path == "/"))
        elif path == "/embed":
            await self.embed(writer, payload, dim)
        elif path == "/v1/chat/completions":
            n = int(payload.get("max_tokens") or payload.get("max_completion_tokens") or 32)
            if payload.get("stream"):
                await self.stream(writer, openai_events(n))
            else:
                writer.write(openai_answer(n))
        elif path == "/v1/embeddings":
            await self.embed(writer, payload, dim, openai=True)
        elif path == "/rerank":
            count = len(payload.get("texts") or [])
            if count > self.batch_limit:
                message = f"batch size {count} > maximum allowed batch size {self.batch_limit}"
                writer.write(_http("413 Payload Too Large", json.dumps({"error": message}).encode()))
            else:
                writer.write(tei_rerank(count))  # at once, no latency: the row measures CPU per call
        else:
            writer.write(_http("404 Not Found", b'{"error": "no such route", "error_type": "not_found"}'))

    async def embed(
        self, writer: asyncio.StreamWriter, payload: dict[str, Any], dim: int, openai: bool = False
    ) -> None:
        inputs = payload.get("input" if openai else "inputs")
        count = 1 if isinstance(inputs, str) else len(inputs or [])
        if openai:
            b64 = payload.get("encoding_format") == "base64"
            await self.limited(count, writer, lambda: openai_embeddings(count, b64))
        else:
            await self.limited(count, writer, lambda: tei_answer(count, dim))

    async def limited(self, count: int, writer: asyncio.StreamWriter, answer: Any) -> None:
        """TEI's batch limit (413 over it) and `--embed-latency-ms` per request, counting requests in flight."""
        if count > self.batch_limit:
            message = f"batch size {count} > maximum allowed batch size {self.batch_limit}"
            err = {"error": message, "error_type": "Validation"}
            writer.write(_http("413 Payload Too Large", json.dumps(err).encode()))
            return
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.slots is not None:
                async with self.slots:
                    await asyncio.sleep(self.embed_latency)
            elif self.embed_latency:
                await asyncio.sleep(self.embed_latency)
        finally:
            self.in_flight -= 1
        writer.write(answer())

    async def stream(self, writer: asyncio.StreamWriter, events: tuple[bytes, ...]) -> None:
        writer.write(STREAM_HEAD)
        if not self.pace:
            # Slices keep the server's own buffers small on very long streams.
            for start in range(0, len(events), 256):
                writer.write(b"".join(events[start : start + 256]))
                await writer.drain()
        else:
            for event in events:
                writer.write(event)
                await writer.drain()
                await asyncio.sleep(self.pace)
        writer.write(STREAM_END)


async def main(args: argparse.Namespace) -> None:
    server = Server(args.embed_latency_ms / 1000, args.batch_limit, args.pace_ms / 1000, args.embed_slots)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, backlog=256)
    port = listener.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with listener:
        await listener.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embed-latency-ms", type=float, default=20.0)
    parser.add_argument("--batch-limit", type=int, default=32)
    parser.add_argument("--pace-ms", type=float, default=0.0)
    parser.add_argument("--embed-slots", type=int, default=0)
    try:
        asyncio.run(main(parser.parse_args()))
    except KeyboardInterrupt:
        sys.exit(0)

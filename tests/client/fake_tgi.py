"""A fake TGI/TEI for `httpx.MockTransport`: answers shaped like the real servers' (protocols.md §1, §3, §4)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx


def sse(events: Sequence[dict[str, Any] | str], *, space: bool = False) -> bytes:
    """Encode events as TGI does (`data:{json}` then a blank line; no [DONE] on native routes)."""
    sep = "data: " if space else "data:"
    out = []
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        out.append(f"{sep}{data}\n\n")
    return "".join(out).encode()


def token_events(
    pieces: Sequence[str],
    *,
    finish: str = "eos_token",
    eos: str | None = "</s>",
    input_length: int = 7,
    seed: int | None = None,
) -> list[dict[str, Any]]:
    """A /generate_stream event list: one event per piece, then the EOS special token with details."""
    events: list[dict[str, Any]] = []
    for i, text in enumerate(pieces):
        events.append(
            {
                "index": i + 1,
                "token": {"id": 100 + i, "text": text, "logprob": -0.5, "special": False},
                "generated_text": None,
                "details": None,
            }
        )
    full = "".join(pieces)
    last = {"id": 2, "text": eos or "", "logprob": -0.1, "special": True}
    if eos is None:
        events[-1]["generated_text"] = full
        events[-1]["details"] = {
            "finish_reason": finish,
            "generated_tokens": len(pieces),
            "seed": seed,
            "input_length": input_length,
        }
        return events
    events.append(
        {
            "index": len(pieces) + 1,
            "token": last,
            "generated_text": full,
            "details": {
                "finish_reason": finish,
                "generated_tokens": len(pieces) + 1,
                "seed": seed,
                "input_length": input_length,
            },
        }
    )
    return events


def generate_body(
    text: str, *, finish: str = "eos_token", tokens: int = 5, root: bool = True, token_list: Sequence[str] | None = None
) -> Any:
    details: dict[str, Any] = {"finish_reason": finish, "generated_tokens": tokens, "seed": None, "prefill": []}
    if token_list is not None:
        details["tokens"] = [{"id": i, "text": t, "logprob": -0.25, "special": False} for i, t in enumerate(token_list)]
        details["top_tokens"] = [
            [
                {"id": i, "text": t, "logprob": -0.25, "special": False},
                {"id": 99, "text": "x", "logprob": -3.0, "special": False},
            ]
            for i, t in enumerate(token_list)
        ]
    obj = {"generated_text": text, "details": details}
    return [obj] if root else obj


@dataclass
class FakeServer:
    """Records requests and answers each with the next scripted response (the last one repeats)."""

    responses: list[Callable[[httpx.Request], httpx.Response]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        index = min(len(self.requests) - 1, len(self.responses) - 1)
        return self.responses[index](request)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.content]


def reply(
    status: int = 200, *, json_body: Any = None, content: bytes | None = None, headers: dict[str, str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    def make(request: httpx.Request) -> httpx.Response:
        if content is not None:
            return httpx.Response(status, content=content, headers=headers)
        return httpx.Response(status, json=json_body, headers=headers)

    return make


def stream_reply(events: Sequence[dict[str, Any] | str], **kw: Any) -> Callable[[httpx.Request], httpx.Response]:
    return reply(200, content=sse(events, **kw), headers={"content-type": "text/event-stream"})


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body read only when asked (httpx reads plain `content` at once, so its responses start out closed)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self.data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data

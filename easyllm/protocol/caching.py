"""What the answer cache stores and under which key, as pure code (the store itself is `easyllm.cache`).

Keys are SHA-256 digests of the canonical request: the kind of call, the server's dialect, and every planned
request's method, URL and JSON body (model, prompt or messages, every sampling option, the seed, `stream`), with
keys sorted. Headers never enter a key, so neither does the token. Requests planned for a pool of endpoints carry
the pool's first URL, so every endpoint of the pool shares the entries.

- Chat and text completions: the whole answer (or, for a stream, every chunk) under the key of the call.
  `reproducible` says when that is safe to replay (greedy decoding or a fixed seed). A replayed answer is the
  same dict a live one was, with `usage.cached = True` and `usage.cost = 0.0`.
- Embeddings: one entry per input text, under the key of the batch request with that text alone in it
  (`embedding_keys`), so a corpus with a few new texts sends only those. `merge_embeddings` joins cached and
  fresh vectors in input order; its usage counts only the tokens sent, with `cached_inputs` saying how many
  inputs came from the cache (`cached` and a zero `cost` when all did).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from array import array
from collections.abc import Mapping, Sequence
from typing import Any

from easyllm.protocol.generation import HTTPCall

__all__ = [
    "KEY_VERSION",
    "completion_key",
    "embedding_keys",
    "mark_cached",
    "merge_embeddings",
    "pack_embedding",
    "reproducible",
    "request_identity",
    "unpack_embedding",
]

#: Bumped whenever what is stored changes shape, so old entries are simply never found again.
KEY_VERSION = 1


def _digest(canonical: object) -> str:
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: Header names that carry credentials: never part of a key (the token is not; neither is an API key header).
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|signature", re.IGNORECASE)


def request_identity(call: HTTPCall) -> list[Any]:
    """What identifies a request in a key: method, URL, JSON body, query parameters and safe headers.

    Headers that look like credentials are left out (`extra_headers` may change an answer; a token must never
    enter a key).

    Example:
        >>> request_identity(HTTPCall("POST", "http://h/x", {"a": 1}, headers={"X-Api-Key": "s", "X-Mode": "m"}))
        ['POST', 'http://h/x', {'a': 1}, None, {'x-mode': 'm'}]
    """
    headers = {k.lower(): v for k, v in (call.headers or {}).items() if not _SECRET_HEADER.search(k)}
    return [call.method, call.url, call.json, dict(call.params) if call.params else None, headers]


def completion_key(kind: str, dialect: str, calls: Sequence[HTTPCall], shaping: Mapping[str, Any]) -> str:
    """The key of a chat or text completion.

    It digests the requests (one per sample), the dialect that answers them, and what shapes the answer on the
    client (`shaping`: the checked options and the stop strings, some of which never reach the server, such as
    `stream_options` or stops beyond a server's limit).

    Example:
        >>> call = HTTPCall("POST", "http://h/v1/chat/completions", {"x": 1})
        >>> completion_key("chat", "openai", [call], {}) == completion_key("chat", "openai", [call], {})
        True
    """
    requests = [request_identity(call) for call in calls]
    return _digest({"v": KEY_VERSION, "kind": kind, "dialect": dialect, "requests": requests, "shaping": shaping})


def reproducible(options: object) -> bool:
    """Whether a completion's options make its answer repeatable: greedy (`temperature=0`, `top_p=0`) or seeded."""
    return (
        getattr(options, "temperature", None) == 0
        or getattr(options, "top_p", None) == 0
        or getattr(options, "seed", None) is not None
    )


def embedding_keys(dialect: str, identity: Mapping[str, Any], texts: Sequence[str]) -> list[str]:
    """One key per text: the dialect, what identifies the request but its inputs, and the text.

    `identity` holds what identifies the planned requests (`request_identity` of one with a placeholder input)
    and how vectors are finished on the client (`normalize`, `encoding_format`, `dimensions`).

    Example:
        >>> ident = {"url": "http://h/embed", "model": "m", "normalize": True}
        >>> embedding_keys("tei", ident, ["a", "b"])[0] == embedding_keys("tei", ident, ["a"])[0]
        True
    """
    head = json.dumps(
        {"v": KEY_VERSION, "kind": "embedding", "dialect": dialect, **identity},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode("utf-8")  # fmt: skip
    keys = []
    for text in texts:
        digest = hashlib.sha256(head)
        digest.update(b"\x00")
        digest.update(text.encode("utf-8"))
        keys.append(digest.hexdigest())
    return keys


def pack_embedding(model: str, embedding: list[float] | str) -> list[Any]:
    """An embedding as stored: `[model, "f32" or "f64", base64 of the values]`, or `[model, "b64", the string]`.

    Values are kept exactly as the server sent them: as float32 when every one is a float32 (TEI and most servers
    compute in float32), else as float64; little-endian either way.

    Example:
        >>> pack_embedding("m", [0.5, -2.0])
        ['m', 'f32', 'AAAAPwAAAMA=']
    """
    if isinstance(embedding, str):
        return [model, "b64", embedding]
    single = array("f", embedding)
    values = single if single.tolist() == embedding else array("d", embedding)
    if sys.byteorder == "big":  # pragma: no cover - stored little-endian everywhere
        values.byteswap()
    form = "f32" if values.typecode == "f" else "f64"
    return [model, form, base64.b64encode(values.tobytes()).decode("ascii")]


def unpack_embedding(value: object) -> tuple[str, list[float] | str] | None:
    """(model, embedding) from a stored value; None for anything not written by `pack_embedding`."""
    if not isinstance(value, list) or len(value) != 3 or not all(isinstance(part, str) for part in value):
        return None
    model, form, data = value
    if form == "b64":
        return model, data
    if form not in ("f32", "f64"):
        return None
    values = array("f") if form == "f32" else array("d")
    raw = base64.b64decode(data)
    if len(raw) % values.itemsize:
        return None
    values.frombytes(raw)
    if sys.byteorder == "big":  # pragma: no cover
        values.byteswap()
    return model, values.tolist()


def merge_embeddings(
    count: int,
    cached: Mapping[int, tuple[str, list[float] | str]],
    fresh_positions: Sequence[int],
    fresh: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One embedding answer for `count` inputs: those in `cached` (by position) and the `fresh` answer's.

    `fresh` answered the inputs at `fresh_positions`, in that order (its items' `index` counts from 0). Items
    come out in input order, each `index` the input's position.
    """
    data: list[Any] = [None] * count
    for position, (_, embedding) in cached.items():
        data[position] = {"object": "embedding", "index": position, "embedding": embedding}
    usage: dict[str, Any]
    if fresh is not None:
        for item in fresh["data"]:
            position = fresh_positions[item["index"]]
            data[position] = {"object": "embedding", "index": position, "embedding": item["embedding"]}
        usage = dict(fresh["usage"])
        model = fresh["model"]
    else:
        usage = {"prompt_tokens": 0, "total_tokens": 0, "cached": True, "cost": 0.0}
        model = next(iter(cached.values()))[0]
    if cached:
        usage["cached_inputs"] = len(cached)
    return {"object": "list", "data": data, "model": model, "usage": usage}


def mark_cached(answer: dict[str, Any]) -> dict[str, Any]:
    """A stored answer or chunk as replayed: its usage (when it has one) says cached and free."""
    usage = answer.get("usage")
    if isinstance(usage, dict):
        usage["cached"] = True
        usage["cost"] = 0.0
    return answer

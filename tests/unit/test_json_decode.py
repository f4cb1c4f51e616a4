"""`easyllm.protocol.json_decode.loads` gives exactly what `json.loads` gives, on server answers and edge cases."""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from easyllm.protocol import json_decode
from easyllm.protocol.json_decode import loads
from tests.client.fake_tgi import generate_body, sse, token_events
from tests.client.v1_helpers import chat_body, chunk, usage_chunk


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (`1 == 1.0` is not enough); NaN equals NaN; -0.0 is not 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def outcome(decode: Any, body: bytes | str) -> tuple[str, Any]:
    try:
        return "value", decode(body)
    except ValueError as err:
        return "error", type(err)


def check(body: bytes | str) -> None:
    """`loads` gives the objects `json.loads` gives, or raises the same `ValueError` subclass."""
    got, expected = outcome(loads, body), outcome(json.loads, body)
    assert got[0] == expected[0] and (same(got[1], expected[1]) if got[0] == "value" else got[1] is expected[1])


# ---------------------------------------------------------------- bodies shaped like the servers' answers

VECTOR = [0.0123457, -0.0456789, 0.333333, -1.5e-05, 0.0, 1.0, -0.99999994, 3.4028235e38]
TGI_GENERATE = {
    "generated_text": " the quick brown fox",
    "details": {
        "finish_reason": "length",
        "generated_tokens": 4,
        "seed": 18446744073709551615,  # u64::MAX: TGI's seed is a u64
        "prefill": [{"id": 1, "text": "<s>", "logprob": None}],
        "tokens": [{"id": 278, "text": " the", "logprob": -0.3466797, "special": False}],
        "top_tokens": [[{"id": 278, "text": " the", "logprob": -0.3466797, "special": False}]],
    },
}
VLLM_CHAT = {
    "id": "chatcmpl-9b1f0c5e6a3c4f0f8d8f6f2b7f1e2d3c",
    "object": "chat.completion",
    "created": 1764652800,
    "model": "Qwen/Qwen3-0.6B",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris.", "reasoning": "Capital of France…", "tool_calls": []},
            "logprobs": {"content": [{"token": "Paris", "logprob": -9999.0, "bytes": [80, 97], "top_logprobs": []}]},
            "finish_reason": "stop",
            "stop_reason": None,
        }
    ],
    "usage": {"prompt_tokens": 12, "total_tokens": 14, "completion_tokens": 2, "prompt_tokens_details": None},
    "prompt_logprobs": None,
    "kv_transfer_params": None,
}
LLAMA_CPP_CHAT = {
    "choices": [{"finish_reason": "stop", "index": 0, "message": {"role": "assistant", "content": "Ünïcödé ✓ 😀"}}],
    "created": 1764652800,
    "model": "smollm2",
    "system_fingerprint": "b6000-abcdef12",
    "object": "chat.completion",
    "usage": {"completion_tokens": 5, "prompt_tokens": 9, "total_tokens": 14},
    "id": "chatcmpl-Xy12",
    "timings": {"prompt_n": 9, "prompt_ms": 12.345, "predicted_per_second": 81.30081300813008},
}
OPENAI_EMBEDDINGS = {
    "object": "list",
    "data": [{"object": "embedding", "index": i, "embedding": VECTOR} for i in range(3)],
    "model": "sentence-transformers/all-MiniLM-L6-v2",
    "usage": {"prompt_tokens": 24, "total_tokens": 24},
}
BASE64_EMBEDDINGS = {
    **OPENAI_EMBEDDINGS,
    "data": [{"object": "embedding", "index": 0, "embedding": base64.b64encode(struct.pack("<8f", *VECTOR)).decode()}],
}
TEI_EMBED = [VECTOR, [v / 2 for v in VECTOR]]
TEI_ERROR = {"error": "batch size 64 > maximum allowed batch size 32", "error_type": "Validation"}

BODIES = [
    TGI_GENERATE,
    [TGI_GENERATE],
    generate_body("Hello there", token_list=["Hello", " there"]),
    VLLM_CHAT,
    LLAMA_CPP_CHAT,
    chat_body("Hi", usage={"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}),
    OPENAI_EMBEDDINGS,
    BASE64_EMBEDDINGS,
    TEI_EMBED,
    TEI_ERROR,
    {"info": {"model_id": "m", "max_client_batch_size": 32, "model_type": {"embedding": {"pooling": "mean"}}}},
]


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
@pytest.mark.parametrize("encode", [json.dumps, lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))])
def test_server_bodies_decode_to_the_same_objects(body: Any, encode: Any) -> None:
    text = encode(body)
    check(text.encode())
    check(text)


def test_stream_events_decode_to_the_same_objects() -> None:
    events = [*token_events(["He", "llo", " wörld"], seed=42), chunk({"content": "x"}), usage_chunk()]
    for line in sse(events).decode().splitlines():
        if line.startswith("data:"):
            check(line[5:])


# ---------------------------------------------------------------- edge cases: what orjson alone would get wrong


@pytest.mark.parametrize(
    "text",
    [
        '{"logprob": NaN}',  # Python servers' json.dumps writes these; orjson refuses them
        "[Infinity, -Infinity]",
        "[1e400, -1e400]",  # beyond a double: inf in json
        '{"seed": 18446744073709551616}',  # beyond 64 bits: orjson would give a float
        '{"id": -9223372036854775809}',
        "[123456789012345678901234567890]",
        '{"created": 9223372036854775807, "seed": 18446744073709551615}',  # within 64 bits
        '"\\ud800"',  # a lone surrogate escape
        "\ufeff[1]",  # a byte-order mark: json reads it in bytes, refuses it in text
        "[0.1, 1E5, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]",
        '{"a": 1, "a": 2}',  # duplicate keys: the last wins in both
        '"\\u0000 \\u00e9 \\ud83d\\ude00"',
    ],
)
def test_edge_cases_decode_as_json_does(text: str) -> None:
    check(text.encode("utf-8", "surrogatepass"))
    check(text)


@pytest.mark.parametrize(
    "body",
    [
        b"\xef\xbb\xbf[1]",  # UTF-8 with a byte-order mark: json reads it
        "[1, 2]".encode("utf-16"),  # json detects UTF-16 and UTF-32
        "[1, 2]".encode("utf-32-le"),
    ],
)
def test_encodings_json_detects_decode_as_json_does(body: bytes) -> None:
    check(body)


@pytest.mark.parametrize("body", [b'["\xff\xfe"]', b"\xc3(", b"", b"not json", b"[1,]", b'{"a": 1} trailing'])
def test_what_json_refuses_raises_the_same_value_error(body: bytes) -> None:
    assert outcome(json.loads, body)[0] == "error"  # non-UTF-8 bytes: UnicodeDecodeError; the rest: JSONDecodeError
    check(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_any_document_json_writes_decodes_to_the_same_objects(value: Any) -> None:
    text = json.dumps(value)
    check(text)
    check(text.encode())


@given(json_values)
def test_without_orjson_the_standard_library_decodes(value: Any) -> None:
    text = json.dumps(value)
    saved = json_decode._native
    json_decode._native = None
    try:
        assert same(loads(text), json.loads(text))
    finally:
        json_decode._native = saved

"""`easyllm.protocol.vector_answers`: embedding answers decoded in one pass read exactly as the general path reads them.

The reference is what easyllm did before: `json.loads` (the objects `json_decode.loads` gives), then
`tei.vectors_from_feature_extraction` or the OpenAI reader, with their errors.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from easyllm.errors import APIResponseValidationError
from easyllm.protocol import embeddings, json_decode, tei
from easyllm.protocol.generation import Reply
from easyllm.protocol.vector_answers import _only_floats, base64_embeddings, float_rows
from tests.unit.test_json_decode import same


def outcome(read: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "value", read(*args)
    except (APIResponseValidationError, ValueError, OverflowError) as err:
        return "error", (type(err), str(err))


def same_outcome(got: tuple[str, Any], expected: tuple[str, Any]) -> bool:
    return got[0] == expected[0] and (same(got[1], expected[1]) if got[0] == "value" else got[1] == expected[1])


def tei_vectors(decode: Any, body: bytes, n_inputs: int) -> Any:
    return tei.vectors_from_feature_extraction(decode(body), n_inputs)


def check_tei(body: bytes, n_inputs: int) -> None:
    """The vectors (or the error) of `float_rows` + the reader equal those of `json.loads` + the reader."""
    got, expected = outcome(tei_vectors, float_rows, body, n_inputs), outcome(tei_vectors, json.loads, body, n_inputs)
    assert same_outcome(got, expected), (body[:200], got, expected)


# ---------------------------------------------------------------- TEI `/embed`: `[[number, ...], ...]`

finite = st.floats(allow_nan=False, allow_infinity=False)
float32s = st.floats(allow_nan=False, allow_infinity=False, width=32)
numbers = finite | float32s | st.integers(-(2**70), 2**70) | st.integers(-5, 5)


@given(st.lists(st.lists(numbers, min_size=1, max_size=8), min_size=1, max_size=5), st.booleans())
def test_number_rows_read_as_the_general_path_reads_them(rows: list[list[Any]], compact: bool) -> None:
    separators = (",", ":") if compact else (", ", ": ")
    body = json.dumps(rows, separators=separators).encode()
    decoded = float_rows(body)
    assert type(decoded) is tei.FloatRows  # the one-pass path was taken
    check_tei(body, len(rows))
    if all(type(x) is float or abs(x) < 2**53 for row in rows for x in row):  # sums of exact big ints differ
        check_tei(body, 1)  # a single input with several rows is a token matrix, pooled as before


@pytest.mark.parametrize(
    "body",
    [
        b"[[0.0123457, -0.0456789, 1E5, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]]",
        b"[[1, 2, 3], [4, 5, 6]]",  # ints become floats, as the general check converts them
        b"[[123456789012345678901234567890, 0.5]]",  # beyond 64 bits: the same float as float(int)
        b"[[NaN, Infinity, -Infinity], [1e400, -1e400, 1e-400]]",  # what Python servers write
        b" \n [ [ 0.5 , 1.5 ] ]\n",
    ],
)
def test_number_bodies_servers_write_read_as_before(body: bytes) -> None:
    assert type(float_rows(body)) is tei.FloatRows
    check_tei(body, len(json.loads(body)))


@pytest.mark.parametrize(
    "body",
    [
        b"[[true, 0.5]]",  # booleans are not numbers
        b'[[0.5, "0.5"]]',
        b"[[0.5, null]]",
        b"[[]]",
        b"[[0.5], []]",
        b"[[0.5, 1.0], [0.5]]",  # ragged
        b"[[[0.5, 1.0], [1.5, 2.0]]]",  # a token matrix per input: pooled
        b"[0.5, 1.0]",  # one bare vector
        b"[]",
        b'{"error": "Model is overloaded", "error_type": "overloaded"}',
        b"[[0.5, 1.0]",  # cut short
        b"[[0.5, 1.0]] trailing",
        b"\xef\xbb\xbf[[0.5]]",  # a byte-order mark: json reads it
    ],
)
def test_other_bodies_read_exactly_as_the_general_path_reads_them(body: bytes) -> None:
    for n_inputs in (1, 2):
        check_tei(body, n_inputs)


def test_a_huge_integer_reads_as_infinity_like_1e400() -> None:
    """Before, `float()` of a 400-digit integer escaped as an OverflowError; now it reads as `1e400` reads."""
    assert float_rows(b"[[" + b"9" * 400 + b", 0.5]]") == [[float("inf"), 0.5]]


def test_float_rows_is_a_plain_list_to_callers() -> None:
    rows = tei.vectors_from_feature_extraction(float_rows(b"[[0.5, 1.0], [2.0, 3.0]]"), 2)
    assert type(rows) is list and rows == [[0.5, 1.0], [2.0, 3.0]]


# ---------------------------------------------------------------- OpenAI-compatible `/embeddings`, base64


def b64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def openai_body(embeddings_: list[Any], **extra: Any) -> bytes:
    data = [{"object": "embedding", "index": i, "embedding": e} for i, e in reversed(list(enumerate(embeddings_)))]
    usage = {"prompt_tokens": 7, "total_tokens": 7}
    return json.dumps({"object": "list", "data": data, "model": "m", "usage": usage, **extra}).encode()


def read_openai(decode: Any, body: bytes, expected: int) -> Any:
    plan = embeddings.plan_embeddings(
        ["x"] * expected,
        model="m",
        wire="openai",
        url="http://127.0.0.1/v1/embeddings",
        max_batch_size=32,
        normalize=False,
        encoding_format=None,
        dimensions=None,
    )
    return plan.read(range(expected), Reply(decode(body), {}))


def check_openai(body: bytes, expected: int) -> None:
    """The same batch, or the same error (its message may show the answer, with the vectors as decoded bytes)."""
    got = outcome(read_openai, base64_embeddings, body, expected)
    before = outcome(read_openai, json.loads, body, expected)
    if got[0] == "value":
        assert before[0] == "value" and got[1] == before[1]
    else:
        (kind, message), (kind_before, message_before) = got[1], before[1]
        assert kind is kind_before and message.partition(" got ")[0] == message_before.partition(" got ")[0]


@given(st.lists(st.lists(float32s, min_size=1, max_size=6), min_size=1, max_size=4))
def test_base64_vectors_read_as_the_general_path_reads_them(vectors: list[list[float]]) -> None:
    width = len(vectors[0])
    vectors = [(v * width)[:width] for v in vectors]
    body = openai_body([b64(v) for v in vectors])
    decoded = base64_embeddings(body)
    assert isinstance(decoded, dict) and all(type(item["embedding"]) is bytes for item in decoded["data"])
    assert decoded["usage"] == {"prompt_tokens": 7, "total_tokens": 7} and decoded["object"] == "list"
    check_openai(body, len(vectors))


@pytest.mark.parametrize(
    "body",
    [
        openai_body([[0.5, 1.0], [1.5, 2.0]]),  # floats although base64 was asked: read as floats
        openai_body(["not base64!", b64([0.5])]),
        openai_body(["AAAA", "AAAAAA=="]),  # 3 and 4 bytes, then one float and a partial one
        openai_body([b64([0.5]), b64([0.5, 1.0])]),  # different lengths
        openai_body(["", ""]),
        openai_body([b64([0.5])]),  # one vector for two inputs
        b'{"error": {"message": "model not found", "type": "invalid_request_error"}}',
    ],
)
def test_other_openai_bodies_read_as_the_general_path_reads_them(body: bytes) -> None:
    check_openai(body, 2)


def test_bytes_that_are_not_a_whole_number_of_floats_are_refused() -> None:
    body = openai_body([base64.b64encode(b"\x00" * 6).decode()])
    with pytest.raises(APIResponseValidationError, match="6 bytes"):
        read_openai(base64_embeddings, body, 1)


# ---------------------------------------------------------------- the plan asks for these decoders


@pytest.mark.parametrize(
    ("wire", "encoding", "decoder"),
    [("tei", None, float_rows), ("pipeline", None, float_rows), ("openai", None, base64_embeddings)],
)
def test_each_embedding_request_names_the_decoder_for_its_answer(wire: Any, encoding: Any, decoder: Any) -> None:
    plan = embeddings.plan_embeddings(
        ["a", "b"],
        model="m",
        wire=wire,
        url="http://127.0.0.1/embed",
        max_batch_size=32,
        normalize=True,
        encoding_format=encoding,
        dimensions=None,
        wire_format="base64" if wire == "openai" else "float",
    )
    assert plan.call(range(2)).decode is decoder
    if wire == "openai":  # asking for floats: the answer is read as JSON
        assert plan.call(range(2), "float").decode is None


@pytest.mark.parametrize("body", [b"[[0.5, 1, -0.0], [2e3, 18446744073709551616, 3.25]]", b"[[NaN, 0.5]]"])
def test_without_orjson_rows_read_the_same(body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    with_orjson = float_rows(body)
    monkeypatch.setattr(json_decode, "_native", None)
    assert type(float_rows(body)) is tei.FloatRows and same(float_rows(body), with_orjson)
    check_tei(body, 2)


_row_values = st.one_of(
    finite, float32s, st.integers(-(2**70), 2**70), st.booleans(), st.none(), st.text(max_size=3),
    st.lists(finite, max_size=2), st.just(float("nan")),
)  # fmt: skip


@given(st.lists(st.one_of(st.lists(_row_values, max_size=5), finite, st.integers()), min_size=1, max_size=5))
def test_the_byte_proof_holds_only_for_rows_of_floats(rows: list[Any]) -> None:
    """Whatever the body, `_only_floats` is true only when orjson's reading is non-empty rows of floats."""
    body = json.dumps(rows).encode()
    try:
        parsed = json_decode.loads_floats(body)
    except ValueError:
        return  # NaN: orjson refuses it; the proof is never asked
    if _only_floats(body, parsed):
        assert all(type(row) is list and row and all(type(v) is float for v in row) for row in parsed)
        assert type(float_rows(body)) is tei.FloatRows
        check_tei(body, len(rows))


def test_tei_s_usual_answer_takes_the_byte_proof() -> None:
    body = b"[[0.018533442,-0.0020181704,1.2345e-5],[0.5,-0.25,3.0]]"
    assert _only_floats(body, json_decode.loads_floats(body))
    assert not _only_floats(b"[[1e-5, 0.5]]", [[1e-5, 0.5]])  # no point: the full check decides
    assert not _only_floats(b'{"a": 0.5}', {"a": 0.5}) and not _only_floats(b"[0.5]", [0.5])

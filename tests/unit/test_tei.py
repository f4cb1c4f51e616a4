from __future__ import annotations

import base64
import itertools
import json
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from easyllm.errors import APIResponseValidationError, InvalidParameterError
from easyllm.protocol.tei import (
    PAYLOAD_OVERHEAD_BYTES,
    decode_base64,
    encode_base64,
    l2_normalize,
    plan_batches,
    truncate_dimensions,
    unit_length,
    vectors_from_feature_extraction,
)

# Two inputs, three tokens each, hidden size 2.
TOKENS_A = [[1.0, 2.0], [3.0, 4.0], [5.0, 9.0]]
TOKENS_B = [[0.0, 0.0], [2.0, 2.0], [4.0, 4.0]]
MEAN_A, MEAN_B = [3.0, 5.0], [2.0, 2.0]

# --- vectors_from_feature_extraction: the shapes of protocols.md §4.4 ---


@pytest.mark.parametrize(
    ("data", "n_inputs", "expected"),
    [
        pytest.param([0.5, 1.5], 1, [[0.5, 1.5]], id="depth1-sentence-transformers-single"),
        pytest.param([[0.5, 1.5]], 1, [[0.5, 1.5]], id="depth2-tei-single"),
        pytest.param([[0.5, 1.5], [2.5, 3.5]], 2, [[0.5, 1.5], [2.5, 3.5]], id="depth2-list"),
        pytest.param(TOKENS_A, 1, [MEAN_A], id="depth2-bare-token-matrix-single"),
        pytest.param([TOKENS_A], 1, [MEAN_A], id="depth3-transformers-single-1xTxH"),
        pytest.param([TOKENS_A, TOKENS_B], 2, [MEAN_A, MEAN_B], id="depth3-list-NxTxH"),
        pytest.param([[TOKENS_A], [TOKENS_B]], 2, [MEAN_A, MEAN_B], id="depth4-Nx1xTxH"),
        pytest.param([[TOKENS_A, TOKENS_B]], 2, [MEAN_A, MEAN_B], id="depth4-1xNxTxH"),
        pytest.param([[TOKENS_A]], 1, [MEAN_A], id="depth4-single"),
        pytest.param([], 0, [], id="no-inputs"),
    ],
)
def test_shapes_mean_pooling(data: object, n_inputs: int, expected: list[list[float]]) -> None:
    assert vectors_from_feature_extraction(data, n_inputs) == expected


@pytest.mark.parametrize(
    ("data", "n_inputs", "expected"),
    [
        pytest.param(TOKENS_A, 1, [TOKENS_A[0]], id="depth2-bare-token-matrix"),
        pytest.param([TOKENS_A], 1, [TOKENS_A[0]], id="depth3-single"),
        pytest.param([TOKENS_A, TOKENS_B], 2, [TOKENS_A[0], TOKENS_B[0]], id="depth3-list"),
        pytest.param([[TOKENS_A], [TOKENS_B]], 2, [TOKENS_A[0], TOKENS_B[0]], id="depth4"),
        pytest.param([[0.5, 1.5], [2.5, 3.5]], 2, [[0.5, 1.5], [2.5, 3.5]], id="depth2-vectors-not-pooled"),
    ],
)
def test_shapes_cls_pooling(data: object, n_inputs: int, expected: list[list[float]]) -> None:
    assert vectors_from_feature_extraction(data, n_inputs, pooling="cls") == expected


def test_ints_become_floats_and_float_rows_are_not_copied() -> None:
    data = [[1, 2], [3, 4.5], [0.5, 1.5]]
    vectors = vectors_from_feature_extraction(data, 3)
    assert vectors == [[1.0, 2.0], [3.0, 4.5], [0.5, 1.5]]
    assert all(type(x) is float for vector in vectors for x in vector)
    assert vectors[2] is data[2]  # already a list of floats: kept as decoded (10,000 x 384 floats add up)
    vectors[1][1] = 0.0
    assert data[1] == [3, 4.5]


def test_tuples_are_accepted() -> None:
    assert vectors_from_feature_extraction(((1.0, 3.0), (2.0, 4.0)), 2) == [[1.0, 3.0], [2.0, 4.0]]


def test_mean_pooling_of_int_tokens_is_float() -> None:
    (vector,) = vectors_from_feature_extraction([[[1, 2], [2, 4]]], 1)
    assert vector == [1.5, 3.0]
    assert all(type(x) is float for x in vector)


@pytest.mark.parametrize(
    ("data", "n_inputs"),
    [
        pytest.param([0.5, 1.5], 2, id="depth1-for-two-inputs"),
        pytest.param([[0.5], [1.5], [2.5]], 2, id="depth2-three-rows-for-two"),
        pytest.param([[0.5], [1.5]], 3, id="depth2-two-rows-for-three"),
        pytest.param([TOKENS_A, TOKENS_B], 3, id="depth3-two-matrices-for-three"),
        pytest.param([TOKENS_A, TOKENS_B], 1, id="depth3-two-matrices-for-one"),
        pytest.param([[TOKENS_A], [TOKENS_B]], 3, id="depth4-two-for-three"),
        pytest.param([[TOKENS_A, TOKENS_B], [TOKENS_A, TOKENS_B]], 2, id="depth4-not-one-matrix-each"),
        pytest.param([[[[[1.0]]]]], 1, id="depth5"),
        pytest.param([], 1, id="empty-answer-for-one-input"),
        pytest.param([[0.5]], 0, id="answer-for-no-inputs"),
        pytest.param([[]], 1, id="empty-vector"),
        pytest.param([[[]]], 1, id="empty-token-row"),
        pytest.param([[1.0, 2.0], [3.0]], 2, id="ragged-vectors"),
        pytest.param([[[1.0, 2.0], [3.0]]], 1, id="ragged-token-rows"),
        pytest.param([[1.0], []], 2, id="second-vector-empty"),
        pytest.param([[TOKENS_A], []], 2, id="second-matrix-empty"),
    ],
)
def test_shape_mismatch_raises(data: object, n_inputs: int) -> None:
    with pytest.raises(APIResponseValidationError, match="feature-extraction answer"):
        vectors_from_feature_extraction(data, n_inputs)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(None, id="null"),
        pytest.param(1.0, id="bare-number"),
        pytest.param("embedding", id="string"),
        pytest.param({"error": "Model is loading"}, id="error-object"),
        pytest.param(["0.5", "1.5"], id="string-numbers"),
        pytest.param([[0.5, None]], id="null-in-row"),
        pytest.param([[0.5, "x"]], id="string-in-row"),
        pytest.param([[True, False]], id="bools"),
        pytest.param([[0.5, [1.0]]], id="mixed-depth-row"),
        pytest.param([[[0.5, {}], [0.5, 1.0]]], id="dict-in-token-row"),
    ],
)
@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_non_numeric_raises(data: object, pooling: str) -> None:
    with pytest.raises(APIResponseValidationError, match="embedding"):
        vectors_from_feature_extraction(data, 1, pooling=pooling)  # type: ignore[arg-type]


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.integers(1, 4), st.integers(1, 5), st.data())
def test_mean_pooling_matches_a_plain_mean(n_tokens: int, hidden: int, data: st.DataObject) -> None:
    matrix = data.draw(
        st.lists(st.lists(finite, min_size=hidden, max_size=hidden), min_size=n_tokens, max_size=n_tokens)
    )
    (vector,) = vectors_from_feature_extraction([matrix], 1)
    for column, value in enumerate(vector):
        assert value == pytest.approx(sum(row[column] for row in matrix) / n_tokens, abs=1e-6)


@given(st.lists(st.lists(finite, min_size=3, max_size=3), min_size=1, max_size=6))
def test_depth2_rows_are_returned_unchanged(rows: list[list[float]]) -> None:
    assert vectors_from_feature_extraction(rows, len(rows)) == [[float(x) for x in row] for row in rows]


# --- l2_normalize / truncate_dimensions ---


def test_l2_normalize() -> None:
    assert l2_normalize([3.0, 4.0]) == pytest.approx([0.6, 0.8])
    assert l2_normalize([0.0, 0.0, 0.0]) == [0.0, 0.0, 0.0]
    assert l2_normalize([0, 0]) == [0.0, 0.0]
    assert l2_normalize([]) == []
    assert l2_normalize([-2.0]) == [-1.0]


@given(st.lists(finite, min_size=1, max_size=50).filter(lambda v: any(abs(x) > 1e-3 for x in v)))
def test_l2_normalize_gives_unit_length_same_direction(vec: list[float]) -> None:
    unit = l2_normalize(vec)
    assert math.hypot(*unit) == pytest.approx(1.0)
    norm = math.hypot(*vec)
    assert unit == pytest.approx([x / norm for x in vec])
    assert l2_normalize(unit) == pytest.approx(unit)


@given(st.lists(finite, min_size=1, max_size=50).filter(lambda v: any(abs(x) > 1e-3 for x in v)))
def test_unit_length_keeps_unit_vectors_and_normalises_the_rest(vec: list[float]) -> None:
    unit = unit_length(vec)
    assert math.hypot(*unit) == pytest.approx(1.0, abs=2e-6)
    assert unit == pytest.approx(l2_normalize(vec), rel=2e-6, abs=1e-12)
    assert unit_length(unit) is unit  # already unit length: the same list, nothing divided


def test_unit_length_of_float32_values_of_a_unit_vector_is_the_vector() -> None:
    values = [((i * 7919) % 1000) / 1000.0 - 0.5 for i in range(384)]
    norm = math.hypot(*values)
    as_sent = decode_base64(encode_base64([v / norm for v in values]))  # what a server's float32 answer holds
    assert unit_length(as_sent) is as_sent
    assert unit_length([0.0, 0.0]) == [0.0, 0.0]


def test_truncate_dimensions_keeps_prefix_and_renormalises() -> None:
    assert truncate_dimensions([3.0, 4.0, 12.0], 2) == pytest.approx([0.6, 0.8])
    assert truncate_dimensions([3.0, 4.0], 2) == pytest.approx([0.6, 0.8])
    assert truncate_dimensions([0.0, 0.0, 1.0], 2) == [0.0, 0.0]


@pytest.mark.parametrize("dimensions", [0, -1, 4])
def test_truncate_dimensions_refuses_out_of_range(dimensions: int) -> None:
    with pytest.raises(InvalidParameterError, match="between 1 and 3") as info:
        truncate_dimensions([1.0, 2.0, 3.0], dimensions)
    assert info.value.param == "dimensions"


# --- base64 ---

float32s = st.floats(width=32, allow_nan=False)


def test_base64_known_bytes() -> None:
    encoded = encode_base64([1.0, -2.0, 0.5])
    assert base64.b64decode(encoded) == bytes.fromhex("0000803f000000c00000003f")
    assert decode_base64(encoded) == [1.0, -2.0, 0.5]
    assert encode_base64([]) == ""
    assert decode_base64("") == []


@given(st.lists(float32s, max_size=64))
def test_base64_round_trip_is_exact_for_float32(vec: list[float]) -> None:
    assert decode_base64(encode_base64(vec)) == vec


@given(st.lists(float32s, max_size=64))
def test_base64_layout_matches_numpy_float32_le(vec: list[float]) -> None:
    np = pytest.importorskip("numpy")
    encoded = encode_base64(vec)
    assert base64.b64decode(encoded) == np.asarray(vec, dtype="<f4").tobytes()
    assert np.frombuffer(base64.b64decode(encoded), dtype="<f4").tolist() == decode_base64(encoded)


def test_base64_rounds_to_float32() -> None:
    (value,) = decode_base64(encode_base64([0.1]))
    assert value == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert value != 0.1


@pytest.mark.parametrize("data", ["not base64!", "AAAA=A==", "AACAPw==AA"])
def test_decode_base64_rejects_invalid_text(data: str) -> None:
    with pytest.raises(APIResponseValidationError, match="not valid base64"):
        decode_base64(data)


def test_decode_base64_rejects_partial_float() -> None:
    with pytest.raises(APIResponseValidationError, match="6 bytes"):
        decode_base64(base64.b64encode(b"\x00" * 6).decode())


# --- plan_batches ---


def payload_size(texts: list[str]) -> int:
    return len(json.dumps(texts).encode("utf-8")) + PAYLOAD_OVERHEAD_BYTES


def fits(texts: list[str], max_batch_size: int, max_payload_bytes: int) -> bool:
    return len(texts) <= max_batch_size and payload_size(texts) <= max_payload_bytes


@given(
    st.lists(st.text(max_size=40), max_size=60),
    st.integers(1, 10),
    st.one_of(st.integers(1, 400), st.integers(400, 60_000)),  # tight limits, and ones a window fits unmeasured
)
def test_plan_batches_properties(inputs: list[str], max_batch_size: int, max_payload_bytes: int) -> None:
    batches = plan_batches(inputs, max_batch_size=max_batch_size, max_payload_bytes=max_payload_bytes)
    # Every index exactly once, in order, in non-empty consecutive ranges.
    assert list(itertools.chain.from_iterable(batches)) == list(range(len(inputs)))
    assert all(batch.step == 1 and len(batch) >= 1 for batch in batches)
    for batch in batches:
        texts = [inputs[i] for i in batch]
        # Within the limits, unless a single input is too large on its own.
        assert fits(texts, max_batch_size, max_payload_bytes) or (
            len(batch) == 1 and payload_size(texts) > max_payload_bytes
        )
    # Greedy: no batch could have taken the next input too.
    for batch, following in itertools.pairwise(batches):
        texts = [inputs[i] for i in [*batch, following.start]]
        assert not fits(texts, max_batch_size, max_payload_bytes)


def test_plan_batches_by_count() -> None:
    batches = plan_batches(["x"] * 70, max_batch_size=32, max_payload_bytes=2_000_000)
    assert batches == [range(0, 32), range(32, 64), range(64, 70)]


def test_plan_batches_by_size_counts_escaped_utf8() -> None:
    texts = ["é" * 10, "b" * 10, "c" * 10]  # json.dumps("é" * 10) is 62 bytes: "\u00e9" ten times
    limit = payload_size(texts[:2])
    assert plan_batches(texts, max_batch_size=32, max_payload_bytes=limit) == [range(0, 2), range(2, 3)]
    assert plan_batches(texts, max_batch_size=32, max_payload_bytes=limit - 1) == [
        range(0, 1),
        range(1, 3),
    ]


def test_plan_batches_keeps_an_oversized_input_alone() -> None:
    texts = ["a", "b", "x" * 1000, "c", "d"]
    batches = plan_batches(texts, max_batch_size=32, max_payload_bytes=200)
    assert batches == [range(0, 2), range(2, 3), range(3, 5)]


def test_plan_batches_empty_and_many() -> None:
    assert plan_batches([], max_batch_size=32, max_payload_bytes=2_000_000) == []
    texts = [f"sentence number {i} " * (i % 7) for i in range(20_000)]
    batches = plan_batches(texts, max_batch_size=32, max_payload_bytes=2_000_000)
    assert len(batches) == 625
    assert batches[-1] == range(19_968, 20_000)


@pytest.mark.parametrize(("size", "payload", "param"), [(0, 100, "max_batch_size"), (1, 0, "max_payload_bytes")])
def test_plan_batches_refuses_bad_limits(size: int, payload: int, param: str) -> None:
    with pytest.raises(InvalidParameterError, match="at least 1") as info:
        plan_batches(["a"], max_batch_size=size, max_payload_bytes=payload)
    assert info.value.param == param

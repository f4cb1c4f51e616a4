"""Embeddings: read feature-extraction answers, pool, normalise, encode, and plan batches.

Pure functions the embedding client calls (no I/O):

- `vectors_from_feature_extraction` turns any TEI / HF feature-extraction answer into one vector per input
  (protocols.md §4.4), pooling token-level outputs;
- `l2_normalize`, `unit_length`, `truncate_dimensions` (Matryoshka) and `encode_base64` / `decode_base64` /
  `floats_from_float32` (OpenAI `encoding_format="base64"`: little-endian float32);
- `plan_batches` splits the inputs by the server's batch limit and by payload size (protocols.md §3.2).

Standard library only, so the client stays light.
"""

from __future__ import annotations

import array
import base64
import binascii
import json
import math
import struct
import sys
from collections.abc import Sequence
from typing import Literal, cast

from easyllm.errors import APIResponseValidationError, InvalidParameterError

__all__ = [
    "PAYLOAD_OVERHEAD_BYTES",
    "FloatRows",
    "decode_base64",
    "encode_base64",
    "floats_from_float32",
    "l2_normalize",
    "plan_batches",
    "truncate_dimensions",
    "unit_length",
    "vectors_from_feature_extraction",
]

PAYLOAD_OVERHEAD_BYTES = 64
"""Bytes allowed for the request body around the inputs list (`{"inputs": ..., "normalize": ...}`)."""

_BIG_ENDIAN = sys.byteorder == "big"
_SEQUENCES = (list, tuple)
_NUMBERS: frozenset[type] = frozenset({float, int})
_FLOATS: frozenset[type] = frozenset({float})
_HINT = "check that the model is an embedding (feature-extraction) model and the URL points at it"


class FloatRows(list[list[float]]):
    """An answer already proven, as it was decoded, to be a list of non-empty lists of floats (ints converted).

    `easyllm.protocol.vector_answers` gives one for a TEI `/embed` body; `vectors_from_feature_extraction` then
    skips its per-value check. Any other list goes through the full check.

    Example:
        >>> vectors_from_feature_extraction(FloatRows([[0.6, 0.8]]), 1)
        [[0.6, 0.8]]
    """

    __slots__ = ()


def _bad(message: str) -> APIResponseValidationError:
    return APIResponseValidationError(f"Unexpected feature-extraction answer: {message}; {_HINT}.")


def _depth(data: object) -> int:
    """Nesting depth of the answer, measured along the first elements (a number has depth 0)."""
    depth, node = 0, data
    while isinstance(node, _SEQUENCES):
        if not node:
            raise _bad(f"an empty list at depth {depth + 1}")
        depth, node = depth + 1, node[0]
    if type(node) not in _NUMBERS:
        raise _bad(f"expected numbers, got {type(node).__name__}")
    return depth


def _numbers(row: object) -> Sequence[float]:
    """Check that `row` is a non-empty list of JSON numbers and return it unchanged."""
    if not isinstance(row, _SEQUENCES) or not row or not set(map(type, row)) <= _NUMBERS:
        raise _bad("expected a non-empty list of numbers for every vector")
    return cast("Sequence[float]", row)


def _vector(row: object) -> list[float]:
    """`row` checked as a vector: a list of floats is returned as it is (no copy); ints are converted."""
    if type(row) is list and row and list(map(type, row)).count(float) == len(row):  # C speed, no new floats
        return cast("list[float]", row)
    types = set(map(type, row)) if isinstance(row, _SEQUENCES) else set()
    if not types or not types <= _NUMBERS:
        raise _bad("expected a non-empty list of numbers for every vector")
    values = cast("Sequence[float]", row)
    return list(values) if types <= _FLOATS else list(map(float, values))


def _pool(matrix: object, pooling: Literal["mean", "cls"]) -> list[float]:
    """Pool one input's token matrix `[T][H]` into a vector: mean over tokens, or the first (CLS) row."""
    if not isinstance(matrix, _SEQUENCES) or not matrix:
        raise _bad("expected a non-empty token matrix for every input")
    if pooling == "cls":
        return _vector(matrix[0])
    rows = [_numbers(row) for row in matrix]
    count = len(rows)
    try:
        return [total / count for total in map(sum, zip(*rows, strict=True))]
    except ValueError as err:
        raise _bad("token rows of different lengths") from err


def _per_input(data: Sequence[object], depth: int, n_inputs: int) -> tuple[Sequence[object], bool]:
    """Split the answer into one item per input; the flag says whether the items are token matrices."""
    if depth == 1:
        return [data], False
    if depth == 2:
        # One input with several rows: a bare token matrix [T][H] (a pipeline that dropped the batch axis).
        return ([data], True) if n_inputs == 1 and len(data) > 1 else (data, False)
    if depth == 3:  # [N][T][H], including a single input's [1][T][H]
        return data, True
    if depth == 4:  # [N][1][T][H], or [1][N][T][H]
        if len(data) == 1 and n_inputs != 1:
            return cast("Sequence[object]", data[0]), True
        if all(isinstance(x, _SEQUENCES) and len(x) == 1 for x in data):
            return [cast("Sequence[object]", x)[0] for x in data], True
        raise _bad("expected one token matrix per input at depth 4 ([N][1][T][H])")
    raise _bad(f"nesting depth {depth} is not a shape easyllm knows (expected 1 to 4)")


def vectors_from_feature_extraction(
    data: object, n_inputs: int, *, pooling: Literal["mean", "cls"] = "mean"
) -> list[list[float]]:
    """Normalise a TEI / HF feature-extraction answer to one vector per input, in input order.

    Depth 1 is one vector; depth 2 one vector per row (or, for a single input with several rows, its token
    matrix); depth 3 a token matrix per input (`[N][T][H]`, and `[1][T][H]` for one input); depth 4 token
    matrices per input (`[N][1][T][H]`). Token matrices are pooled: mean over tokens (the API gives no
    attention mask, so CLS and SEP count too) or the CLS row.

    Args:
        data: the decoded JSON answer.
        n_inputs: how many inputs were sent.
        pooling: how to pool token matrices: "mean" or "cls".

    Returns:
        One list of floats per input.

    Raises:
        APIResponseValidationError: the answer is not numeric, has ragged vectors, or does not give
            `n_inputs` vectors.

    Example:
        >>> vectors_from_feature_extraction([[[1, 2], [3, 4]]], 1)
        [[2.0, 3.0]]
        >>> vectors_from_feature_extraction([[0.5, 1.0], [1.5, 2.0]], 2)
        [[0.5, 1.0], [1.5, 2.0]]
    """
    if n_inputs == 0 and isinstance(data, _SEQUENCES) and not data:
        return []
    if type(data) is FloatRows and len(data) == n_inputs:  # one vector per input, every value checked already
        vectors: list[list[float]] = data[:]
    else:
        vectors = _vectors(data, n_inputs, pooling)
    width = len(vectors[0])
    if any(len(vector) != width for vector in vectors):
        raise _bad("vectors of different lengths")
    return vectors


def _vectors(data: object, n_inputs: int, pooling: Literal["mean", "cls"]) -> list[list[float]]:
    items, matrices = _per_input(cast("Sequence[object]", data), _depth(data), n_inputs)
    if len(items) != n_inputs:
        raise _bad(f"{len(items)} vectors for {n_inputs} inputs")
    return [_pool(item, pooling) for item in items] if matrices else [_vector(item) for item in items]


def l2_normalize(vec: Sequence[float]) -> list[float]:
    """Scale a vector to unit Euclidean length; a zero vector stays zero.

    Args:
        vec: the vector.

    Returns:
        A new list of floats.

    Example:
        >>> l2_normalize([3.0, 4.0])
        [0.6, 0.8]
    """
    norm = math.hypot(*vec)
    if norm == 0.0:
        return [float(x) for x in vec]
    return [x / norm for x in vec]


#: How far from 1 a vector's length may be and still count as unit length: below the precision of the float32
#: values servers compute (and print with 6 to 9 digits), so scaling such a vector would change only noise.
UNIT_TOLERANCE = 1e-6


def unit_length(vec: list[float]) -> list[float]:
    """`vec` at unit length: kept as it is when it already is (within `UNIT_TOLERANCE`), else `l2_normalize`d.

    Most embedding servers normalise already; checking costs one `math.hypot`, dividing costs a new float per
    value.

    Example:
        >>> unit_length([0.6, 0.8])
        [0.6, 0.8]
        >>> unit_length([3.0, 4.0])
        [0.6, 0.8]
    """
    if abs(math.hypot(*vec) - 1.0) <= UNIT_TOLERANCE:
        return vec
    return l2_normalize(vec)


def truncate_dimensions(vec: Sequence[float], dimensions: int) -> list[float]:
    """Keep the first `dimensions` values and renormalise (Matryoshka embeddings, OpenAI `dimensions`).

    Args:
        vec: the full vector.
        dimensions: how many values to keep, between 1 and `len(vec)`.

    Returns:
        The shortened, L2-normalised vector.

    Raises:
        InvalidParameterError: `dimensions` is below 1 or above the model's output size.

    Example:
        >>> truncate_dimensions([3.0, 4.0, 12.0], 2)
        [0.6, 0.8]
    """
    if not 1 <= dimensions <= len(vec):
        raise InvalidParameterError(
            f"must be between 1 and {len(vec)} (the model's embedding size), got {dimensions}",
            param="dimensions",
        )
    return l2_normalize(vec[:dimensions])


def encode_base64(vec: Sequence[float]) -> str:
    """Encode a vector the way OpenAI's `encoding_format="base64"` does: little-endian float32, base64.

    Args:
        vec: the vector.

    Returns:
        The base64 text (ASCII).

    Example:
        >>> encode_base64([1.0, -2.0])
        'AACAPwAAAMA='
    """
    return base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode("ascii")


def decode_base64(data: str) -> list[float]:
    """Decode an embedding sent as base64 little-endian float32 (the inverse of `encode_base64`).

    Args:
        data: the base64 text.

    Returns:
        The vector as Python floats.

    Raises:
        APIResponseValidationError: the text is not base64 or not a whole number of float32 values.

    Example:
        >>> decode_base64("AACAPwAAAMA=")
        [1.0, -2.0]
    """
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as err:
        raise APIResponseValidationError(f"The embedding is not valid base64: {err}.") from err
    return floats_from_float32(raw)


def floats_from_float32(raw: bytes) -> list[float]:
    """Python floats from little-endian float32 bytes (a base64 embedding once decoded).

    Raises:
        APIResponseValidationError: the length is not a whole number of float32 values.

    Example:
        >>> floats_from_float32(bytes([0, 0, 128, 63]))
        [1.0]
    """
    if len(raw) % 4:
        raise APIResponseValidationError(
            f"The base64 embedding has {len(raw)} bytes, not a whole number of float32 values."
        )
    # `array` builds the list of floats straight from the bytes (struct would build a tuple first); numpy was
    # measured too and gains nothing here: the cost is making the Python floats, whatever makes them.
    values = array.array("f", raw)
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tolist()


def plan_batches(inputs: Sequence[str], *, max_batch_size: int, max_payload_bytes: int) -> list[range]:
    """Split input indices into consecutive batches that respect the server's count and size limits.

    A batch's size is `json.dumps(texts)` in UTF-8 plus `PAYLOAD_OVERHEAD_BYTES`. Batches are filled greedily
    in input order, in linear time. An input too large on its own gets a batch of one (the server will say
    why; it is never dropped).

    Args:
        inputs: the texts to embed.
        max_batch_size: most inputs per request (TEI `max_client_batch_size`, 32 by default).
        max_payload_bytes: most bytes per request body (TEI `--payload-limit`, 2,000,000 by default).

    Returns:
        Ranges of indices covering every input exactly once, in order.

    Raises:
        InvalidParameterError: a limit is below 1.

    Example:
        >>> plan_batches(["a", "b", "c"], max_batch_size=2, max_payload_bytes=2_000_000)
        [range(0, 2), range(2, 3)]
    """
    if max_batch_size < 1:
        raise InvalidParameterError(f"must be at least 1, got {max_batch_size}", param="max_batch_size")
    if max_payload_bytes < 1:
        raise InvalidParameterError(f"must be at least 1, got {max_payload_bytes}", param="max_payload_bytes")
    batches: list[range] = []
    start, count = 0, len(inputs)
    while start < count:
        stop = min(start + max_batch_size, count)
        window = inputs[start:stop]
        # json.dumps writes a character as at most 12 bytes (an escaped surrogate pair): a window that fits even
        # then is one batch without measuring each text (the usual case, far under the limit).
        if _MAX_ESCAPED * sum(map(len, window)) + _payload_bytes(0, len(window)) <= max_payload_bytes:
            batches.append(range(start, stop))
            start = stop
        else:
            start = _measured_batch(inputs, start, stop, max_payload_bytes, batches)
    return batches


_MAX_ESCAPED = 12


def _payload_bytes(text_bytes: int, texts: int) -> int:
    """A body's size: the texts' JSON, `[` `]`, `", "` between them, and the rest of the request."""
    return text_bytes + len("[]") + len(", ") * max(0, texts - 1) + PAYLOAD_OVERHEAD_BYTES


def _measured_batch(inputs: Sequence[str], start: int, stop: int, limit: int, batches: list[range]) -> int:
    """Append the batch that starts at `start` (at most up to `stop`), measuring each text; return its end.

    An input too large on its own still gets a batch of one (the server will say why; it is never dropped).
    """
    size = _payload_bytes(0, 0)
    end = start
    for index in range(start, stop):
        # json.dumps escapes non-ASCII by default, so its length in characters is its length in UTF-8 bytes.
        item = len(json.dumps(inputs[index])) + (len(", ") if index > start else 0)
        if index > start and size + item > limit:
            break
        size += item
        end = index + 1
    batches.append(range(start, end))
    return end

"""Decode embedding answers straight to checked vectors, in one native pass.

An embedding answer is mostly numbers: a 32 × 384 batch is 12,288 of them. Decoding it as any JSON and then
checking every value in Python costs about as much again as the decoding, so these decoders give pydantic-core
(already a dependency, through pydantic) the exact shape to expect: it parses, checks and converts as it goes.

- `float_rows`: TEI's `/embed` body, `[[number, ...], ...]`, as `tei.FloatRows` (ints converted to floats, as
  the general check does; booleans, strings and nulls are not numbers), parsed by orjson and checked by
  pydantic-core. Integers too large for a double read as `inf`, as `1e400` does.
- `base64_embeddings`: an OpenAI-compatible `/embeddings` body whose vectors came as base64 text, with each
  `embedding` already decoded to its float32 bytes (`tei.floats_from_float32` makes the floats). The standard
  alphabet, as the other decoder reads it; the URL-safe alphabet and unpadded text are read too.

A body of any other shape, or one that is not JSON, goes through `json_decode.loads` exactly as every other
answer does, so the general reading (token matrices, floats where base64 was asked, error messages) is unchanged.
pydantic-core is imported on first use: `import easyllm` does not pay for it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from easyllm.protocol import json_decode
from easyllm.protocol.tei import FloatRows

__all__ = ["base64_embeddings", "float_rows"]

#: `[[` then a number: a body of depth 2 (token matrices, depth 3 and more, are read the general way).
_ROWS_OF_NUMBERS = re.compile(rb"\s*\[\s*\[\s*[-0-9NI]")


@cache
def _validators() -> tuple[Any, Any, Any, Any]:
    from pydantic_core import SchemaValidator, ValidationError
    from pydantic_core import core_schema as cs

    rows = SchemaValidator(cs.list_schema(cs.list_schema(cs.float_schema(strict=True), min_length=1)))
    item = cs.typed_dict_schema(
        {"embedding": cs.typed_dict_field(cs.bytes_schema())},
        extra_behavior="allow",
        config=cs.CoreConfig(val_json_bytes="base64"),
    )
    body = cs.typed_dict_schema({"data": cs.typed_dict_field(cs.list_schema(item))}, extra_behavior="allow")
    return rows.validate_python, rows.validate_json, SchemaValidator(body).validate_json, ValidationError


#: Deleted before the comparison in `_only_floats`: what numbers are made of (but a decimal point), white space.
_DROPPED = b"0123456789-+eE \t\n\r"
#: Kept as they are: a point, a comma, brackets; any other byte (a quote, a letter) becomes `x`, in no pattern.
_KEPT = bytes(byte if byte in b".,[]" else ord("x") for byte in range(256))


def _only_floats(data: bytes, rows: object) -> bool:
    """Whether the bytes prove `rows` (orjson's reading of `data`) is a list of non-empty lists of floats.

    Digits, signs, exponents and white space deleted, the body must be exactly the pattern of `rows`: `[[.,.],[.]]`
    for two rows of two and one values. Then no row is nested or empty, no string, literal or `NaN` is anywhere
    (its quote or letters would show), and every value has a decimal point, so orjson read each as a float. TEI
    writes its vectors so; `1e-5` (an exponent without a point) or an integer sends the answer to the full check.
    One `bytes.translate` pass and one comparison: a fraction of checking 12,288 values in Python.

    Example:
        >>> _only_floats(b"[[0.5, -1.25e-3], [2.0]]", [[0.5, -0.00125], [2.0]])
        True
        >>> _only_floats(b"[[0.5, 1], [2.0]]", [[0.5, 1], [2.0]])
        False
    """
    if type(rows) is not list:
        return False
    patterns = []
    for row in rows:
        if type(row) is not list or not row:
            return False
        patterns.append(b"[" + b".," * (len(row) - 1) + b".]")
    return data.translate(_KEPT, _DROPPED) == b"[" + b",".join(patterns) + b"]"


def float_rows(data: bytes) -> object:
    """A TEI `/embed` body as `tei.FloatRows`; any other body as `json_decode.loads` reads it.

    orjson parses (the fastest parser at hand). The bytes themselves prove the usual answer holds only floats
    (`_only_floats`); otherwise pydantic-core checks the parsed rows (keeping orjson's float objects): an integer
    beyond 64 bits, which orjson reads as the nearest float, becomes exactly that float in a vector either way.
    What orjson refuses (`NaN`, `Infinity`, numbers beyond a double) pydantic-core parses.

    Example:
        >>> float_rows(b"[[0.5, 1], [2.0, -0.25]]")
        [[0.5, 1.0], [2.0, -0.25]]
        >>> float_rows(b'{"error": "model not loaded"}')
        {'error': 'model not loaded'}
    """
    if _ROWS_OF_NUMBERS.match(data):
        try:
            parsed = json_decode.loads_floats(data)
        except ValueError:
            parsed = None
        if parsed is not None and _only_floats(data, parsed):
            return FloatRows(parsed)
        check, parse_and_check, _, invalid = _validators()
        try:
            return FloatRows(check(parsed) if parsed is not None else parse_and_check(data))
        except invalid:
            pass
    return json_decode.loads(data)


def base64_embeddings(data: bytes) -> object:
    r"""An OpenAI embeddings body with every `embedding` decoded from base64 to bytes; else as `loads` reads it.

    Example:
        >>> base64_embeddings(b'{"data": [{"index": 0, "embedding": "AACAPw=="}], "model": "m"}')
        {'data': [{'embedding': b'\x00\x00\x80?', 'index': 0}], 'model': 'm'}
    """
    _, _, body, invalid = _validators()
    try:
        return body(data)
    except invalid:
        return json_decode.loads(data)

r"""Decode JSON answers at native speed, into exactly the objects the standard library's `json` gives.

orjson parses several times faster than `json` (an embedding batch of 32 × 384 floats: about 4×; a stream event:
about 5×), and for every document both accept it gives equal objects: the same dicts, lists, strings, ints and
correctly rounded floats, the last of duplicate keys. Where they differ, this module gives what `json` gives:

- `NaN`, `Infinity`, `-Infinity` and numbers too large for a double (`1e400`): not JSON, and refused by orjson;
  `json` reads them (as Python servers write them), so they go to `json`;
- a UTF-8 byte-order mark, UTF-16/32 bodies, lone surrogates (a `\ud800` escape): refused by orjson, read by `json`;
- integers outside 64 bits: orjson reads them as floats, silently. A body with a run of 19 or more digits (every
  such integer has one) goes to `json`; Rust and C++ servers cannot write such numbers, so this costs nothing
  in practice but one `bytes.translate` pass;
- bytes that are not UTF-8, and text that is not JSON: `json` raises its own `ValueError`, as before.

So a caller catches `ValueError` exactly as it did around `json.loads`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_native: Callable[[bytes], Any] | None
try:  # a dependency; the standard library keeps easyllm working where a wheel is missing
    from orjson import loads as _native
except ImportError:  # pragma: no cover - the fallback itself is tested by setting `_native` to None
    _native = None

__all__ = ["loads", "loads_floats"]

#: Every ASCII digit becomes `0`, every other byte a space: a run of 19 digits is then one substring search.
_DIGITS_ONLY = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_NUMBER = b"0" * 19


def loads(data: bytes | str) -> Any:
    """Decode one JSON document (bytes or text) to the objects `json.loads` gives; raise its `ValueError`s.

    Example:
        >>> loads(b'{"a": [1, 2.5, null], "b": NaN}')
        {'a': [1, 2.5, None], 'b': nan}
    """
    if _native is not None:
        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
        if _LONG_NUMBER not in raw.translate(_DIGITS_ONLY):
            try:
                return _native(raw)
            except ValueError:
                pass  # not JSON to orjson: `json` reads what it can and raises what it cannot, as before
    return json.loads(data)


def loads_floats(data: bytes) -> Any:
    """Decode a document whose numbers all become floats anyway (vectors): as `loads`, minus the 19-digit guard.

    An integer beyond 64 bits reads as the nearest float (orjson's reading), which is what converting it gives;
    everything else is what `loads` gives. Raises `ValueError` where orjson refuses the text (`NaN`, numbers
    beyond a double, a byte-order mark): the caller reads such a document another way.

    Example:
        >>> loads_floats(b"[[0.5, 18446744073709551616]]")
        [[0.5, 1.8446744073709552e+19]]
    """
    return _native(data) if _native is not None else json.loads(data)

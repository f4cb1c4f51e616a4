"""Pure rules of several endpoints and of the cache: the choice of an endpoint, URL rebasing, stored vectors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from easyllm.protocol.caching import merge_embeddings, pack_embedding, reproducible, unpack_embedding
from easyllm.protocol.endpoints import choose, rebase
from easyllm.protocol.params import GenerationOptions


def test_choose_prefers_healthy_untried_endpoints_then_the_least_loaded() -> None:
    assert choose([0, 0, 0], [1, 1, 1], [0, 0, 0], now=1, tried={0}) == 1
    assert choose([0, 5, 0], [1, 1, 1], [0, 0, 0], now=1, tried={0}) == 2
    assert choose([0, 0], [1, 1], [9, 0], now=1, tried={1}) == 1  # tried but healthy beats resting
    assert choose([0, 0], [1, 1], [9, 5], now=1, tried=()) == 1  # all resting: the one back first
    assert choose([0, 0], [1, 1], [9, 5], now=1, tried={1}) == 0  # ... unless this call already tried it
    assert choose([2, 1], [3, 1], [0, 0], now=1, tried=()) == 0  # (2+1)/3 < (1+1)/1


def test_ties_go_round_robin() -> None:
    assert [choose([0, 0, 0], [1, 1, 1], [0, 0, 0], now=0, tried=(), turn=t) for t in range(4)] == [0, 1, 2, 0]


def test_rebase_moves_only_the_base() -> None:
    assert rebase("http://a:1/models/m/v1/chat", "http://a:1/models", "http://b:2/models") == (
        "http://b:2/models/m/v1/chat"
    )
    with pytest.raises(ValueError, match="not under"):
        rebase("http://c/x", "http://a", "http://b")


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=64))
def test_stored_vectors_come_back_exactly(vector: list[float]) -> None:
    model, back = unpack_embedding(pack_embedding("m", vector)) or ("", [])
    assert (
        model == "m"
        and back == vector
        and all(math.copysign(1, a) == math.copysign(1, b) for a, b in zip(back, vector, strict=True))
    )


def test_anything_else_in_the_store_is_a_miss() -> None:
    assert unpack_embedding(["m", "pickle", "x"]) is None
    assert unpack_embedding({"a": 1}) is None
    assert unpack_embedding(["m", "b64", "AAAA"]) == ("m", "AAAA")


def test_merge_keeps_input_order_and_counts_what_was_cached() -> None:
    fresh = {"model": "m", "data": [{"index": 0, "embedding": [2.0]}], "usage": {"prompt_tokens": 3, "total_tokens": 3}}
    merged = merge_embeddings(3, {0: ("m", [1.0]), 2: ("m", [3.0])}, [1], fresh)
    assert [(d["index"], d["embedding"]) for d in merged["data"]] == [(0, [1.0]), (1, [2.0]), (2, [3.0])]
    assert merged["usage"] == {"prompt_tokens": 3, "total_tokens": 3, "cached_inputs": 2}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, False),
        ({"temperature": 0.0}, True),
        ({"top_p": 0.0}, True),
        ({"seed": 1}, True),
        ({"temperature": 0.5}, False),
    ],
)
def test_reproducible(options: dict[str, float], expected: bool) -> None:
    assert reproducible(GenerationOptions(**options)) is expected

"""The llama.cpp engine's grammar mask on SmolLM2's real vocabulary: JSON strings cannot hold raw control characters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from easyllm.serve.demo import DEMO_MODELS
from easyllm.serve.engines.guidance import schema_grammar

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model() -> Iterator[Any]:
    llama = pytest.importorskip("easyllm.serve.engines.llama")
    yield llama.LlamaCppModel(DEMO_MODELS["smollm2"].path(), n_ctx=256, n_threads=1)


def test_a_string_in_a_schema_takes_escapes_but_no_raw_newline(model: Any) -> None:
    schema = {"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}
    mask = model.grammar_mask(schema_grammar(json.dumps(schema)))
    try:
        for token in model.tokenize('{"note": "a', add_special=False):
            mask.accept(token)
        allowed = mask.apply(np.zeros(model.n_vocab, dtype=np.float32))
    finally:
        mask.close()
    pieces = {model.piece(i): i for i in range(model.n_vocab)}
    assert allowed[pieces[b"\n"]] == -np.inf and allowed[pieces[b"\t"]] == -np.inf  # JSON forbids them raw
    assert allowed[pieces[b"\\"]] == 0.0 and allowed[pieces[b"b"]] == 0.0  # an escape, a letter: allowed

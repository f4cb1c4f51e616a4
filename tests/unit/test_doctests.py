"""The examples in docstrings of the pure modules run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "easyllm.errors",
    "easyllm.settings",
    "easyllm.schema.openai",
    "easyllm.schema.structured",
    "easyllm.schema.chat_stream_state",
    "easyllm.schema.response_stream_state",
    "easyllm.serve.params",
    "easyllm.serve.tools",
    "easyllm.serve.engines.guidance",
    "easyllm.protocol.params",
    "easyllm.protocol.options",
    "easyllm.protocol.inputs",
    "easyllm.protocol.samples",
    "easyllm.protocol.sse",
    "easyllm.protocol.stops",
    "easyllm.protocol.tei",
    "easyllm.protocol.vector_answers",
    "easyllm.protocol.json_decode",
    "easyllm.dialects",
    "easyllm.dialects.paths",
    "easyllm.dialects.tgi",
    "easyllm.dialects.llamacpp",
    "easyllm.protocol.extras",
    "easyllm.protocol.openai_answers",
    "easyllm.protocol.rerank",
    "easyllm.protocol.classification",
    "easyllm.protocol.moderation",
    "easyllm.protocol.models_info",
    "easyllm.clients.error",
    "easyllm.protocol.endpoints",
    "easyllm.protocol.caching",
    "easyllm.protocol.pricing",
    "easyllm.cache",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0

"""The lean chunk constructors build exactly what validation would, and dump like openai's types."""

from __future__ import annotations

import copy
import json
import warnings
from typing import Any

import pytest
from openai.types import Completion as OpenAICompletion
from openai.types.chat import ChatCompletionChunk as OpenAIChatCompletionChunk

from easyllm.schema import types

HEADER = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "system_fingerprint": None}
CHAT_CHUNKS: list[dict[str, Any]] = [
    {**HEADER, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None,
                            "finish_reason": None}]},
    {**HEADER, "choices": [{"index": 0, "delta": {"content": "Hi"}, "logprobs": {"content": [
        {"token": "Hi", "logprob": -0.5, "bytes": [72, 105], "top_logprobs": []}]}, "finish_reason": None}]},
    {**HEADER, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "0", "type": "function",
                            "function": {"name": "f", "arguments": ""}}]}, "logprobs": None, "finish_reason": None}]},
    {**HEADER, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]},
    {**HEADER, "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3,
                                        "estimated": True}},
]  # fmt: skip


@pytest.mark.parametrize("raw", CHAT_CHUNKS)
def test_chat_chunk_equals_the_validated_model(raw: dict[str, Any]) -> None:
    validated = types.ChatCompletionChunk.model_validate(copy.deepcopy(raw))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pydantic serialisation warnings from the lean path
        lean = types.chat_chunk(copy.deepcopy(raw))
        assert lean.model_dump() == validated.model_dump()
        assert json.loads(lean.model_dump_json()) == json.loads(validated.model_dump_json())
    assert lean.model_fields_set == validated.model_fields_set
    OpenAIChatCompletionChunk.model_validate(json.loads(lean.model_dump_json()))


def test_completion_chunk_equals_the_validated_model() -> None:
    raw = {"id": "c", "object": "text_completion", "created": 1, "model": "m",
           "choices": [{"index": 0, "text": "a", "logprobs": {"tokens": ["a"], "token_logprobs": [-0.1],
                        "top_logprobs": [{"a": -0.1}], "text_offset": [0]}, "finish_reason": "length"}]}  # fmt: skip
    lean = types.completion_chunk(copy.deepcopy(raw))
    assert lean.model_dump() == types.Completion.model_validate(raw).model_dump()
    OpenAICompletion.model_validate(json.loads(lean.model_dump_json()))


def test_unknown_keys_take_the_model_construct_path() -> None:
    raw = {**HEADER, "service_tier": "default", "choices": []}
    assert types.chat_chunk(raw).model_dump()["service_tier"] == "default"

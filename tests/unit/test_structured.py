"""The pure steps of `parse`: strict schemas, the tools it reads, reading answers (easyllm/schema/structured.py)."""

from __future__ import annotations

from typing import Any

import pytest

from easyllm import errors
from easyllm.schema import structured
from easyllm.schema.responses import ReasoningItem, response
from easyllm.schema.types import chat_completion


class NotDescribable:
    """A plain class: pydantic has no schema for it."""


def test_a_type_pydantic_cannot_describe_is_refused_naming_the_parameter() -> None:
    with pytest.raises(errors.InvalidParameterError, match="NotDescribable") as info:
        structured.strict_json_schema(NotDescribable)
    assert info.value.param == "response_format"


def test_strict_form_of_hand_written_schemas() -> None:
    # a single-entry allOf is folded into its node; a $ref beside other keys is replaced by its (strict) target
    schema: dict[str, Any] = {
        "$defs": {"Box": {"type": "object", "properties": {"size": {"type": "integer"}}}},
        "type": "object",
        "properties": {
            "box": {"$ref": "#/$defs/Box", "description": "the box"},
            "other": {"allOf": [{"type": "string"}], "default": None},
            "items": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
        },
    }
    out = structured._strict(schema, schema)
    assert out["properties"]["box"] == {
        "type": "object", "properties": {"size": {"type": "integer"}}, "additionalProperties": False,
        "required": ["size"], "description": "the box",
    }  # fmt: skip
    assert out["properties"]["other"] == {"type": "string"}  # folded, the None default dropped
    assert out["properties"]["items"]["items"]["required"] == ["a"]
    assert out["required"] == ["box", "other", "items"] and out["additionalProperties"] is False


@pytest.mark.parametrize(("ref", "match"), [("http://x/y.json", "outside the schema"), ("#/$defs/Nope", "nowhere")])
def test_a_ref_that_cannot_be_followed_is_refused(ref: str, match: str) -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"x": {"$ref": ref, "description": "d"}}}
    with pytest.raises(errors.InvalidParameterError, match=match):
        structured._strict(schema, schema)


@pytest.mark.parametrize("tools", ["a tool", {"type": "function"}, 3])
def test_tools_must_be_a_list(tools: object) -> None:
    with pytest.raises(errors.InvalidParameterError, match="must be a list of tools"):
        structured.check_parse_tools(tools)


def test_arguments_of_a_tool_not_in_the_request_or_not_strict_are_not_read() -> None:
    calls = [
        {"id": "1", "type": "function", "function": {"name": "gone", "arguments": "{}"}},
        {"id": "2", "type": "function", "function": {"name": "loose", "arguments": "{}"}},
    ]
    message = {"role": "assistant", "content": None, "tool_calls": calls}
    body = {
        "id": "c", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}],
    }  # fmt: skip
    loose = {"type": "function", "function": {"name": "loose", "parameters": {}}}
    parsed = structured.parse_completion(chat_completion(body), None, [loose])
    assert [c.function.parsed_arguments for c in parsed.choices[0].message.tool_calls or ()] == [None, None]


def test_items_other_than_messages_and_calls_are_kept_as_they_are() -> None:
    r = response({
        "id": "r", "object": "response", "created_at": 0, "model": "m", "tools": [], "tool_choice": "auto",
        "parallel_tool_calls": True,
        "output": [{"type": "reasoning", "id": "rs_1", "summary": [], "content": [{"type": "reasoning_text",
                                                                                  "text": "hm"}]}],
    })  # fmt: skip
    parsed = structured.parse_response(r, None, None)
    assert isinstance(parsed.output[0], ReasoningItem) and parsed.output[0] is r.output[0]
    assert parsed.output_parsed is None

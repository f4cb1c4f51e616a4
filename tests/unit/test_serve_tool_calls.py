"""The local server's function calling, pure parts: the plan, the schema, the prompt, and the answer reader."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pydantic
import pytest

from easyllm.serve.params import RequestValidationError
from easyllm.serve.tools import AnswerReader, ToolPlan, plan_tools, prompt_messages

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = {"type": "function", "function": {"name": "weather", "description": "Today's weather", "parameters": CITY}}
TIME = {"type": "function", "function": {"name": "clock"}}
CHATML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"


def feed_all(reader: AnswerReader, pieces: list[str]) -> list[dict[str, Any]]:
    deltas = [d for piece in pieces for d in reader.feed(piece)]
    return deltas + reader.finish()


def joined(deltas: list[dict[str, Any]]) -> tuple[str, str, list[str]]:
    """The content, the arguments and the names announced by a run of deltas."""
    content = "".join(d.get("content", "") for d in deltas)
    calls = [c for d in deltas for c in d.get("tool_calls", [])]
    arguments = "".join(c["function"]["arguments"] for c in calls)
    return content, arguments, [c["function"]["name"] for c in calls if "name" in c["function"]]


# --- the plan -------------------------------------------------------------------------------------------------------


def test_the_choice_defaults_to_auto_with_tools_and_none_without() -> None:
    assert plan_tools([WEATHER], None).mode == "auto"
    assert plan_tools(None, None) == ToolPlan("none")
    assert not plan_tools([WEATHER], "none").active
    named = plan_tools([WEATHER, TIME], {"type": "function", "function": {"name": "clock"}})
    assert (named.mode, named.named) == ("named", "clock")
    no_parameters = {"type": "object", "properties": {}}
    assert plan_tools([TIME], "required").functions == ({"name": "clock", "parameters": no_parameters},)


@pytest.mark.parametrize(
    ("tools", "choice", "words"),
    [
        ([{"type": "web_search"}], None, "must be {"),
        ([{"type": "function", "function": {"name": "two words"}}], None, "1 to 64 letters"),
        ([{"type": "function", "function": {"name": "f", "parameters": [1]}}], None, "must be a JSON schema"),
        ([WEATHER, WEATHER], None, "same name"),
        (None, "required", "needs `tools`"),
        ([WEATHER], "always", "must be"),
        ([WEATHER], {"type": "function", "function": {"name": "clock"}}, "'clock', which is not in `tools`"),
        ([WEATHER], {"type": "function", "name": "weather"}, "must be"),
    ],
)
def test_bad_tools_and_choices_are_refused_with_the_reason(tools: Any, choice: Any, words: str) -> None:
    with pytest.raises(RequestValidationError, match=None) as caught:
        plan_tools(tools, choice)
    assert words in str(caught.value)


# --- the schema -----------------------------------------------------------------------------------------------------


def test_required_holds_the_answer_to_one_of_the_calls() -> None:
    schema = plan_tools([WEATHER, TIME], "required").schema()
    jsonschema.validate({"name": "weather", "arguments": {"city": "Paris"}}, schema)
    jsonschema.validate({"name": "clock", "arguments": {}}, schema)
    for wrong in ({"name": "weather", "arguments": {}}, {"name": "other", "arguments": {}}, {"content": "hi"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(wrong, schema)


def test_auto_also_allows_an_answer_in_words_or_in_the_response_format() -> None:
    words = plan_tools([WEATHER], "auto").schema()
    jsonschema.validate({"content": "Hello"}, words)
    jsonschema.validate({"name": "weather", "arguments": {"city": "Paris"}}, words)
    typed = plan_tools([WEATHER], "auto", {"type": "object", "properties": {"n": {"type": "integer"}},
                                           "required": ["n"]}).schema()  # fmt: skip
    jsonschema.validate({"content": {"n": 3}}, typed)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"content": "three"}, typed)
    any_object = plan_tools([WEATHER], "auto", {}).schema()  # json_object without a schema
    jsonschema.validate({"content": {"anything": [1]}}, any_object)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"content": "words"}, any_object)


def test_a_named_choice_holds_the_answer_to_that_functions_arguments() -> None:
    schema = plan_tools([WEATHER, TIME], {"type": "function", "function": {"name": "weather"}}).schema()
    assert schema == CITY


class Address(pydantic.BaseModel):
    street: str


class Person(pydantic.BaseModel):
    home: Address
    work: Address | None = None


class Order(pydantic.BaseModel):
    to: Address


def test_nested_definitions_move_to_the_root_and_their_references_follow() -> None:
    person = {"type": "function", "function": {"name": "person", "parameters": Person.model_json_schema()}}
    order = {"type": "function", "function": {"name": "order", "parameters": Order.model_json_schema()}}
    schema = plan_tools([person, order], "required").schema()
    assert set(schema["$defs"]) == {"f0_Address", "f1_Address"}
    jsonschema.validate({"name": "person", "arguments": {"home": {"street": "Main"}, "work": None}}, schema)
    jsonschema.validate({"name": "order", "arguments": {"to": {"street": "Main"}}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "order", "arguments": {"to": {"street": 1}}}, schema)
    named = plan_tools([person], {"type": "function", "function": {"name": "person"}}).schema()
    jsonschema.validate({"home": {"street": "Main"}}, named)
    assert "$ref" not in json.dumps(plan_tools([WEATHER], "required").schema())  # nothing to move: left alone


def test_the_schema_becomes_a_grammar_whose_references_resolve() -> None:
    schema_grammar = pytest.importorskip("easyllm.serve.engines.guidance").schema_grammar  # what generation uses
    person = {"type": "function", "function": {"name": "person", "parameters": Person.model_json_schema()}}
    for choice in ("auto", "required", {"type": "function", "function": {"name": "person"}}):
        assert schema_grammar(json.dumps(plan_tools([person, WEATHER], choice).schema()))
    nested = {"type": "object", "properties": {"p": person["function"]["parameters"]}}  # refs left where they were
    with pytest.raises(ValueError, match="does not exist"):
        schema_grammar(json.dumps(nested))


# --- the prompt -----------------------------------------------------------------------------------------------------

HISTORY = [
    {"role": "user", "content": "Weather in Paris and Rome?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}},
        {"id": "b", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Rome"}'}},
    ]},
    {"role": "tool", "tool_call_id": "a", "content": "sunny"},
    {"role": "tool", "tool_call_id": "b", "content": "rain"},
]  # fmt: skip


def test_a_template_without_tools_is_told_in_a_system_message_and_shown_past_calls_in_words() -> None:
    messages, extra = prompt_messages(HISTORY, plan_tools([WEATHER], "auto"), CHATML)
    assert extra == {}
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "weather" in messages[0]["content"] and '{"content": <your answer>}' in messages[0]["content"]
    assert messages[2]["content"].splitlines() == [
        'I will call weather({"city": "Paris"}).',
        'I will call weather({"city": "Rome"}).',
    ]
    assert messages[3]["content"] == "weather returned: sunny\nweather returned: rain"
    with_system, _ = prompt_messages([{"role": "system", "content": "Be brief."}, *HISTORY[:1]],
                                     plan_tools([WEATHER], "required"), CHATML)  # fmt: skip
    assert with_system[0]["content"].startswith("Be brief.\n\nFunctions you can call:")
    assert "To answer in words" not in with_system[0]["content"]
    quiet, _ = prompt_messages(HISTORY, plan_tools([WEATHER], "none"), CHATML)
    assert [m["role"] for m in quiet] == ["user", "assistant", "user"]  # not offered; the history still shown


def test_a_template_that_takes_tools_gets_them_and_the_calls_as_objects() -> None:
    template = "{{ tools | tojson }}{% for m in messages %}{{ m.tool_calls }}{% endfor %}"
    messages, extra = prompt_messages(HISTORY, plan_tools([WEATHER], "auto"), template)
    assert extra == {"tools": [{"type": "function", "function": {**WEATHER["function"]}}]}
    assert messages[1]["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}
    assert messages[2] == HISTORY[2]
    assert prompt_messages(HISTORY, plan_tools([WEATHER], "none"), template)[1] == {}


# --- the reader -----------------------------------------------------------------------------------------------------


def every_split(text: str) -> list[list[str]]:
    return [[text[:i], text[i:j], text[j:]] for i in range(len(text) + 1) for j in range(i, len(text) + 1)]


def test_a_call_reads_the_same_however_the_text_is_cut() -> None:
    text = '{ "name": "weather" , "arguments": { "city": "Pa\\"ris }" } }'
    for pieces in every_split(text):
        reader = AnswerReader(plan_tools([WEATHER, TIME], "required"), call_id="call_1")
        content, arguments, names = joined(feed_all(reader, pieces))
        assert (content, arguments, names) == ("", '{ "city": "Pa\\"ris }" }', ["weather"]), pieces
        assert reader.complete and reader.called
        assert reader.message() == (None, [{"id": "call_1", "type": "function",
                                            "function": {"name": "weather", "arguments": arguments}}])  # fmt: skip


def test_the_call_is_announced_once_with_its_id_then_only_arguments_follow() -> None:
    reader = AnswerReader(plan_tools([WEATHER], "required"), call_id="call_9")
    deltas = feed_all(reader, ['{"name": "weather", "arguments": ', '{"city"', ': "Oslo"}', "}"])
    calls = [d["tool_calls"][0] for d in deltas]
    assert calls[0] == {"index": 0, "id": "call_9", "type": "function", "function": {"name": "weather",
                                                                                      "arguments": ""}}  # fmt: skip
    assert all(set(c) == {"index", "function"} and set(c["function"]) == {"arguments"} for c in calls[1:])


def test_an_answer_in_words_streams_as_decoded_text_however_it_is_cut() -> None:
    said = 'Tab\there, "quoted", \\ slash, caf\u00e9 and \U0001f600 and \n'
    text = json.dumps({"content": said}) + " "
    for pieces in every_split(text):
        reader = AnswerReader(plan_tools([WEATHER], "auto"), call_id="c")
        deltas = feed_all(reader, pieces)
        assert joined(deltas) == (said, "", []), pieces
        assert all(d["content"] for d in deltas)  # no empty deltas
        assert reader.message() == (said, None) and not reader.called


def test_an_answer_in_the_response_format_streams_as_its_json_text() -> None:
    plan = plan_tools([WEATHER], "auto", {"type": "object"})
    for pieces in every_split('{"content": {"n": [1, {"m": "}"}]} }'):
        reader = AnswerReader(plan, call_id="c")
        assert joined(feed_all(reader, pieces))[0] == '{"n": [1, {"m": "}"}]}'
    scalar = AnswerReader(plan_tools([WEATHER], "auto", {"type": "integer"}), call_id="c")
    assert joined(feed_all(scalar, ['{"content": 4', "2}"]))[0] == "42"


def test_a_named_call_is_its_arguments_alone() -> None:
    plan = plan_tools([WEATHER], {"type": "function", "function": {"name": "weather"}})
    reader = AnswerReader(plan, call_id="c")
    deltas = feed_all(reader, [" ", '{"city": ', '"Lima"}'])
    assert deltas[0]["tool_calls"][0]["function"] == {"name": "weather", "arguments": ""}
    assert joined(deltas) == ("", '{"city": "Lima"}', ["weather"])


def test_text_cut_off_before_a_calls_head_is_handed_on_as_content() -> None:
    reader = AnswerReader(plan_tools([WEATHER], "required"), call_id="c")
    assert reader.feed('{"name": "wea') == []
    assert reader.finish() == [{"content": '{"name": "wea'}]
    assert reader.message() == ('{"name": "wea', None) and not reader.complete


def test_a_call_cut_off_in_its_arguments_keeps_what_came() -> None:
    reader = AnswerReader(plan_tools([WEATHER], "required"), call_id="c")
    feed_all(reader, ['{"name": "weather", "arguments": {"ci'])
    assert reader.called and not reader.complete
    assert reader.message()[1] == [{"id": "c", "type": "function", "function": {"name": "weather",
                                                                                 "arguments": '{"ci'}}]  # fmt: skip

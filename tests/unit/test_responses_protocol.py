"""The Responses translation rules as pure code, validated against the openai package's own types."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import Response as OpenAIResponse
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from easyllm.errors import APIError, APIResponseValidationError, InvalidParameterError
from easyllm.protocol.responses.build import build_response, response_usage, skeleton
from easyllm.protocol.responses.events import ChatToEvents
from easyllm.protocol.responses.items import chat_options, chat_tool, to_messages
from easyllm.protocol.responses.native import NativeEvents, normalise_response
from easyllm.protocol.responses.request import check_request, refuse_untranslatable
from easyllm.schema import responses as schema

EVENT = TypeAdapter(ResponseStreamEvent)
TOOL = {"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}


def openai_response(value: Any) -> OpenAIResponse:
    """Validate as openai's Response, through easyllm's model and its JSON dump."""
    model = schema.response(value) if isinstance(value, dict) else value
    return OpenAIResponse.model_validate(json.loads(model.model_dump_json()))


def openai_event(value: dict[str, Any]) -> Any:
    return EVENT.validate_python(json.loads(schema.event(value).model_dump_json()))


def base(**options: Any) -> dict[str, Any]:
    return skeleton(check_request({"input": "Hi", **options}), response_id="resp_1", created_at=1.0, model="m")


def chat(message: dict[str, Any], finish: str = "stop", usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "served",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": usage or {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }  # fmt: skip


def chunk(delta: dict[str, Any], finish: str | None = None, logprobs: Any = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}]}


# ---------------------------------------------------------------- request checks


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"input": "Hi", "conversation": "conv_1"}, "conversation"),
        ({}, "input"),
        ({"input": 3}, "input"),
        ({"input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"input": [{"type": "function_call", "call_id": "c", "name": "f"}]}, "input[0].arguments"),
        ({"input": "Hi", "tools": [{"type": "function", "function": {"name": "f"}}]}, "tools[0]"),
        ({"input": "Hi", "text": {"format": {"type": "xml"}}}, "text.format"),
        ({"input": "Hi", "text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format"),
        ({"input": "Hi", "max_output_tokens": 0}, "max_output_tokens"),
        ({"input": "Hi", "temperature": 3}, "temperature"),
        ({"input": "Hi", "metadata": {"a": 1}}, "metadata"),
        ({"input": "Hi", "frobnicate": 1}, "frobnicate"),
    ],
)
def test_bad_arguments_are_refused_naming_the_field(options: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        check_request(options)
    assert caught.value.param == param


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"tools": [TOOL, {"type": "web_search"}]}, "tools[1].type"),
        ({"tools": [{"type": "file_search", "vector_store_ids": ["v"]}]}, "tools[0].type"),
        ({"tools": [{"type": "mcp", "server_label": "x", "server_url": "http://x"}]}, "tools[0].type"),
        ({"tools": [{"type": "computer_use_preview"}]}, "tools[0].type"),
        ({"tool_choice": {"type": "web_search_preview"}}, "tool_choice"),
        ({"background": True}, "background"),
        ({"include": ["file_search_call.results"]}, "include"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type"),
        ({"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}, None),
    ],
)
def test_what_only_a_native_server_can_do_is_refused_before_translation(
    options: dict[str, Any], param: str | None
) -> None:
    request = check_request({"input": "Hi", **options})
    with pytest.raises(InvalidParameterError) as caught:
        refuse_untranslatable(request)
        to_messages(request.input)
    assert caught.value.param == (param or "input[0].content[0]")


def test_extras_are_kept_apart_from_the_body() -> None:
    request = check_request({"input": "Hi", "model": "m", "extra_body": {"top_k": 5}, "temperature": None})
    assert request.body == {"input": "Hi", "model": "m"} and request.extras.body == {"top_k": 5}
    with pytest.raises(InvalidParameterError) as caught:
        check_request({"input": "Hi", "extra_headers": {"x": 1}})
    assert caught.value.param == "extra_headers"


# ---------------------------------------------------------------- items and options


def test_items_become_messages_with_tool_calls_merged_and_no_null_content() -> None:
    items = check_request({"input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather "},
                                     {"type": "input_text", "text": "in Paris?"}]},
        {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
         "content": [{"type": "output_text", "text": "Let me check.", "annotations": []}]},
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call", "call_id": "c2", "name": "get_weather", "arguments": '{"city":"Lyon"}'},
        {"type": "function_call_output", "call_id": "c1", "output": "18C"},
        {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "20C"}]},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "function_call", "call_id": "c3", "name": "get_weather", "arguments": "{}"},
        {"role": "user", "content": [{"type": "input_image", "image_url": "http://x/cat.png", "detail": "low"},
                                     {"type": "input_text", "text": "and this?"}]},
    ]}).input  # fmt: skip
    messages = to_messages(items, instructions="Be brief.")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool", "assistant", "user"]
    assert messages[1]["content"] == "Weather in Paris?"
    assert messages[2]["content"] == "Let me check." and [c["id"] for c in messages[2]["tool_calls"]] == ["c1", "c2"]
    assert messages[3] == {"role": "tool", "tool_call_id": "c1", "content": "18C"}
    assert messages[4]["content"] == "20C"
    assert messages[5] == {
        "role": "assistant", "content": "",
        "tool_calls": [{"id": "c3", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}],
    }  # fmt: skip
    assert messages[6]["content"][0] == {"type": "image_url", "image_url": {"url": "http://x/cat.png", "detail": "low"}}


def test_options_map_onto_chat_completion_arguments() -> None:
    request = check_request({
        "input": "Hi", "max_output_tokens": 16, "temperature": 0, "top_p": 0.5, "tools": [TOOL],
        "tool_choice": {"type": "function", "name": "get_weather"}, "parallel_tool_calls": False,
        "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": True}},
        "reasoning": {"effort": "low"}, "top_logprobs": 2, "metadata": {"k": "v"}, "user": "u",
    })  # fmt: skip
    assert chat_options(request) == {
        "max_tokens": 16, "temperature": 0, "top_p": 0.5, "user": "u", "logprobs": True, "top_logprobs": 2,
        "tools": [chat_tool(TOOL)], "parallel_tool_calls": False,
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"},
                                                                   "strict": True}},
        "reasoning_effort": "low",
    }  # fmt: skip
    assert chat_tool(TOOL) == {
        "type": "function",
        "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}},
    }
    json_object = check_request({"input": "Hi", "text": {"format": {"type": "json_object"}}})
    assert chat_options(json_object) == {"response_format": {"type": "json_object"}}


_text = st.text(alphabet="abc xyz", min_size=1, max_size=8)
_ids = st.integers(0, 9)
_item = st.one_of(
    st.builds(lambda t: {"role": "user", "content": t}, _text),
    st.builds(lambda t: {"role": "assistant", "content": [{"type": "output_text", "text": t}]}, _text),
    st.builds(lambda i: {"type": "function_call", "call_id": f"c{i}", "name": "f", "arguments": "{}"}, _ids),
    st.builds(lambda i: {"type": "function_call_output", "call_id": f"c{i}", "output": "ok"}, _ids),
    st.just({"type": "reasoning", "id": "rs", "summary": []}),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_item, max_size=12))
def test_every_item_lands_in_order_and_no_message_has_null_content(items: list[dict[str, Any]]) -> None:
    messages = to_messages(check_request({"input": items}).input)
    assert all(isinstance(m["content"], str) for m in messages)
    calls = [c["id"] for m in messages for c in m.get("tool_calls", ())]
    assert calls == [i["call_id"] for i in items if i.get("type") == "function_call"]
    outputs = [m["tool_call_id"] for m in messages if m["role"] == "tool"]
    assert outputs == [i["call_id"] for i in items if i.get("type") == "function_call_output"]
    texts = [m["content"] for m in messages if m["role"] in ("user", "assistant") and m["content"]]
    given_texts = [
        i["content"] if isinstance(i["content"], str) else i["content"][0]["text"] for i in items if "content" in i
    ]
    assert texts == given_texts


# ---------------------------------------------------------------- whole answers


def test_chat_completion_becomes_a_response_that_validates() -> None:
    message = {
        "role": "assistant", "content": "Sunny.", "reasoning_content": "Look it up.",
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}],
    }  # fmt: skip
    response = build_response(chat(message, "tool_calls"), base(tools=[TOOL], metadata={"k": "v"}))
    validated = openai_response(response)
    assert [item.type for item in validated.output] == ["reasoning", "message", "function_call"]
    assert validated.output_text == "Sunny." == schema.response(response).output_text
    assert validated.status == "completed" and validated.tools[0].name == "get_weather"
    assert validated.usage is not None and (validated.usage.input_tokens, validated.usage.output_tokens) == (5, 2)
    assert validated.output[2].call_id == "call_1" and validated.metadata == {"k": "v"}


def test_length_makes_the_response_incomplete_and_estimates_stay_flagged() -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 16, "total_tokens": 21, "estimated": True}
    response = build_response(chat({"role": "assistant", "content": "One two"}, "length", usage), base())
    validated = openai_response(response)
    assert validated.status == "incomplete" and validated.incomplete_details.reason == "max_output_tokens"
    assert validated.output[0].status == "incomplete"
    assert schema.response(response).usage.model_dump()["estimated"] is True


def test_usage_details_are_carried() -> None:
    usage = response_usage({
        "prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13,
        "prompt_tokens_details": {"cached_tokens": 3}, "completion_tokens_details": {"reasoning_tokens": 2},
    })  # fmt: skip
    assert usage is not None
    assert (
        usage["input_tokens_details"]["cached_tokens"] == 3 and usage["output_tokens_details"]["reasoning_tokens"] == 2
    )


# ---------------------------------------------------------------- streams


def run_stream(chunks: list[dict[str, Any]], **options: Any) -> tuple[list[dict[str, Any]], ChatToEvents]:
    translator = ChatToEvents(base(**options))
    events = translator.start()
    for c in chunks:
        events += translator.feed(c)
    events += translator.finish()
    return events, translator


def check_sequence(events: list[dict[str, Any]]) -> None:
    for event in events:
        openai_event(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


def test_text_stream_follows_openai_order() -> None:
    lp = {"content": [{"token": "Hel", "logprob": -0.1, "bytes": None, "top_logprobs": []}]}
    events, translator = run_stream([
        chunk({"role": "assistant", "content": ""}), chunk({"content": "Hel"}, logprobs=lp), chunk({"content": "lo"}),
        chunk({}, "stop"), {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}},
    ])  # fmt: skip
    check_sequence(events)
    assert [e["type"] for e in events] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done", "response.completed",
    ]  # fmt: skip
    assert events[4]["logprobs"][0]["token"] == "Hel" and events[6]["text"] == "Hello"
    final = openai_response(events[-1]["response"])
    assert final.output_text == "Hello" and final.usage.output_tokens == 2
    assert translator.response["status"] == "completed"


def test_reasoning_then_text_then_tool_calls_each_get_an_item() -> None:
    events, _ = run_stream([
        chunk({"reasoning_content": "Think"}), chunk({"reasoning": "ing."}), chunk({"content": "Calling."}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}),  # the name comes later
        chunk({"tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "get_weather", "arguments": 'ty"'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ': "Paris"}'}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_b", "function": {"name": "get_time", "arguments": "{}"}}]}),
        chunk({}, "tool_calls"),
    ], tools=[TOOL])  # fmt: skip
    check_sequence(events)
    added = [e for e in events if e["type"] == "response.output_item.added"]
    assert [(e["item"]["type"], e["output_index"]) for e in added] == [
        ("reasoning", 0),
        ("message", 1),
        ("function_call", 2),
        ("function_call", 3),
    ]
    assert added[2]["item"]["call_id"] == "call_a" and added[2]["item"]["name"] == "get_weather"
    done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert [e["arguments"] for e in done] == ['{"city": "Paris"}', "{}"]
    reasoning = [e for e in events if e["type"] == "response.reasoning_text.done"]
    assert reasoning[0]["text"] == "Thinking."
    final = openai_response(events[-1]["response"])
    assert [i.type for i in final.output] == ["reasoning", "message", "function_call", "function_call"]


def test_length_ends_with_response_incomplete() -> None:
    events, _ = run_stream([chunk({"content": "One"}), chunk({}, "length")])
    check_sequence(events)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-2]["item"]["status"] == "incomplete"


def test_an_error_mid_stream_gives_response_failed_with_the_text_so_far() -> None:
    translator = ChatToEvents(base())
    events = translator.start() + translator.feed(chunk({"content": "Par"}))
    events += translator.fail(APIError("generation failed", None))
    check_sequence(events)
    failed = openai_response(events[-1]["response"])
    assert events[-1]["type"] == "response.failed" and failed.status == "failed"
    assert failed.error is not None and failed.error.message == "generation failed"
    assert failed.output_text == "Par"


def test_a_tool_call_resumed_after_another_began_is_refused() -> None:
    translator = ChatToEvents(base())
    translator.start()
    translator.feed(chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}}]}))
    translator.feed(chunk({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "g", "arguments": ""}}]}))
    with pytest.raises(APIResponseValidationError):
        translator.feed(chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}))


_pieces = st.lists(st.text(alphabet="ab ,.é", min_size=1, max_size=5), min_size=0, max_size=6)


@settings(max_examples=150, deadline=None)
@given(_pieces, _pieces, st.lists(st.tuples(st.sampled_from(["f", "g"]), _pieces), max_size=3), st.booleans())
def test_any_chunk_sequence_gives_valid_events_whose_deltas_add_up(
    reasoning: list[str], text: list[str], calls: list[tuple[str, list[str]]], cut: bool
) -> None:
    chunks = [chunk({"reasoning_content": p}) for p in reasoning] + [chunk({"content": p}) for p in text]
    for index, (name, pieces) in enumerate(calls):
        chunks.append(chunk({"tool_calls": [{"index": index, "id": f"call_{index}", "function": {"name": name}}]}))
        chunks += [chunk({"tool_calls": [{"index": index, "function": {"arguments": p}}]}) for p in pieces]
    chunks.append(chunk({}, "length" if cut else ("tool_calls" if calls else "stop")))
    events, translator = run_stream(chunks)
    check_sequence(events)
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert deltas == "".join(text) == openai_response(translator.response).output_text
    args = [e["arguments"] for e in events if e["type"] == "response.function_call_arguments.done"]
    assert args == ["".join(pieces) for _, pieces in calls]
    indexes = [e["output_index"] for e in events if e["type"] == "response.output_item.added"]
    assert indexes == list(range(len(translator.response["output"])))
    assert events[-1]["type"] == ("response.incomplete" if cut else "response.completed")


# ---------------------------------------------------------------- native answers


LLAMA_CPP_RESPONSE = {
    "completed_at": 1760000000, "created_at": 1760000000, "id": "resp_abc", "model": "smollm2",
    "object": "response", "status": "completed",
    "output": [
        {"id": "rs_1", "summary": [], "type": "reasoning", "encrypted_content": "", "status": "completed",
         "content": [{"text": "hm", "type": "reasoning_text"}]},
        {"content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "Blue."}],
         "id": "msg_1", "role": "assistant", "status": "completed", "type": "message"},
        {"type": "function_call", "status": "completed", "arguments": "{}", "call_id": "fc_x", "name": "f"},
    ],
    "usage": {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10},
}  # fmt: skip


def test_a_llama_cpp_response_is_completed_from_the_request() -> None:
    request = check_request({"input": "Hi", "tools": [TOOL], "tool_choice": "required"})
    response = normalise_response(LLAMA_CPP_RESPONSE, request)
    validated = openai_response(response)
    assert validated.tools[0].name == "get_weather" and validated.tool_choice == "required"
    assert validated.parallel_tool_calls is True and validated.output_text == "Blue."
    assert validated.usage.input_tokens_details.cached_tokens == 0
    with pytest.raises(APIResponseValidationError):
        normalise_response({"choices": []} | {"output": "x"}, request)


def llama_cpp_events(text: list[str]) -> list[dict[str, Any]]:
    """Events as llama.cpp's server sends them: no sequence_number, output_index, content_index or logprobs."""
    head = {"id": "resp_abc", "object": "response", "status": "in_progress"}
    message = {"content": [], "id": "msg_1", "role": "assistant", "status": "in_progress", "type": "message"}
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": "".join(text)}
    done = {**message, "status": "completed", "content": [part]}
    return [
        {"type": "response.created", "response": head},
        {"type": "response.in_progress", "response": head},
        {"type": "response.output_item.added", "item": {"id": "rs_1", "summary": [], "type": "reasoning", "content": [],
                                                         "encrypted_content": "", "status": "in_progress"}},
        {"type": "response.reasoning_text.delta", "delta": "hm", "item_id": "rs_1"},
        {"type": "response.output_item.done", "item": {"id": "rs_1", "summary": [], "type": "reasoning",
                                                        "content": [{"text": "hm", "type": "reasoning_text"}]}},
        {"type": "response.output_item.added", "item": message},
        {"type": "response.content_part.added", "item_id": "msg_1", "part": {"type": "output_text", "text": ""}},
        *[{"type": "response.output_text.delta", "item_id": "msg_1", "delta": t} for t in text],
        {"type": "response.output_item.added", "item": {"arguments": "", "call_id": "fc_x", "name": "f",
                                                         "type": "function_call", "status": "in_progress"}},
        {"type": "response.function_call_arguments.delta", "delta": "{}", "item_id": "fc_x"},
        {"type": "response.output_text.done", "item_id": "msg_1", "text": "".join(text)},
        {"type": "response.content_part.done", "item_id": "msg_1", "part": part},
        {"type": "response.output_item.done", "item": done},
        {"type": "response.output_item.done", "item": {"type": "function_call", "status": "completed",
                                                        "arguments": "{}", "call_id": "fc_x", "name": "f"}},
        {"type": "response.completed", "response": {**LLAMA_CPP_RESPONSE, "created_at": 1760000001}},
    ]  # fmt: skip


def test_llama_cpp_events_are_completed_so_that_every_one_validates() -> None:
    consumer = NativeEvents(check_request({"input": "Hi"}), None)  # type: ignore[arg-type]
    events = [e for raw in llama_cpp_events(["Bl", "ue."]) for e in consumer.feed(json.dumps(raw).encode())]
    check_sequence(events)
    by_type = {e["type"]: e for e in events}
    assert by_type["response.reasoning_text.delta"]["output_index"] == 0
    assert by_type["response.output_text.delta"]["output_index"] == 1
    assert by_type["response.function_call_arguments.delta"]["output_index"] == 2
    assert by_type["response.output_text.done"]["output_index"] == 1
    assert consumer.feed(b"[DONE]") == [] and consumer.done and consumer.finish() == []


def test_a_native_failure_is_handed_out_then_raised() -> None:
    consumer = NativeEvents(check_request({"input": "Hi"}), None)  # type: ignore[arg-type]
    error = {"code": "server_error", "message": "boom"}
    failed = {
        "type": "response.failed",
        "sequence_number": 4,
        "response": {"id": "r", "status": "failed", "error": error},
    }
    events = consumer.feed(json.dumps(failed).encode())
    assert openai_event(events[0]).response.error.message == "boom"
    with pytest.raises(APIError, match="boom"):
        consumer.finish()


def test_a_native_stream_cut_short_raises() -> None:
    consumer = NativeEvents(check_request({"input": "Hi"}), None)  # type: ignore[arg-type]
    for raw in llama_cpp_events(["Bl"])[:-1]:
        consumer.feed(json.dumps(raw).encode())
    with pytest.raises(APIError, match="ended before"):
        consumer.finish()


def test_an_error_after_the_response_ended_adds_no_second_terminal_event() -> None:
    translator = ChatToEvents(base())
    translator.start()
    translator.feed(chunk({"content": "Done."}))
    translator.finish()
    assert translator.done and translator.fail(APIError("late", None)) == []

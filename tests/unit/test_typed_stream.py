"""The plain-delta fast paths give what the general path gives.

`easyllm.typed_stream`: chunks validated straight from the event's JSON equal those of the general path.

The general path is what the typed client did before: `MessagesStream.feed` and `chat_chunk` on each dict. Chunks
are compared as users can see them: values, the fields set (`model_dump(exclude_unset=True)`), extra fields.
`MessagesStream.bare_text` (the Responses translation): the text of a plain delta handed out as a `str` gives the
same Responses events as the chunk built around it.
"""

from __future__ import annotations

import itertools
import json
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from easyllm.protocol.messages_stream import MessagesStream
from easyllm.protocol.responses.build import skeleton
from easyllm.protocol.responses.events import ChatToEvents
from easyllm.protocol.responses.request import check_request
from easyllm.response_calls import _CHAT_FOR_EVENTS
from easyllm.schema.types import ChatCompletionChunk, chat_chunk
from easyllm.typed_stream import CHAT_CHUNKS, TypedChatStream
from tests.unit.test_messages_stream import REQUEST, plan


def seen(model: BaseModel) -> Any:
    """Everything a user can see of a chunk, nested models included."""
    return model.model_dump(), model.model_dump(exclude_unset=True), model.model_dump_json(), repr(model)


def run(consumer: Any, events: list[bytes], convert: Any) -> tuple[list[Any], str]:
    """Every chunk a user would see (as `seen`), or the error, and the text so far."""
    out: list[Any] = []
    try:
        for data in events:
            out += [seen(convert(item)) for item in consumer.feed(data)]
            if consumer.done:
                break
        else:
            out += [seen(convert(item)) for item in consumer.finish()]
    except Exception as err:  # the same error either way
        out.append((type(err).__name__, str(err)))
    return out, getattr(consumer, "_stream", consumer).partial_text


def general(events: list[bytes], stops: tuple[str, ...] = ()) -> tuple[list[Any], str]:
    """What the typed client gave before: the state machine's dicts, each validated by `chat_chunk`."""
    return run(MessagesStream(plan(stops), REQUEST), events, chat_chunk)


def typed(events: list[bytes], stops: tuple[str, ...] = ()) -> tuple[list[Any], str]:
    return run(TypedChatStream(MessagesStream(plan(stops), REQUEST)), events, CHAT_CHUNKS)


_PIECES = st.sampled_from(["<think>", "</think>", "Hel", "lo", " ", "\n", "END", "E", "ND", "x", "", "<", "é😀"])
_DELTAS = st.one_of(
    st.builds(lambda p: {"content": p}, _PIECES),
    st.builds(lambda p: {"role": "assistant", "content": p}, _PIECES),
    st.builds(lambda p: {"role": "model", "content": p}, _PIECES),  # not a role pydantic knows
    st.builds(lambda p: {"reasoning_content": p}, _PIECES),
    st.builds(lambda p: {"content": p, "extra": 1}, _PIECES),
    st.just({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": "{}"}}]}),
    st.just({"content": None}),
    st.just({"content": 5}),
)
_CHOICE_EXTRAS = st.sampled_from([{}, {}, {"stop_reason": None}, {"text": "?"}])
_EVENT_EXTRAS = st.sampled_from(
    [{}, {}, {"system_fingerprint": "fp"}, {"usage": None}, {"usage": {"prompt_tokens": 1}}, {"timings": {}},
     {"object": "chat.completion.chunk"}, {"object": "other"}, {"id": ""}, {"created": "x"}, {"error": "boom"}]
)  # fmt: skip


def event(delta: Any, reason: Any = None, choice_extra: Any = None, extra: Any = None, index: int = 0) -> bytes:
    choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": reason, **(choice_extra or {})}
    return json.dumps({"id": "s", "created": 1, "model": "m", "choices": [choice], **(extra or {})}).encode()


def _stream(steps: list[Any], last: str | None, done: bool) -> list[bytes]:
    events = [event(*step) for step in steps]
    events += [event({}, last)] if last else []
    return events + ([b"[DONE]"] if done else [])


#: A random stream's events, and the stop sequences it is read with.
_STREAMS = st.tuples(
    st.builds(
        _stream,
        st.lists(
            st.tuples(_DELTAS, st.sampled_from([None, None, None, "", "length"]), _CHOICE_EXTRAS, _EVENT_EXTRAS,
                      st.sampled_from([0, 0, 1])),
            max_size=14,
        ),
        st.sampled_from(["stop", "length", None]),
        st.booleans(),
    ),
    st.sampled_from([(), ("END",), ("<", "lo w")]),
)  # fmt: skip


@given(_STREAMS)
def test_typed_chunks_are_the_general_path_s_chunks(stream: tuple[list[bytes], tuple[str, ...]]) -> None:
    events, stops = stream
    assert typed(events, stops) == general(events, stops)


def test_a_plain_stream_is_read_by_pydantic_core_after_its_first_event() -> None:
    events = [event({"role": "assistant", "content": "Hel"}), event({"content": "lo"}, extra={"usage": None})]
    events += [event({"role": "assistant", "content": " you"}), event({}, "stop"), b"[DONE]"]
    consumer = TypedChatStream(MessagesStream(plan(()), REQUEST))
    items = [item for data in events for item in consumer.feed(data)]
    built = [type(item) is ChatCompletionChunk for item in items]
    assert built == [False, False, True, True, False]  # role chunk and first text by the state machine; end too
    assert typed(events) == general(events)
    chunk = items[2]
    assert chunk.id == "s" and chunk.choices[0].delta.role is None and chunk.usage is None
    assert chunk.model_dump(exclude_unset=True) == {
        "id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m", "system_fingerprint": None,
        "choices": [{"index": 0, "delta": {"content": "lo"}, "logprobs": None, "finish_reason": None}],
    }  # fmt: skip


def test_after_three_events_that_are_not_plain_the_rest_goes_the_general_way() -> None:
    calls: list[bytes] = []

    class Counting(MessagesStream):
        def feed(self, data: bytes) -> list[dict[str, Any]]:
            calls.append(data)
            return super().feed(data)

    odd = [event({"content": "x"}, choice_extra={"logprobs": {"content": []}}) for _ in range(3)]
    events = [event({"content": "a"}), *odd, event({"content": "b"}), event({"content": "c"})]
    consumer = TypedChatStream(Counting(plan(()), REQUEST))
    for data in events:
        consumer.feed(data)
    assert len(calls) == 6  # the first (header), three misses, then two plain ones no longer tried


@pytest.mark.parametrize("stops", [("lo",), ("l",)])
def test_a_stop_sequence_inside_a_plain_delta_ends_the_stream_as_before(stops: tuple[str, ...]) -> None:
    events = [event({"content": "He"}), event({"content": "llo"}), event({"content": " world"}), b"[DONE]"]
    assert typed(events, stops) == general(events, stops)
    chunks, text = typed(events, stops)
    assert text == ("Hel" if stops == ("lo",) else "He")
    assert json.loads(chunks[-1][2])["choices"][0]["finish_reason"] == "stop"  # and nothing after it


def test_content_that_is_not_text_is_a_typed_error_on_both_paths() -> None:
    events = [event({"content": "a"}), event({"content": 5})]
    for result in (typed(events), general(events)):
        assert result[0][-1][0] == "APIResponseValidationError" and "unexpected content" in result[0][-1][1]


def test_a_plain_chunk_with_extras_another_index_or_missing_keys_is_made_what_the_general_path_builds() -> None:
    odd_choice = json.dumps(
        {"id": "other", "created": 7, "model": "n", "object": "chat.completion.chunk", "usage": None, "timings": {},
         "choices": [{"index": 3, "delta": {"role": "assistant", "content": "c"}, "stop_reason": None}]}
    ).encode()  # fmt: skip
    events = [
        event({"role": "assistant", "content": "a"}),
        event({"content": "b"}, choice_extra={"stop_reason": None}, extra={"system_fingerprint": "fp", "x": 1}),
        odd_choice,
        event({}, "stop"),
        b"[DONE]",
    ]
    consumer = TypedChatStream(MessagesStream(plan(()), REQUEST))
    items = [item for data in events for item in consumer.feed(data)]
    assert [type(item) is ChatCompletionChunk for item in items] == [False, False, True, True, False]
    assert typed(events) == general(events)
    for chunk in items[2:4]:
        assert chunk.id == "s" and chunk.model == "m" and chunk.created == 1 and chunk.model_extra == {}
        assert chunk.choices[0].index == 0 and chunk.choices[0].model_extra == {}
        assert chunk.choices[0].model_fields_set == {"index", "delta", "logprobs", "finish_reason"}


def test_other_consumers_and_samples_keep_the_general_path() -> None:
    class Other:
        done = False

        def feed(self, data: bytes) -> list[dict[str, Any]]:
            return []

        def finish(self) -> list[dict[str, Any]]:
            return []

    other = Other()
    assert CHAT_CHUNKS.consumer(other) is other
    assert type(CHAT_CHUNKS.consumer(MessagesStream(plan(()), REQUEST))) is TypedChatStream


@pytest.mark.parametrize(
    "last",
    [
        b"[DONE]",  # straight after text: the end comes from the state machine
        event({"content": "c"}, extra={"error": {"message": "overloaded"}}),  # an error beside the chunk raises
        event({"content": "c"}, extra={"usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}),
        json.dumps(
            {"id": "s", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"content": "c"}}] * 2}
        ).encode(),
    ],
)
def test_what_is_not_a_plain_delta_goes_to_the_state_machine_while_ready(last: bytes) -> None:
    events = [event({"content": "a"}), event({"content": "b"}), last]
    assert typed(events) == general(events)


# ---------------------------------------------------------------- plain text handed out bare (the Responses path)


def translated(events: list[bytes], stops: tuple[str, ...], bare: bool) -> tuple[list[Any], str, dict[str, Any]]:
    """The Responses events of a chat stream (ids numbered in order), the error if any, the text, the response."""
    stream = MessagesStream(plan(stops), REQUEST)
    stream.bare_text = bare
    base = skeleton(check_request({"input": "Hi"}), response_id="resp_1", created_at=1.0, model="m")
    translator = ChatToEvents(base)
    ids = itertools.count()
    out: list[Any] = []
    with patch("easyllm.protocol.responses.events.new_id", lambda prefix: f"{prefix}_{next(ids)}"):
        try:
            for data in events:
                for item in stream.feed(data):
                    assert bare or type(item) is dict
                    out += translator.feed(item)
                if stream.done:
                    break
            else:
                for item in stream.finish():
                    out += translator.feed(item)
            out += translator.finish()
        except Exception as err:  # the same error, and the same `response.failed`, either way
            out += translator.fail(err)
            out.append((type(err).__name__, str(err)))
    return out, stream.partial_text, translator.response


@given(_STREAMS)
def test_bare_text_gives_the_responses_events_of_the_chunks(stream: tuple[list[bytes], tuple[str, ...]]) -> None:
    events, stops = stream
    assert translated(events, stops, bare=True) == translated(events, stops, bare=False)


def test_plain_deltas_are_handed_out_bare_and_everything_else_as_chunks() -> None:
    stream = MessagesStream(plan(("END",)), REQUEST)
    assert _CHAT_FOR_EVENTS.consumer(stream) is stream and stream.bare_text
    events = [event({"role": "assistant", "content": "Hel"}), event({"content": "lo"}), event({"content": "E"})]
    events += [event({"reasoning_content": "hm"}), event({"content": "ND more"})]
    items = [item if isinstance(item, str) else "chunk" for data in events for item in stream.feed(data)]
    # The role chunk; "Hel" while the stream still looks for a `<think>` at the start; "lo" bare; "E" held back
    # (it may begin the stop sequence); the server's reasoning; after it every delta takes the general path.
    assert items == ["chunk", "chunk", "lo", "chunk", "chunk"]
    assert stream.done and stream.partial_text == "Hello"  # the stop sequence completed: the end chunk, no more
    general_stream = MessagesStream(plan(()), REQUEST)
    assert all(type(item) is dict for data in events for item in general_stream.feed(data))  # not set: chunks

"""The OpenAI-compatible stream state machine: its per-token fast path gives what the general path gives."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from easyllm.protocol.messages import ChatWire, MessagesPlan
from easyllm.protocol.messages_stream import MessagesStream
from easyllm.protocol.options import parse_chat_options

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def plan(stops: tuple[str, ...]) -> MessagesPlan:
    return MessagesPlan(
        kind="chat", wire=ChatWire(), calls=(), model="m", id="chatcmpl-test", created=0, stops=stops,
        prompt="hi", options=parse_chat_options({}), stream=True,
    )  # fmt: skip


def event(delta: dict[str, Any], reason: str | None = None, logprobs: Any = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": reason}
    return json.dumps({"id": "s", "created": 1, "model": "m", "choices": [choice]}).encode()


def run(stream: MessagesStream, events: list[bytes]) -> tuple[list[dict[str, Any]], str]:
    out: list[dict[str, Any]] = []
    for data in events:
        out += stream.feed(data)
    out += stream.finish()
    return out, stream.partial_text


class GeneralOnly(MessagesStream):
    def _plain_text(self, choice: dict[str, Any]) -> None:  # type: ignore[override]
        return None


_PIECES = st.sampled_from(["<think>", "</think>", "Hel", "lo", " ", "\n", "END", "E", "ND", "x", "", "<"])
_DELTAS = st.one_of(
    st.builds(lambda p: {"content": p}, _PIECES),
    st.builds(lambda p: {"role": "assistant", "content": p}, _PIECES),
    st.builds(lambda p: {"reasoning_content": p}, _PIECES),
    st.just({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": "{}"}}]}),
    st.just({"content": None}),
)


@given(
    st.lists(st.tuples(_DELTAS, st.sampled_from([None, None, None, ""])), max_size=12),
    st.sampled_from([(), ("END",), ("<", "lo w")]),
    st.sampled_from(["stop", "length", None]),
)
def test_the_fast_path_gives_what_the_general_path_gives(
    steps: list[tuple[dict[str, Any], str | None]], stops: tuple[str, ...], last: str | None
) -> None:
    events = [event(delta, reason) for delta, reason in steps]
    events += [event({}, last), b"[DONE]"] if last else [b"[DONE]"]
    fast, general = MessagesStream(plan(stops), REQUEST), GeneralOnly(plan(stops), REQUEST)
    assert run(fast, events) == run(general, events)


def test_a_plain_stream_takes_the_fast_path_after_its_first_delta() -> None:
    taken: list[bool] = []

    class Watch(MessagesStream):
        def _plain_text(self, choice: dict[str, Any]) -> list[dict[str, Any]] | None:
            result = super()._plain_text(choice)
            taken.append(result is not None)
            return result

    events = [event({"role": "assistant", "content": "Hel"}), event({"content": "lo"}), event({}, "stop"), b"[DONE]"]
    chunks, text = run(Watch(plan(()), REQUEST), events)
    assert text == "Hello" and taken == [False, True, False]  # the first decides <think>; the last finishes
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": ""},
        {"content": "Hel"},
        {"content": "lo"},
        {},
    ]

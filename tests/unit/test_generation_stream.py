"""TGI's native stream state machine: its per-token fast path gives what the general path gives."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from easyllm.protocol.generation import GenerationPlan, GenerationStream
from easyllm.protocol.options import parse_chat_options

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/generate_stream")


def plan(kind: str, stops: tuple[str, ...], usage: bool) -> GenerationPlan:
    options = parse_chat_options({"stream_options": {"include_usage": True}} if usage else {})
    return GenerationPlan(kind, (), "m", "cmpl-test", 0, stops, "hi", options, True)  # type: ignore[arg-type]


def token_event(text: Any, special: bool, last: str | None) -> bytes:
    event: dict[str, Any] = {"token": {"id": 1, "text": text, "logprob": -0.1, "special": special}}
    event["generated_text"] = last
    event["details"] = {"finish_reason": "length", "generated_tokens": 3, "input_length": 2} if last else None
    return json.dumps(event).encode()


class GeneralOnly(GenerationStream):
    def _plain_token(self, event: dict[str, Any]) -> None:  # type: ignore[override]
        return None


def run(stream: GenerationStream, events: list[bytes]) -> tuple[list[dict[str, Any]], str, bool]:
    out: list[dict[str, Any]] = []
    for data in events:
        out += stream.feed(data)
    return out, stream.partial_text, stream.done


_TEXTS = st.sampled_from(["Hel", "lo", " ", "END", "E", "ND", "x", "", "<|im_end|>", 7])


@given(
    st.lists(st.tuples(_TEXTS, st.booleans()), max_size=12),
    st.sampled_from(["chat", "text"]),
    st.sampled_from([(), ("END",), ("<|im_end|>", "lo x")]),
    st.booleans(),
)
def test_the_fast_path_gives_what_the_general_path_gives(
    tokens: list[tuple[Any, bool]], kind: str, stops: tuple[str, ...], usage: bool
) -> None:
    events = [token_event(text, special, None) for text, special in tokens]
    events.append(token_event("!", False, "the whole text"))
    fast, general = GenerationStream(plan(kind, stops, usage), REQUEST), GeneralOnly(plan(kind, stops, usage), REQUEST)
    assert run(fast, events) == run(general, events)

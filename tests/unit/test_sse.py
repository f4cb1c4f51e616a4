from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from easyllm.protocol.sse import SSEDecoder, SSEPipeline


def decode(lines: list[str]) -> list[str]:
    decoder = SSEDecoder()
    out = [d for line in lines if (d := decoder.feed_line(line)) is not None]
    last = decoder.flush()
    return out + ([last] if last is not None else [])


def test_data_with_and_without_space_comments_and_other_fields() -> None:
    lines = ['data:{"a":1}', "", ": keep-alive", "", "event: message", "id: 3", "data: [DONE]", ""]
    assert decode(lines) == ['{"a":1}', "[DONE]"]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert decode(["data: one", "data:two", ""]) == ["one\ntwo"]


def test_an_unterminated_last_event_is_flushed() -> None:
    assert decode(['data: {"last": true}']) == ['{"last": true}']


@given(st.lists(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3), max_size=10))
def test_round_trip_of_json_events(events: list[dict[str, Any]]) -> None:
    lines: list[str] = []
    for event in events:
        lines += [f"data: {json.dumps(event)}", ""]
    assert [json.loads(d) for d in decode(lines)] == events


class Collect:
    def __init__(self) -> None:
        self.done = False
        self.seen: list[str] = []

    def feed(self, data: str) -> list[dict[str, Any]]:
        self.seen.append(data)
        self.done = data == "stop"
        return [{"data": data}]

    def finish(self) -> list[dict[str, Any]]:
        return [{"finished": True}]


def test_pipeline_feeds_events_and_reports_done() -> None:
    consumer = Collect()
    pipe = SSEPipeline(consumer)
    assert pipe.feed_line("data: a") == []
    assert pipe.feed_line("") == [{"data": "a"}]
    assert not pipe.done
    pipe.feed_line("data: stop")
    assert pipe.feed_line("") == [{"data": "stop"}] and pipe.done
    assert pipe.end() == [{"finished": True}]

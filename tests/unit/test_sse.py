from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from easyllm.errors import APIResponseValidationError
from easyllm.protocol.sse import SSEDecoder, SSEPipeline, decode_event


def decode_bytes(body: bytes, cuts: list[int] | None = None) -> list[str]:
    """The events' data as text."""
    return [d.decode() for d in decode_raw(body, cuts)]


def decode_raw(body: bytes, cuts: list[int] | None = None) -> list[bytes]:
    """Feed `body` in pieces cut at `cuts` (each piece as a separate network read), then end it."""
    decoder = SSEDecoder()
    points = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts or [])})
    out: list[bytes] = []
    for a, b in itertools.pairwise(points):
        out += decoder.feed(body[a:b])
    last = decoder.flush()
    return out + ([last] if last is not None else [])


def decode(lines: list[str], end: str = "\n") -> list[str]:
    return decode_bytes("".join(line + end for line in lines).encode())


def test_data_with_and_without_space_comments_and_other_fields() -> None:
    lines = ['data:{"a":1}', "", ": keep-alive", "", "event: message", "id: 3", "data: [DONE]", ""]
    assert decode(lines) == ['{"a":1}', "[DONE]"]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert decode(["data: one", "data:two", ""]) == ["one\ntwo"]


def test_an_unterminated_last_event_is_flushed() -> None:
    assert decode(['data: {"last": true}']) == ['{"last": true}']
    assert decode_bytes(b'data: {"last": true}') == ['{"last": true}']
    assert decode_bytes(b'data: {"last": true}\r') == ['{"last": true}']


def test_crlf_and_cr_line_ends_and_a_byte_order_mark() -> None:
    assert decode(["data: a", "", "data: b", ""], end="\r\n") == ["a", "b"]
    assert decode(["data: a", "", "data: b", ""], end="\r") == ["a", "b"]
    assert decode_bytes(b"\xef\xbb\xbfdata: a\n\n", cuts=[1, 2]) == ["a"]
    assert decode_bytes(b"data: a\r\n\r\n", cuts=[8]) == ["a"]  # a CRLF split between two reads is one line end


def test_data_stays_bytes_and_invalid_utf8_reads_as_replacement_characters() -> None:
    assert decode_raw(b"data: caf\xe9\n\n") == [b"caf\xe9"]
    assert decode_bytes("data: café 🦊\n\n".encode(), cuts=[10, 11, 13]) == ["café 🦊"]
    request = httpx.Request("POST", "http://127.0.0.1:9/")
    assert decode_event(b'{"text": "caf\xe9"}', request) == {"text": "caf\ufffd"}  # as httpx's text decoder gave
    with pytest.raises(APIResponseValidationError, match="unreadable stream event: 'nope'"):
        decode_event(b"nope", request)
    with pytest.raises(APIResponseValidationError, match="unexpected stream event"):
        decode_event(b"[1]", request)


def test_a_long_line_in_many_reads_is_kept_in_its_pieces_and_joined_once() -> None:
    # A large event (a final TGI event carrying the whole text, a base64 image) arrives in many reads: each read of
    # the same line is kept as it came, not copied onto what came before (which made the work grow as the square).
    text = b"x" * 1_000_000
    body = b'data: {"a": 1}\n\ndata: "' + text + b'"\r\n\r\ndata: [DONE]\n\n'
    decoder = SSEDecoder()
    assert decoder.feed(body[:20]) == [b'{"a": 1}']  # and the start of the next line, `data`
    line_end = body.index(b"\r\n")
    reads = [body[i : min(i + 4096, line_end)] for i in range(20, line_end, 4096)]
    for read in reads:
        assert decoder.feed(read) == []
    assert len(decoder._tail) == 1 + len(reads)  # that start, then one piece per read: nothing joined yet
    assert decoder.feed(body[line_end:]) == [b'"' + text + b'"', b"[DONE]"]
    assert decoder._tail == []
    assert decode_raw(body, cuts=list(range(0, len(body), 65536))) == [b'{"a": 1}', b'"' + text + b'"', b"[DONE]"]


_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")
_LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


@given(
    st.lists(st.text(alphabet=_TEXT, max_size=12), max_size=8),
    _LINE_ENDS,
    st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_any_split_of_the_body_gives_the_events_of_the_whole(datas: list[str], end: str, cuts: list[int]) -> None:
    lines: list[str] = []
    for i, data in enumerate(datas):
        lines += [f": comment {i}", f"data:{data}" if i % 2 else f"data: {data}", ""]
    body = "".join(line + end for line in lines).encode()
    expected = [d.removeprefix(" ") if i % 2 else d for i, d in enumerate(datas)]
    assert decode_bytes(body, cuts) == expected
    assert decode_bytes(body) == expected


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

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        text = data.decode()
        self.seen.append(text)
        self.done = text == "stop"
        return [{"data": text}]

    def finish(self) -> list[dict[str, Any]]:
        return [{"finished": True}]


def test_pipeline_feeds_events_and_reports_done() -> None:
    consumer = Collect()
    pipe = SSEPipeline(consumer)
    assert pipe.events(b"data: a\n") == []
    assert [pipe.consume(d) for d in pipe.events(b"\n")] == [[{"data": "a"}]]
    assert not pipe.done
    assert pipe.events(b"data: stop\n\ndata: after\n\n") == [b"stop", b"after"]
    assert pipe.consume(b"stop") == [{"data": "stop"}] and pipe.done
    assert pipe.end() == [{"finished": True}]

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from easyllm.protocol.stops import StopTrimmer, find_stop, trim_stop

# --- strategies ------------------------------------------------------------------------------------------

# Small alphabets make stops and their fragments occur often; "é", "😀" and "\n" keep unicode in play.
STOP_ALPHABET = "ab<>/s\né😀"

stop_sets = st.lists(st.text(alphabet=STOP_ALPHABET, min_size=1, max_size=5), min_size=1, max_size=5)

TRICKY_STOP_SETS: list[list[str]] = [
    ["abc", "b"],
    ["ab", "b"],
    ["aa", "a"],
    ["a", "aa", "aaa"],
    ["abab", "ba"],
    ["</s>", "<|im_end|>", "\nUser:"],
    ["😀é", "é"],
    ["aab", "ab", "b"],
]


@st.composite
def text_and_stops(draw: st.DrawFn) -> tuple[str, list[str]]:
    stops = draw(st.sampled_from(TRICKY_STOP_SETS) | stop_sets)
    fragments = [*stops, *(s[: len(s) // 2] for s in stops), *(s[len(s) // 2 :] for s in stops)]
    atoms = st.sampled_from([f for f in fragments if f]) | st.text(alphabet=STOP_ALPHABET + "xy ", max_size=3)
    text = "".join(draw(st.lists(atoms, max_size=12)))
    return text, stops


@st.composite
def split_text(draw: st.DrawFn, text: str) -> list[str]:
    """Split text into pieces at random cut points, with empty pieces mixed in."""
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=len(text) + 3)))
    bounds = [0, *cuts, len(text)]
    return [text[lo:hi] for lo, hi in itertools.pairwise(bounds)]


def stream(stops: list[str], pieces: list[str]) -> tuple[list[str], str, bool]:
    trimmer = StopTrimmer(stops)
    emitted = [trimmer.feed(piece) for piece in pieces]
    tail = "" if trimmer.stopped else trimmer.flush()
    return emitted, tail, trimmer.stopped


# --- find_stop / trim_stop ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stops", "expected"),
    [
        ("hello</s>", ["</s>"], 5),
        ("hello", ["</s>"], None),
        ("", ["</s>"], None),
        ("abc", ["c", "b"], 1),
        ("abc", ["bc", "abc"], 0),
        ("x\nUser: hi</s>", ["</s>", "\nUser:"], 1),
        ("abc", ["", "c"], 2),
        ("abc", [], None),
        ("abc", [""], None),
        ("héllo😀 there", ["😀"], 5),
    ],
)
def test_find_stop(text: str, stops: list[str], expected: int | None) -> None:
    assert find_stop(text, stops) == expected


def test_trim_stop_cuts_before_earliest_start() -> None:
    assert trim_stop("Answer: 4<|im_end|>\n<|im_start|>user", ["<|im_start|>", "<|im_end|>"]) == (
        "Answer: 4",
        True,
    )
    assert trim_stop("no stop here", ["</s>"]) == ("no stop here", False)
    assert trim_stop("</s>", ["</s>"]) == ("", True)


@given(text_and_stops())
@example(("abc", ["abc", "b"]))
def test_find_stop_is_the_minimum_of_str_find(case: tuple[str, list[str]]) -> None:
    text, stops = case
    starts = [text.find(s) for s in stops if s and s in text]
    assert find_stop(text, stops) == (min(starts) if starts else None)


# --- StopTrimmer: explicit cases ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stops", "pieces", "expected_emitted", "expected_stopped"),
    [
        # TGI tokenises "</s>" into several tokens.
        (["</s>"], ["The", " answer", " is", " 4", ".", "</", "s", ">"], "The answer is 4.", True),
        (["</s>"], ["4.<", "/s>"], "4.", True),
        (["<|im_end|>"], ["Paris", "<|", "im", "_end", "|>", "\n"], "Paris", True),
        (["\nUser:"], ["Sure", ".\n", "User", ":", " what"], "Sure.", True),
        (["\nUser:"], ["Sure", ".\n", "Use", "d"], "Sure.\nUsed", False),
        (["\nUser:"], ["Line one", "\n", "\n", "User", ":"], "Line one\n", True),
        # A stop that turned out not to be one is released, nothing is lost.
        (["</s>"], ["a </", "b> c"], "a </b> c", False),
        # The earlier-starting, longer stop wins over the shorter one found first.
        (["abc", "b"], ["a", "b", "c"], "", True),
        (["abc", "b"], ["ab", "x"], "a", True),
        (["abc", "b"], ["ab"], "a", True),  # "b" is only known to be the stop at the end of the stream
        (["aa", "a"], ["xa"], "x", True),
        (["😀é"], ["hi 😀", "é!"], "hi ", True),
    ],
)
def test_trimmer_explicit(stops: list[str], pieces: list[str], expected_emitted: str, expected_stopped: bool) -> None:
    emitted, tail, stopped = stream(stops, pieces)
    assert "".join(emitted) + tail == expected_emitted
    assert stopped is expected_stopped


def test_trimmer_emits_as_soon_as_safe() -> None:
    trimmer = StopTrimmer(["</s>", "\nUser:"])
    assert trimmer.feed("Hello") == "Hello"
    assert trimmer.feed(" world\n") == " world"
    assert trimmer.held == "\n"
    assert trimmer.feed("Us") == ""
    assert trimmer.held == "\nUs"
    assert trimmer.feed("ually") == "\nUsually"
    assert trimmer.held == ""
    assert trimmer.feed("</s>tail") == ""
    assert trimmer.stopped
    assert trimmer.feed("more") == ""
    assert trimmer.flush() == ""


def test_trimmer_without_stops_passes_pieces_through() -> None:
    trimmer = StopTrimmer([])
    piece = "any text </s>"
    assert trimmer.feed(piece) is piece
    assert trimmer.held == ""
    assert trimmer.flush() == ""
    assert not trimmer.stopped


def test_trimmer_ignores_empty_stops() -> None:
    emitted, tail, stopped = stream(["", "</s>"], ["a", "b</s>"])
    assert emitted == ["a", "b"]
    assert (tail, stopped) == ("", True)
    assert stream([""], ["a", "b"]) == (["a", "b"], "", False)


def test_flush_returns_held_text_at_end_of_stream() -> None:
    trimmer = StopTrimmer(["</s>"])
    assert trimmer.feed("x </") == "x "
    assert trimmer.flush() == "</"
    assert not trimmer.stopped
    assert trimmer.held == ""


# --- StopTrimmer: properties -----------------------------------------------------------------------------


@settings(max_examples=500)
@given(st.data(), text_and_stops())
def test_stream_equals_non_stream(data: st.DataObject, case: tuple[str, list[str]]) -> None:
    text, stops = case
    pieces = data.draw(split_text(text))
    emitted, tail, stopped = stream(stops, pieces)
    assert ("".join(emitted) + tail, stopped) == trim_stop(text, stops)


@settings(max_examples=300)
@given(st.data(), text_and_stops())
def test_no_stop_ever_emitted_and_hold_is_bounded(data: st.DataObject, case: tuple[str, list[str]]) -> None:
    text, stops = case
    trimmer = StopTrimmer(stops)
    longest = max(len(s) for s in stops)
    out = ""
    for piece in data.draw(split_text(text)):
        emitted = trimmer.feed(piece)
        assert find_stop(emitted, stops) is None
        assert len(trimmer.held) <= longest - 1
        out += emitted
        if trimmer.stopped:
            assert trimmer.held == ""
    out += trimmer.flush()
    assert find_stop(out, stops) is None


@settings(max_examples=300)
@given(st.data(), text_and_stops())
def test_no_text_lost_without_a_stop(data: st.DataObject, case: tuple[str, list[str]]) -> None:
    text, stops = case
    emitted, tail, stopped = stream(stops, data.draw(split_text(text)))
    if find_stop(text, stops) is None:
        assert not stopped
        assert "".join(emitted) + tail == text
    else:
        assert stopped
        assert text.startswith("".join(emitted) + tail)


@given(st.data(), st.text(max_size=40), st.lists(st.text(max_size=4), max_size=5))
def test_stream_equals_non_stream_any_unicode(data: st.DataObject, text: str, stops: list[str]) -> None:
    emitted, tail, stopped = stream(stops, data.draw(split_text(text)))
    assert ("".join(emitted) + tail, stopped) == trim_stop(text, stops)


@given(text_and_stops())
def test_held_is_a_proper_prefix_of_a_stop(case: tuple[str, list[str]]) -> None:
    text, stops = case
    trimmer = StopTrimmer(stops)
    for char in text:
        trimmer.feed(char)
        held = trimmer.held
        assert held == "" or any(s.startswith(held) and s != held for s in stops)

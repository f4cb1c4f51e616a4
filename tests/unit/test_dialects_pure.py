"""The pure side of the dialects: choosing one, probes, answer normalisation (reasoning, tool calls), extras."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from easyllm.dialects import DIALECTS, ENGINES, choose, needs_probe, probes, resolve_engine
from easyllm.errors import InvalidParameterError
from easyllm.protocol.extras import Extras
from easyllm.protocol.generation import HTTPCall
from easyllm.protocol.openai_answers import ThinkSplitter, ToolCallDeltas, finish_reason, split_think, tool_calls
from easyllm.settings import Settings


def at(url: str) -> Settings:
    return Settings(api_base=url)


@pytest.mark.parametrize(
    ("url", "engine", "learned", "name"),
    [
        ("https://router.huggingface.co/v1", "auto", None, "router"),
        ("https://router.huggingface.co/together/v1", "auto", None, "router"),
        ("https://router.huggingface.co/hf-inference/models", "auto", None, "hf-inference"),
        ("http://my.host/models", "auto", "vllm", "hf-inference"),  # the URL wins over a stale probe
        ("http://127.0.0.1:8000/v1", "auto", None, "openai"),
        ("http://127.0.0.1:8000/v1", "auto", "sglang", "sglang"),
        ("http://127.0.0.1:8080", "auto", None, "tgi"),
        ("http://127.0.0.1:8080", "auto", "tei", "tei"),
        ("http://127.0.0.1:8000/v1", "llama-cpp-python", "vllm", "llama-cpp-python"),  # engine= wins over all
    ],
)
def test_choose_follows_engine_then_url_then_probe(url: str, engine: str, learned: str | None, name: str) -> None:
    assert choose(at(url), engine, learned).name == name


def test_every_dialect_is_in_the_table_under_its_name() -> None:
    assert all(d.name == name for name, d in DIALECTS.items())
    assert set(ENGINES) == {"auto", *DIALECTS}
    assert {"router", "hf-inference", "tgi", "tei", "vllm", "sglang", "llama.cpp", "openai"} <= set(DIALECTS)


def test_resolve_engine_takes_the_first_given_and_checks_it() -> None:
    assert resolve_engine(None, None) == "auto"
    assert resolve_engine(None, "openai", "tgi") == "openai"
    with pytest.raises(InvalidParameterError, match=r"llama\.cpp"):
        resolve_engine("llamacpp")


def test_probes_only_where_the_answer_changes_the_request() -> None:
    v1, root = at("http://h.test/v1"), at("http://h.test")
    assert needs_probe(v1, "auto", "structured") and not needs_probe(v1, "auto", "generation")
    assert needs_probe(root, "auto", "embeddings") and not needs_probe(v1, "auto", "embeddings")
    assert not needs_probe(v1, "vllm", "structured")
    assert not needs_probe(at("https://router.huggingface.co/v1"), "auto", "structured")
    assert [url for _, url, _ in probes(root, "embeddings")] == ["http://h.test/info", "http://h.test/info"]
    names = [name for name, _, _ in probes(v1, "structured")]
    assert names.index("tei") < names.index("tgi")  # both answer /info: TEI's answer is the more specific
    assert {url for _, url, _ in probes(v1, "structured")} == {
        "http://h.test/info",
        "http://h.test/version",
        "http://h.test/props",
        "http://h.test/get_model_info",
    }


def test_probe_matching() -> None:
    tgi, tei = DIALECTS["tgi"].probe, DIALECTS["tei"].probe
    assert tgi is not None and tei is not None
    assert tgi.matches({"model_id": "m", "max_total_tokens": 8}) and not tei.matches({"model_id": "m"})
    assert not tgi.matches([1, 2]) and not tgi.matches(None)


# ---------------------------------------------------------------- reasoning


@given(st.text(alphabet="ab <>/\n", max_size=20), st.text(alphabet="xy <>\n", max_size=20), st.data())
def test_think_block_split_anywhere_gives_the_same_answer(reasoning: str, content: str, data: st.DataObject) -> None:
    if "</think>" in reasoning:
        return
    text = f"<think>{reasoning}</think>{content}"
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    pieces = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    splitter = ThinkSplitter()
    got_reasoning, got_content = "", ""
    for piece in pieces:
        r, c = splitter.feed(piece)
        got_reasoning, got_content = got_reasoning + r, got_content + c
    r, c = splitter.flush()
    assert (got_reasoning + r, got_content + c) == (reasoning, content.lstrip())
    assert split_think(text) == (reasoning, content.lstrip())


@given(st.text(alphabet="ab <>/th\n", max_size=30))
def test_text_without_a_leading_block_is_kept_whole(text: str) -> None:
    if text.lstrip().startswith("<think>"):
        return
    splitter = ThinkSplitter()
    out = "".join(splitter.feed(ch)[1] for ch in text) + splitter.flush()[1]
    assert out == text
    assert split_think(text) == (None, text)


def test_unclosed_block_is_reasoning() -> None:
    assert split_think("<think>still thinking") == ("still thinking", "")


# ---------------------------------------------------------------- tool calls, finish reasons


def test_message_tool_calls_get_ids_types_and_string_arguments() -> None:
    calls = tool_calls([{"function": {"name": "f", "arguments": {"a": 1}}}, {"id": "x", "function": {"name": "g"}}])
    assert calls == [
        {"id": "call_0", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
        {"id": "x", "type": "function", "function": {"name": "g", "arguments": ""}},
    ]
    assert tool_calls([]) is None


def test_tool_call_deltas_of_two_calls_without_indexes() -> None:
    deltas = ToolCallDeltas("call_t")
    first = deltas.feed([{"id": "a", "function": {"name": "f", "arguments": "{"}}])
    more = deltas.feed([{"id": "a-again", "function": {"arguments": "}"}}])
    second = deltas.feed([{"id": "b", "function": {"name": "g", "arguments": None}}])
    assert first == [{"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": "{"}}]
    assert more == [{"index": 0, "function": {"arguments": "}"}}]
    assert second == [{"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": ""}}]
    assert deltas.feed(None) is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("eos", "stop"), ("eos_token", "stop"), ("stop_sequence", "stop"), ("length", "length"), ("weird", "stop")],
)
def test_finish_reasons_are_openais(raw: str, reason: str) -> None:
    assert finish_reason(raw, kind="chat") == reason


# ---------------------------------------------------------------- extras


def test_extras_merge_into_body_headers_and_query() -> None:
    call = HTTPCall("POST", "http://x.test/v1/chat/completions", {"model": "m", "top_k": 1})
    extras = Extras.check({"top_k": 5, "min_p": 0.1}, {"X-A": "1"}, {"q": "2"})
    merged = extras.apply(call)
    assert merged.json == {"model": "m", "top_k": 5, "min_p": 0.1}
    assert merged.headers == {"X-A": "1"} and merged.params == {"q": "2"}
    assert call.json == {"model": "m", "top_k": 1}  # the plan's own call is untouched
    assert Extras.check(None, None, None).apply(call) is call


@pytest.mark.parametrize(
    ("body", "headers", "query", "param"),
    [([1], None, None, "extra_body"), (None, {"a": 2}, None, "extra_headers"), (None, None, "q=1", "extra_query")],
)
def test_bad_extras_are_refused(body: object, headers: object, query: object, param: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        Extras.check(body, headers, query)
    assert info.value.param == param

"""`easyllm chat | complete | embed` through `cli.main`, against a fake TGI/TEI behind httpx.MockTransport."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from easyllm import cli
from easyllm.clients import huggingface
from tests.client.fake_tgi import FakeServer, generate_body, reply, stream_reply, token_events

BASE = "http://tgi.test"
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeServer]:
    """Route the facade's HTTP through a FakeServer answering with the given responses in turn."""

    def install(*responses: Handler) -> FakeServer:
        server = FakeServer(list(responses))
        monkeypatch.setattr(huggingface, "http_client", httpx.Client(transport=httpx.MockTransport(server)))
        return server

    return install


def set_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def run(*argv: str) -> int:
    return cli.main(list(argv))


CHATML = ["--api-base", BASE, "--format", "chatml"]


# --- chat -------------------------------------------------------------------------------------------------------


def test_chat_streams_the_answer_and_sends_the_options(
    serve: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(stream_reply(token_events(["Par", "is", "."], eos="<|im_end|>")))
    code = run("chat", "Capital of France?", *CHATML, "--max-tokens", "16", "--temperature", "0.5", "--stop", "##")
    assert code == 0
    assert capsys.readouterr().out == "Paris.\n"
    body = server.bodies()[0]
    assert body["stream"] is True
    assert body["inputs"] == "<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n"
    assert body["parameters"]["max_new_tokens"] == 16
    assert body["parameters"]["temperature"] == 0.5
    assert "##" in body["parameters"]["stop"]
    assert str(server.requests[0].url).startswith(BASE)


def test_chat_without_stream_prints_the_whole_answer(serve: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = serve(reply(json_body=generate_body("Hello!")))
    assert run("chat", "Hi", *CHATML, "--no-stream") == 0
    assert capsys.readouterr().out == "Hello!\n"
    assert server.bodies()[0]["stream"] is False


def test_chat_system_message_comes_first(serve: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = serve(stream_reply(token_events(["ok"])))
    assert run("chat", "Hi", "--system", "Be brief.", *CHATML) == 0
    assert server.bodies()[0]["inputs"].startswith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi")
    assert capsys.readouterr().out == "ok\n"


def test_chat_dash_reads_the_question_from_stdin(
    serve: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(stream_reply(token_events(["yes"])))
    set_stdin(monkeypatch, "line one\nline two\n")
    assert run("chat", "-", *CHATML) == 0
    assert "<|im_start|>user\nline one\nline two\n<|im_end|>" in server.bodies()[0]["inputs"]
    assert capsys.readouterr().out == "yes\n"


def test_chat_without_prompt_is_a_conversation_over_stdin_lines(
    serve: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(stream_reply(token_events(["Hello", " Ann"])), stream_reply(token_events(["Ann."])))
    set_stdin(monkeypatch, "I am Ann.\n\nWho am I?\n")
    assert run("chat", *CHATML) == 0
    assert capsys.readouterr().out == "Hello Ann\nAnn.\n"
    first, second = (b["inputs"] for b in server.bodies())
    assert "Who am I?" not in first
    assert second.startswith(
        "<|im_start|>user\nI am Ann.<|im_end|>\n"
        "<|im_start|>assistant\nHello Ann<|im_end|>\n"
        "<|im_start|>user\nWho am I?<|im_end|>\n"
    )


def test_chat_reads_api_base_from_the_environment(
    serve: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUGGINGFACE_API_BASE", "http://env.test")
    server = serve(stream_reply(token_events(["x"])))
    assert run("chat", "Hi", "--format", "chatml") == 0
    assert server.requests[0].url.host == "env.test"
    assert capsys.readouterr().out == "x\n"


def test_chat_model_with_a_collection_goes_to_the_model_url(serve: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = serve(stream_reply(token_events(["x"])))
    assert run("chat", "Hi", "--format", "chatml", "--api-base", f"{BASE}/models", "--model", "org/m") == 0
    assert server.requests[0].url.path == "/models/org/m"
    assert capsys.readouterr().out == "x\n"


# --- complete ---------------------------------------------------------------------------------------------------


def test_complete_sends_the_text_as_given_and_streams(serve: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = serve(stream_reply(token_events([" upon", " a time"])))
    assert run("complete", "Once", "--api-base", BASE, "--max-tokens", "8", "--seed", "3") == 0
    assert capsys.readouterr().out == " upon a time\n"
    body = server.bodies()[0]
    assert body["inputs"] == "Once"
    assert body["parameters"]["max_new_tokens"] == 8
    assert body["parameters"]["seed"] == 3


def test_complete_echo_without_stream(serve: Any, capsys: pytest.CaptureFixture[str]) -> None:
    serve(reply(json_body=generate_body(" there")))
    assert run("complete", "Hello", "--api-base", BASE, "--no-stream", "--echo") == 0
    assert capsys.readouterr().out == "Hello there\n"


def test_complete_has_no_prompt_format_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run("complete", "x", "--format", "chatml")
    assert exc.value.code == 2
    assert "unrecognized arguments: --format" in capsys.readouterr().err


# --- embed ------------------------------------------------------------------------------------------------------


def tei(seen: list[dict[str, Any]], limit: int = 32) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/info":
            info = {"model_id": "m", "model_type": {"embedding": {"pooling": "mean"}}}  # TEI's /info
            return httpx.Response(200, json={**info, "max_client_batch_size": limit})
        body = json.loads(request.content)
        seen.append(body)
        return httpx.Response(200, json=[[float(len(t)), 1.0] for t in body["inputs"]])

    return handle


def records(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_embed_writes_one_json_line_per_text_with_its_line_number(
    serve: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seen: list[dict[str, Any]] = []
    serve(tei(seen))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a\n\nbbb\ncc\n", encoding="utf-8")
    assert run("embed", str(corpus), "--api-base", BASE, "--no-normalize") == 0
    out = capsys.readouterr().out
    assert records(out) == [
        {"line": 1, "embedding": [1.0, 1.0]},
        {"line": 3, "embedding": [3.0, 1.0]},
        {"line": 4, "embedding": [2.0, 1.0]},
    ]
    assert seen[0]["inputs"] == ["a", "bbb", "cc"] and seen[0]["normalize"] is False


def test_embed_reads_stdin_batch_by_batch_with_a_progress_bar(
    serve: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tqdm")
    seen: list[dict[str, Any]] = []
    serve(tei(seen, limit=2))
    set_stdin(monkeypatch, "".join(f"text {i}\n" for i in range(7)))
    assert run("embed", "--api-base", BASE, "--progress") == 0
    captured = capsys.readouterr()
    assert [r["line"] for r in records(captured.out)] == list(range(1, 8))
    assert sorted(len(b["inputs"]) for b in seen) == [1, 2, 2, 2]  # the server's limit of 2, sent concurrently
    assert "7/7" in captured.err


def test_embed_progress_without_tqdm_is_one_clear_error(
    serve: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(tei([]))
    monkeypatch.setitem(sys.modules, "tqdm", None)
    set_stdin(monkeypatch, "a\n")
    assert run("embed", "--api-base", BASE, "--progress") == 1
    err = capsys.readouterr().err
    assert err == "easyllm embed: error: `--progress` needs tqdm: pip install 'easyllm[progress]'\n"


def test_embed_without_a_terminal_shows_no_bar_by_default(
    serve: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(tei([]))
    set_stdin(monkeypatch, "a\nb\n")
    assert run("embed", "--api-base", BASE) == 0
    captured = capsys.readouterr()
    assert len(records(captured.out)) == 2 and captured.err == ""


def test_embed_prints_the_total_cost_at_the_end(
    serve: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    serve(tei([], limit=2))
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"m": {"input": 0.5}}), encoding="utf-8")
    set_stdin(monkeypatch, "a b\nc\nd e f\n")
    assert run("embed", "--api-base", BASE, "--model", "m", "--summary", "--prices", str(prices)) == 0
    captured = capsys.readouterr()
    assert len(records(captured.out)) == 3
    # TEI gives no count here: estimated from the bytes (1 + 1 + 2 tokens).
    assert captured.err == "easyllm embed: 3 texts, 4 tokens (estimated), $0.000002\n"


def test_embed_summary_says_when_the_cost_is_unknown(
    serve: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(tei([]))
    set_stdin(monkeypatch, "a\n")
    assert run("embed", "--api-base", BASE, "--summary") == 0
    assert (
        capsys.readouterr().err
        == "easyllm embed: 1 texts, 1 tokens (estimated), cost unknown (no price for the model)\n"
    )


# --- errors and help --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["chat", "Hi", *CHATML], "easyllm chat: error: Error code: 404 - Model not found. Check `api_base`"),
        (["complete", "Hi", "--api-base", BASE], "easyllm complete: error: Error code: 404"),
        (["embed", "-", "--api-base", BASE], "easyllm embed: error: Error code: 404"),
    ],
)
def test_server_errors_are_one_line(
    serve: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    expected: str,
) -> None:
    serve(reply(404, json_body={"error": "Model not found"}))
    set_stdin(monkeypatch, "text\n")
    assert run(*argv) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(expected)
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_bad_api_base_and_missing_file_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run("chat", "Hi", "--api-base", "localhost:8080", "--format", "chatml") == 1
    assert capsys.readouterr().err.startswith("easyllm chat: error: `api_base` must be an http(s) URL")
    assert run("embed", str(tmp_path / "missing.txt"), "--api-base", BASE) == 1
    assert capsys.readouterr().err.startswith("easyllm embed: error: [Errno 2] No such file or directory")


def test_unknown_prompt_format_names_the_known_ones(serve: Any, capsys: pytest.CaptureFixture[str]) -> None:
    serve(stream_reply(token_events(["x"])))
    assert run("chat", "Hi", "--api-base", BASE, "--format", "no-such-format") == 1
    err = capsys.readouterr().err
    assert err.startswith("easyllm chat: error:") and "no-such-format" in err and "chatml" in err


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("chat", ["--api-base", "--model", "--format", "--max-tokens", "--temperature", "--system", "--no-stream"]),
        ("complete", ["--api-base", "--model", "--max-tokens", "--temperature", "--echo"]),
        ("embed", ["--api-base", "--model", "--dimensions", "--progress"]),
    ],
)
def test_help_lists_the_options(capsys: pytest.CaptureFixture[str], command: str, options: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run(command, "--help")
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: easyllm {command}")
    for option in options:
        assert option in out, option


def test_top_level_help_lists_the_client_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run("--help")
    out = capsys.readouterr().out
    for command in ("chat", "complete", "embed", "prompt"):
        assert f"    {command} " in out, command

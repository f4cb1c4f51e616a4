"""`easyllm prompt`, driven through the same `register(subparsers)` hook the `easyllm` dispatcher uses."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pytest

from easyllm.errors import InvalidParameterError
from easyllm.prompt_utils import UnknownPromptFormatError, cli

CONVERSATION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
LLAMA2 = "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="easyllm")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["prompt", *argv])
    return int(args.func(args))


@pytest.fixture
def conversation_file(tmp_path: Path) -> Path:
    path = tmp_path / "conversation.json"
    path.write_text(json.dumps(CONVERSATION), encoding="utf-8")
    return path


def test_format_and_file_print_the_exact_prompt(conversation_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--format", "llama2", str(conversation_file)]) == 0
    assert capsys.readouterr().out == LLAMA2  # no trailing newline added when not on a terminal


def test_messages_object_on_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"messages": CONVERSATION})))
    assert run(["-f", "llama2", "-"]) == 0
    assert capsys.readouterr().out == LLAMA2


def test_strip_bos_and_json_report(conversation_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["-f", "llama2", "--strip-bos", "--json", str(conversation_file)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"format": "llama2", "prompt": LLAMA2[len("<s>") :], "stop": ["</s>"], "bos": "<s>"}


def test_template_from_a_jinja_file(
    tmp_path: Path, conversation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "chat_template.jinja"
    template.write_text("{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>", encoding="utf-8")
    assert run(["--template", str(template), str(conversation_file)]) == 0
    assert capsys.readouterr().out == "<system>Be brief.<user>Hi<assistant>"


def test_list_shows_every_format_with_its_stops(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 16
    assert 'llama3           stop: "<|eot_id|>"' in lines
    assert 'falcon           stop: "\\nUser:", "<|endoftext|>", " User:", "###"' in lines


def test_unknown_format(conversation_file: Path) -> None:
    with pytest.raises(UnknownPromptFormatError, match="'nope'"):
        run(["-f", "nope", str(conversation_file)])


def test_missing_format_says_what_to_give(conversation_file: Path) -> None:
    with pytest.raises(InvalidParameterError, match=r"--format NAME .* or --template PATH_OR_ID"):
        run([str(conversation_file)])


def test_format_and_template_are_exclusive(conversation_file: Path) -> None:
    with pytest.raises(SystemExit) as info:
        run(["-f", "llama2", "-t", "x.jinja", str(conversation_file)])
    assert info.value.code == 2


@pytest.mark.parametrize("content", ['{"role": "user"}', "[1, 2]", '{"messages": "hi"}'])
def test_conversation_must_be_messages(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="list of messages") as info:
        run(["-f", "llama2", str(path)])
    assert info.value.param == "conversation"


def test_refused_conversation_propagates_the_builder_error(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(CONVERSATION), encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="gemma"):
        run(["-f", "gemma", str(path)])


def test_through_the_easyllm_dispatcher(conversation_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("easyllm.serve.cli", reason="the dispatcher also loads the serve command")
    from easyllm.cli import main

    assert main(["prompt", "-f", "llama2", str(conversation_file)]) == 0
    assert capsys.readouterr().out == LLAMA2
    assert main(["prompt", "-f", "nope", str(conversation_file)]) == 1
    assert "Unknown prompt format 'nope'" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_final_newline(conversation_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert run(["-f", "llama2", str(conversation_file)]) == 0
    assert terminal.getvalue() == LLAMA2 + "\n"

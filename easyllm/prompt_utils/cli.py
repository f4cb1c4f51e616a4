"""`easyllm prompt`: print the exact prompt a conversation becomes.

```
easyllm prompt --format llama3 conversation.json
easyllm prompt --template HuggingFaceTB/SmolLM2-135M-Instruct - < conversation.json
easyllm prompt --format mistral --json conversation.json     # prompt, stop strings and BOS text as JSON
easyllm prompt --list
```

The conversation is JSON: a list of messages, or an object with a "messages" list. The prompt is written
exactly as built (a newline is added only when writing to a terminal); `--strip-bos` shows it as sent to a
TGI native route, without the leading BOS text.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from easyllm.errors import InvalidParameterError
from easyllm.prompt_utils.base import PromptFormat
from easyllm.prompt_utils.registry import get_prompt_builder, list_prompt_formats, resolve_prompt_format

__all__ = ["load_conversation", "register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `prompt` sub-command to the `easyllm` parser."""
    parser = subparsers.add_parser(
        "prompt",
        help="show the exact prompt a conversation becomes",
        description="Build the prompt for a conversation with a prompt format or a model's chat template.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--format", "-f", dest="prompt_format", metavar="NAME", help="a registered prompt format")
    source.add_argument(
        "--template",
        "-t",
        metavar="PATH_OR_ID",
        help="a chat template: .jinja file, tokenizer_config.json, or model id",
    )
    parser.add_argument(
        "conversation", nargs="?", default="-", help="JSON file with the messages ('-' or nothing: standard input)"
    )
    parser.add_argument("--strip-bos", action="store_true", help="remove the leading BOS text (as for TGI /generate)")
    parser.add_argument("--json", action="store_true", help="print the prompt, stop strings and BOS text as JSON")
    parser.add_argument("--list", action="store_true", help="list the registered formats and exit")
    parser.set_defaults(func=run)


def load_conversation(text: str) -> list[dict[str, Any]]:
    """Read a conversation from JSON text: a list of messages or an object with a "messages" list."""
    data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("messages")
    if not isinstance(data, list) or not all(isinstance(m, dict) for m in data):
        raise InvalidParameterError(
            'must be a JSON list of messages or an object with a "messages" list', param="conversation"
        )
    return data


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _format(args: argparse.Namespace) -> PromptFormat:
    if args.template:
        from easyllm.prompt_utils.chat_template import from_chat_template

        return from_chat_template(args.template)
    fmt = resolve_prompt_format(args.prompt_format)
    if fmt is None:
        raise InvalidParameterError(
            f"is missing: give --format NAME (one of {', '.join(list_prompt_formats())}) or --template PATH_OR_ID",
            param="--format",
        )
    return fmt


def _list_formats() -> int:
    for name in list_prompt_formats():
        stops = ", ".join(json.dumps(s, ensure_ascii=False) for s in get_prompt_builder(name).stop)
        print(f"{name:<16} stop: {stops}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run `easyllm prompt` with parsed arguments; return the exit code."""
    if args.list:
        return _list_formats()
    fmt = _format(args)
    prompt = fmt.build(load_conversation(_read(args.conversation)))
    if args.strip_bos:
        prompt = fmt.strip_bos(prompt)
    if args.json:
        report = {"format": fmt.name, "prompt": prompt, "stop": list(fmt.stop), "bos": fmt.bos}
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    sys.stdout.write(prompt)
    if sys.stdout.isatty() and not prompt.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()
    return 0

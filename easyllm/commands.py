"""`easyllm chat`, `easyllm complete` and `easyllm embed`: the client from a terminal.

```
easyllm chat "What is the capital of France?" --format chatml --max-tokens 32
easyllm chat --format chatml                      # a conversation: one line of stdin per turn, Ctrl-D ends
easyllm complete "Once upon a time" --max-tokens 20
easyllm embed corpus.txt > vectors.jsonl          # one text per line in, one JSON object per line out
```

Every command reaches the server named by `--api-base` (else `HUGGINGFACE_API_BASE`, else the Inference
Providers router) with the token from `HUGGINGFACE_TOKEN`, `HF_TOKEN` or the Hugging Face CLI login. Answers are
streamed: tokens are written as they arrive. Errors are printed as one line by `easyllm.cli.main`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from easyllm.clients import huggingface
from easyllm.errors import InvalidParameterError

__all__ = ["register", "run_chat", "run_complete", "run_embed"]


def _connection_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("server")
    group.add_argument(
        "--api-base", metavar="URL", help="server URL or model collection (default: $HUGGINGFACE_API_BASE)"
    )
    group.add_argument("--model", "-m", metavar="ID", help="model id (required when --api-base ends in /models)")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="most one call may take, retries included")
    return parent


def _generation_options(*, chat: bool) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("generation")
    if chat:
        group.add_argument(
            "--format",
            "-f",
            dest="prompt_format",
            metavar="NAME",
            help="prompt format, e.g. chatml, llama3 (default: $HUGGINGFACE_PROMPT; see `easyllm prompt --list`)",
        )
    group.add_argument("--max-tokens", type=int, metavar="N", help="most tokens to generate")
    group.add_argument("--temperature", type=float, metavar="T", help="0 is greedy; higher is more random")
    group.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling mass")
    group.add_argument("--seed", type=int, metavar="N", help="seed for reproducible sampling")
    group.add_argument("--stop", action="append", metavar="TEXT", help="stop string (repeat for several)")
    group.add_argument("--no-stream", dest="stream", action="store_false", help="print the answer only when done")
    return parent


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `chat`, `complete` and `embed` sub-commands to the `easyllm` parser."""
    connection = _connection_options()
    chat = subparsers.add_parser(
        "chat",
        parents=[connection, _generation_options(chat=True)],
        help="chat with a model (one question, or a conversation read from stdin)",
        description="Ask one question, or with no PROMPT hold a conversation: each line of standard input is a "
        "user turn, the answer streams to standard output, end-of-file ends the conversation.",
    )
    chat.add_argument("prompt", nargs="?", help="the question ('-' reads it whole from stdin; none: a conversation)")
    chat.add_argument("--system", metavar="TEXT", help="system message opening the conversation")
    chat.set_defaults(func=run_chat)

    complete = subparsers.add_parser(
        "complete",
        parents=[connection, _generation_options(chat=False)],
        help="continue a text as given (no prompt format)",
        description="Send PROMPT to the model as raw text and stream the continuation.",
    )
    complete.add_argument("prompt", help="the text to continue ('-' reads it from stdin)")
    complete.add_argument("--echo", action="store_true", help="print the prompt before the continuation")
    complete.set_defaults(func=run_complete)

    embed = subparsers.add_parser(
        "embed",
        parents=[connection],
        help="embed texts, one per line, into JSON lines",
        description='Embed each non-empty line of FILE and write one JSON object per line: {"line": n, '
        '"embedding": [...]}, n being the 1-based line number in the input.',
    )
    embed.add_argument("file", nargs="?", default="-", help="text file, one text per line ('-' or none: stdin)")
    embed.add_argument("--dimensions", type=int, metavar="N", help="keep the first N dimensions (Matryoshka)")
    embed.add_argument("--no-normalize", dest="normalize", action="store_false", help="do not L2-normalise")
    embed.add_argument("--progress", action=argparse.BooleanOptionalAction, help="progress bar (needs tqdm)")
    embed.add_argument(
        "--summary",
        action=argparse.BooleanOptionalAction,
        help="print texts, tokens and cost at the end, on stderr (default: when stderr is a terminal)",
    )
    embed.add_argument(
        "--prices",
        metavar="FILE",
        help='JSON price table for the cost, {"model-id": {"input": usd_per_million_tokens}}',
    )
    embed.set_defaults(func=run_embed)


def _connection(args: argparse.Namespace) -> dict[str, Any]:
    return {"api_base": args.api_base, "model": args.model, "timeout": args.timeout}


def _generation(args: argparse.Namespace) -> dict[str, Any]:
    options = {
        "max_tokens": args.max_tokens,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "seed": args.seed,
        "stop": args.stop,
    }
    return {**_connection(args), **{k: v for k, v in options.items() if v is not None}}


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _chat_turn(messages: list[dict[str, str]], args: argparse.Namespace) -> str:
    """Send the conversation, write the answer as it arrives, and return it."""
    options = {**_generation(args), "messages": messages, "prompt_builder": args.prompt_format}
    if not args.stream:
        answer = str(huggingface.ChatCompletion.create(**options).choices[0].message.content or "")
        _write(answer)
        return answer
    pieces: list[str] = []
    with huggingface.ChatCompletion.create(stream=True, **options) as stream:
        for chunk in stream:
            piece = chunk.choices[0].delta.get("content") if chunk.choices else None
            if piece:
                pieces.append(piece)
                _write(piece)
    return "".join(pieces)


def _user_turns(stdin: TextIO) -> Iterator[str]:
    """Non-empty lines of stdin; on a terminal, a `> ` prompt (on stderr) before each."""
    interactive = stdin.isatty()
    while True:
        if interactive:
            sys.stderr.write("> ")
            sys.stderr.flush()
        line = stdin.readline()
        if not line:
            return
        if line.strip():
            yield line.rstrip("\n")


def run_chat(args: argparse.Namespace) -> int:
    """Run `easyllm chat` with parsed arguments; return the exit code."""
    messages = [{"role": "system", "content": args.system}] if args.system else []
    if args.prompt is not None:
        question = _read("-") if args.prompt == "-" else args.prompt
        _chat_turn([*messages, {"role": "user", "content": question}], args)
        _write("\n")
        return 0
    for line in _user_turns(sys.stdin):
        messages.append({"role": "user", "content": line})
        answer = _chat_turn(messages, args)
        _write("\n")
        messages.append({"role": "assistant", "content": answer})
    return 0


def run_complete(args: argparse.Namespace) -> int:
    """Run `easyllm complete` with parsed arguments; return the exit code."""
    options = {**_generation(args), "prompt": _read("-") if args.prompt == "-" else args.prompt}
    if args.echo:
        options["echo"] = True
    if not args.stream:
        _write(str(huggingface.Completion.create(**options).choices[0].text) + "\n")
        return 0
    with huggingface.Completion.create(stream=True, **options) as stream:
        for chunk in stream:
            if chunk.choices:
                _write(chunk.choices[0].text or "")
    _write("\n")
    return 0


def _texts(path: str) -> tuple[list[int], list[str]]:
    """The non-empty lines of a file and their 1-based line numbers."""
    numbers, texts = [], []
    for number, line in enumerate(_read(path).splitlines(), start=1):
        if line.strip():
            numbers.append(number)
            texts.append(line)
    return numbers, texts


def _show_progress(wanted: bool | None) -> bool:
    """Whether to draw a bar: asked with --progress (tqdm required), else when stderr is a terminal and tqdm exists."""
    import importlib.util

    have_tqdm = importlib.util.find_spec("tqdm") is not None
    if wanted and not have_tqdm:
        raise InvalidParameterError("needs tqdm: pip install 'easyllm[progress]'", param="--progress")
    if wanted is None:
        return have_tqdm and sys.stderr.isatty()
    return wanted


def run_embed(args: argparse.Namespace) -> int:
    """Run `easyllm embed` with parsed arguments; return the exit code.

    Results are written batch by batch as they arrive (in input order), so memory stays bounded on long inputs.
    """
    numbers, texts = _texts(args.file)
    if not texts:
        return 0
    options: dict[str, Any] = {**_connection(args), "normalize": args.normalize}
    if args.dimensions is not None:
        options["dimensions"] = args.dimensions
    if args.prices is not None:
        with open(args.prices, encoding="utf-8") as table:
            options["prices"] = json.load(table)
    batches = huggingface.Embedding.iter_batches(input=texts, show_progress=_show_progress(args.progress), **options)
    tokens, cost = 0, 0.0
    priced, estimated = True, False
    for batch in batches:
        for item in batch.data:
            sys.stdout.write(json.dumps({"line": numbers[item.index], "embedding": item.embedding}) + "\n")
        sys.stdout.flush()
        tokens += batch.usage.prompt_tokens
        priced = priced and batch.usage.get("cost") is not None
        estimated = estimated or bool(batch.usage.get("estimated"))
        cost += batch.usage.get("cost") or 0.0
    if args.summary or (args.summary is None and sys.stderr.isatty()):
        total = f", ${cost:.6f}" if priced else ", cost unknown (no price for the model)"
        note = " (estimated)" if estimated else ""
        sys.stderr.write(f"easyllm embed: {len(texts)} texts, {tokens} tokens{note}{total}\n")
    return 0

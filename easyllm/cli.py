"""The `easyllm` command: one sub-command per module, each registered by that module.

Each command module exposes `register(subparsers)`, which adds its parser and sets `func` (a callable taking
the parsed arguments and returning an exit code). Modules are imported only when the command line is parsed,
so `easyllm --help` stays fast and optional extras are needed only by their own command.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from easyllm import __version__
from easyllm.errors import EasyLLMError

# Modules that add sub-commands, in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "easyllm.commands",
    "easyllm.prompt_utils.cli",
    "easyllm.serve.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(prog="easyllm", description="OpenAI-compatible client for open models.")
    parser.add_argument("--version", action="version", version=f"easyllm {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code. Errors print as one line, not a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args))
    except (EasyLLMError, OSError, ValueError) as err:
        print(f"easyllm {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The `easyllm serve` command.

```
easyllm serve [--config models.yaml] [--host 127.0.0.1] [--port 8080] [--log-level warning]
```

Without `--config` it serves the demo models (`smollm2` for generation and chat, `minilm` for embeddings).
`--port 0` picks a free port; the ready line tells which.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from easyllm.errors import EasyLLMError
from easyllm.serve.config import default_config
from easyllm.serve.config_file import config_error, load_config, resolve_models


def register(subparsers: Any) -> None:
    """Add the `serve` sub-command.

    Args:
        subparsers: The dispatcher's sub-parsers.
    """
    parser = subparsers.add_parser(
        "serve",
        help="run a local TGI/TEI-compatible server on real small models",
        description="Serve models over the TGI, TEI, Messages and Inference API protocols.",
    )
    parser.add_argument("--config", type=Path, help="YAML list of models (default: the packaged demo models)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind; 0 picks a free one (default: 8080)")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--check", action="store_true", help="validate the config and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate the config, load the models, serve until interrupted.

    Args:
        args: The parsed command line.

    Returns:
        The exit code.
    """
    if args.config is not None:
        config, models = load_config(args.config)
    else:
        config = default_config()
        models, problems = resolve_models(config, Path.cwd())
        if problems:
            raise config_error("demo models", problems)
    if args.check:
        print(f"easyllm serve: config OK (models: {', '.join(m.name for m in config.models)})")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models are local: never reach for the Hub
    from easyllm.serve.server import load_models, serve

    serve(load_models(config, models), args.host, args.port, log_level=args.log_level)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run `easyllm serve` on its own (what `python -m easyllm.serve` calls), without the other commands.

    Args:
        argv: The arguments after `serve`; default `sys.argv[1:]`.

    Returns:
        The exit code: 0, 1 for a config or load error (printed as one message), 130 when interrupted.
    """
    parser = argparse.ArgumentParser(prog="easyllm")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    try:
        return run(args)
    except (EasyLLMError, OSError, ValueError) as err:
        print(f"easyllm serve: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

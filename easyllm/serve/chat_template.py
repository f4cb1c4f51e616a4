"""Rendering a model's own chat template (the Jinja text in its GGUF metadata), the way transformers does.

The environment matches `apply_chat_template`: a sandbox with `trim_blocks` and `lstrip_blocks`, loop controls,
`raise_exception`, `strftime_now`, and a `tojson` that keeps non-ASCII text. The server always renders with
`add_generation_prompt=True`, as TGI does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment


class TemplateError(ValueError):
    """The template refused the messages (e.g. roles that do not alternate) or could not be rendered."""


def _raise_exception(message: str) -> None:
    raise TemplateError(message)


def _tojson(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


@lru_cache(maxsize=16)
def _compile(source: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(source)


def render_chat(
    template: str, messages: Sequence[dict[str, Any]], *, bos_token: str, eos_token: str, **extra: Any
) -> str:
    """Render messages with a chat template, ending where the assistant's answer starts.

    Args:
        template: The Jinja source.
        messages: `{"role", "content", ...}` dicts.
        bos_token: The model's BOS spelling.
        eos_token: The model's EOS spelling.
        **extra: More template variables (e.g. `tools`).

    Returns:
        The prompt text.

    Raises:
        TemplateError: The template raised or failed.
    """
    try:
        return _compile(template).render(
            messages=list(messages),
            add_generation_prompt=True,
            bos_token=bos_token,
            eos_token=eos_token,
            **extra,
        )
    except TemplateError:
        raise
    except jinja2.TemplateError as err:
        raise TemplateError(str(err)) from err

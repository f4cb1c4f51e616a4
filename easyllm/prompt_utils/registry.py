"""The registry of named prompt formats, and how a `prompt_format` argument becomes a `PromptFormat`.

The built-in formats register through `register_prompt_builder`, the same function users call, so a user
format is looked up, resolved and rendered exactly like a built-in one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from easyllm.errors import InvalidParameterError
from easyllm.prompt_utils.base import PromptFormat

__all__ = [
    "UnknownPromptFormatError",
    "get_prompt_builder",
    "list_prompt_formats",
    "register_prompt_builder",
    "render_prompt",
    "resolve_prompt_format",
]

PromptBuilder = Callable[[Sequence[Mapping[str, Any]]], str]
"""A function from messages to a prompt string."""

_REGISTRY: dict[str, PromptFormat] = {}


class UnknownPromptFormatError(InvalidParameterError, KeyError):
    """No prompt format is registered under the name asked for.

    It is an `InvalidParameterError` (so a `ValueError`) and also a `KeyError`, like a failed dict lookup.

    Attributes:
        key: the name that was asked for.
        known: the registered names at the time.
    """

    def __init__(self, key: str, known: Iterable[str]) -> None:
        self.key = key
        self.known = tuple(sorted(known))
        super().__init__(
            f"Unknown prompt format {key!r}. Known formats: {', '.join(self.known)}. "
            "Register another with easyllm.prompt_utils.register_prompt_builder(name, builder, stop=[...])."
        )

    def __str__(self) -> str:
        return self.message


def _check_stop(stop: Iterable[str]) -> tuple[str, ...]:
    if isinstance(stop, str):
        raise InvalidParameterError("must be a list of strings, not a single string", param="stop")
    stops = tuple(stop)
    if not all(isinstance(s, str) and s for s in stops):
        raise InvalidParameterError("must contain only non-empty strings", param="stop")
    return stops


def register_prompt_builder(
    name: str,
    builder: PromptBuilder | PromptFormat,
    stop: Iterable[str] | None = None,
    *,
    bos: str | None = None,
) -> PromptFormat:
    """Register `builder` under `name` (replacing any format of that name) and return its `PromptFormat`.

    Args:
        name: the name to look the format up by (`prompt_format="name"`).
        builder: a function from messages to the prompt string, or a `PromptFormat` (for example one made
            by `from_chat_template`), whose stop strings and BOS text are kept unless given here.
        stop: the format's end-of-turn strings; the client stops at them and trims them from the output.
        bos: the BOS text the prompt starts with, if any; the client removes it for TGI native routes.

    Example:
        >>> fmt = register_prompt_builder("shout", lambda messages: messages[-1]["content"].upper(), stop=["!"])
        >>> get_prompt_builder("shout")([{"role": "user", "content": "hi"}]), fmt.stop
        ('HI', ('!',))
    """
    if not isinstance(name, str) or not name:
        raise InvalidParameterError("must be a non-empty string", param="name")
    if isinstance(builder, PromptFormat):
        fmt = dataclasses.replace(builder, name=name)
    elif callable(builder):
        fmt = PromptFormat(name=name, build=builder)
    else:
        raise InvalidParameterError(f"must be callable, got {type(builder).__name__}", param="builder")
    if stop is not None:
        fmt = dataclasses.replace(fmt, stop=_check_stop(stop))
    if bos is not None:
        fmt = dataclasses.replace(fmt, bos=bos)
    _REGISTRY[name] = fmt
    return fmt


def get_prompt_builder(name: str) -> PromptFormat:
    """Look up a registered format by name; the result is callable like a builder.

    Raises:
        UnknownPromptFormatError: nothing is registered under `name`; the message lists the known names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownPromptFormatError(name, _REGISTRY) from None


def list_prompt_formats() -> tuple[str, ...]:
    """The registered format names, sorted."""
    return tuple(sorted(_REGISTRY))


def resolve_prompt_format(spec: str | Callable[..., str] | PromptFormat | None) -> PromptFormat | None:
    """Turn a `prompt_format` argument into a `PromptFormat`.

    - `None` gives `None` (no prompt format: the caller sends the text as it is).
    - A `PromptFormat` is returned as it is.
    - A string is looked up in the registry (`UnknownPromptFormatError` lists the known names).
    - A registered builder function (for example `build_llama2_prompt`) gives its registered format, so
      it keeps its stop strings and BOS text.
    - Any other callable becomes a format named after it, with no stop strings and no BOS text.
    """
    if spec is None or isinstance(spec, PromptFormat):
        return spec
    if isinstance(spec, str):
        return get_prompt_builder(spec)
    if not callable(spec):
        raise InvalidParameterError(
            f"must be a format name, a builder function or a PromptFormat, got {type(spec).__name__}",
            param="prompt_format",
        )
    for fmt in _REGISTRY.values():
        if fmt.build is spec:
            return fmt
    return PromptFormat(name=getattr(spec, "__name__", type(spec).__name__), build=spec)


def render_prompt(messages: Sequence[Mapping[str, Any]], format: str | Callable[..., str] | PromptFormat) -> str:
    r"""Return the exact prompt text that `format` makes of `messages` (before any BOS removal).

    Example:
        >>> render_prompt([{"role": "user", "content": "Hi"}], "zephyr")
        '<|user|>\nHi</s>\n<|assistant|>\n'
    """
    fmt = resolve_prompt_format(format)
    if fmt is None:
        raise InvalidParameterError("must name a prompt format, a builder or a PromptFormat", param="format")
    return fmt.build(messages)

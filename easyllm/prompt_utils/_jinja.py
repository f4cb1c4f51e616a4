"""The sandboxed Jinja environment chat templates render in, set up the way transformers sets up its own.

Imported only when a template is first compiled, so `import easyllm` does not pay for jinja2.

- `ImmutableSandboxedEnvironment`: a template cannot reach Python internals or mutate its inputs; trying
  raises `jinja2.sandbox.SecurityError`. Stricter than jinja2's default, merely *reading* an unsafe
  attribute (`{{ x.__globals__ }}`) raises too, instead of rendering as an empty string.
- `trim_blocks` and `lstrip_blocks`, and the `loopcontrols` extension (`{% break %}`, `{% continue %}`).
- A `{% generation %}...{% endgeneration %}` tag that renders its body (transformers uses it to mark
  assistant tokens for training masks; for rendering it changes nothing).
- Globals `raise_exception(message)` and `strftime_now(format)`; a `tojson` filter that keeps non-ASCII
  text as it is and does no HTML escaping.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any, NoReturn

from jinja2 import Template, TemplateError, Undefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["TemplateRefusal", "compile_template"]


class TemplateRefusal(TemplateError):
    """Raised by `raise_exception()` inside a template: the template refuses the conversation."""


class _GenerationBlock(Extension):
    """`{% generation %}body{% endgeneration %}` renders `body` unchanged."""

    tags = {"generation"}  # noqa: RUF012  (jinja2 reads this class attribute)

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


def _raise_exception(message: str) -> NoReturn:
    raise TemplateRefusal(message)


def _strftime_now(date_format: str) -> str:
    return datetime.now().strftime(date_format)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


class _StrictSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, failing at the first unsafe attribute lookup rather than when it is used."""

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")


@functools.lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    env = _StrictSandbox(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_GenerationBlock, "jinja2.ext.loopcontrols"],
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


@functools.lru_cache(maxsize=64)
def compile_template(source: str) -> Template:
    """Compile a chat template (cached by its text). Raises `jinja2.TemplateSyntaxError` on bad syntax."""
    return _environment().from_string(source)

"""A griffe extension for the API reference: read `Example:` sections as doctest examples.

easyllm's docstrings follow Google style, which names the section `Example:` or `Examples:`. Griffe parses only
`Examples:` as an examples section and renders `Example:` as an admonition, where the `>>>` lines would become
block quotes. This extension renames the singular heading before the docstrings are parsed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rename `Example:` section headings to `Examples:` in every loaded docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the heading of the object's docstring, if it has one."""
        if obj.docstring is not None:
            obj.docstring.value = _SINGULAR.sub(r"\g<indent>Examples:", obj.docstring.value)

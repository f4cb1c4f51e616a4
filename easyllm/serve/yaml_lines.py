"""Line numbers for YAML values, so a config error can name the line it comes from.

The parsed document is plain Python data; this module walks yaml's node tree (which keeps the marks) and maps
each value's location (the same tuple of keys and indexes that pydantic puts in an error's `loc`) to its line.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

Location = tuple[str | int, ...]


def line_map(text: str) -> dict[Location, int]:
    """Map each value's location in a YAML document to its 1-based line number.

    Args:
        text: The YAML source.

    Returns:
        A dict from location tuples (`("models", 0, "task")`) to line numbers. The root is `()`.
    """
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[Location, int] = {}
    if root is not None:
        _walk(root, (), lines)
    return lines


def _walk(node: yaml.Node, loc: Location, lines: dict[Location, int]) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            _walk(value_node, (*loc, key), lines)
            lines.setdefault((*loc, key, "__key__"), key_node.start_mark.line + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), lines)


def line_of(lines: dict[Location, int], loc: Sequence[str | int]) -> int | None:
    """Return the line of `loc`, or of its nearest enclosing value when `loc` itself is absent (a missing key).

    Args:
        lines: The map built by `line_map`.
        loc: A location, as in a pydantic error's `loc`.

    Returns:
        A 1-based line number, or None for an empty document.
    """
    path = tuple(loc)
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)

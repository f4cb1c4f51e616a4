"""OpenAI-shaped results for the openai<1 style facade: dicts that also allow attribute access.

Example:
    >>> r = to_object({"choices": [{"message": {"content": "Hi"}}]})
    >>> r.choices[0].message.content == r["choices"][0]["message"]["content"]
    True
"""

from __future__ import annotations

from typing import Any

__all__ = ["OpenAIObject", "embeddings_object", "to_object"]


class OpenAIObject(dict[str, Any]):
    """A `dict` whose keys are also attributes; `json.dumps` and `==` work as for any dict."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_dict(self) -> dict[str, Any]:
        """A plain-dict deep copy."""
        return _plain(self)  # type: ignore[no-any-return]


def to_object(value: dict[str, Any]) -> OpenAIObject:
    """Turn a plain dict, and every dict nested in it, into `OpenAIObject`s."""
    # Runs once per streamed chunk: copy each dict in C, then replace only the values that are containers.
    obj = OpenAIObject(value)
    for key, item in value.items():
        kind = type(item)
        if kind is dict:
            obj[key] = to_object(item)
        elif kind is list:
            obj[key] = _convert_list(item)
    return obj


def embeddings_object(value: dict[str, Any]) -> OpenAIObject:
    """An embedding answer whose items `easyllm.protocol.embeddings` has already checked, vectors not scanned.

    `to_object` would look at every value of every vector for dicts to convert; the vectors are lists of floats
    (or base64 text) by construction, so only the items, the usage and the answer itself become `OpenAIObject`s.
    Items already converted (when batches are merged) are kept as they are.
    """
    data = [item if type(item) is OpenAIObject else OpenAIObject(item) for item in value["data"]]
    usage = value.get("usage")
    return OpenAIObject(value, data=data, usage=OpenAIObject(usage) if type(usage) is dict else usage)


def _convert_list(values: list[Any]) -> list[Any]:
    if _CONTAINERS.isdisjoint(map(type, values)):  # e.g. an embedding vector: nothing to convert, kept as it is
        return values
    return [to_object(v) if type(v) is dict else _convert_list(v) if type(v) is list else v for v in values]


_CONTAINERS = frozenset({dict, list})


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value

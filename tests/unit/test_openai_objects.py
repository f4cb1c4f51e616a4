"""The openai<1 style result objects: `embeddings_object` builds what `to_object` builds, without scanning vectors."""

from __future__ import annotations

from typing import Any

from easyllm.schema.openai import OpenAIObject, embeddings_object, to_object


def kinds(value: Any) -> Any:
    """The value with every container replaced by its type name, to compare structure and types."""
    if isinstance(value, dict):
        return (type(value).__name__, {k: kinds(v) for k, v in value.items()})
    if isinstance(value, list):
        return [kinds(v) for v in value]
    return type(value).__name__


def test_embeddings_object_matches_to_object() -> None:
    answer = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.6, 0.8]},
            {"object": "embedding", "index": 1, "embedding": "AACAPwAAAMA="},
        ],
        "model": "m",
        "usage": {"prompt_tokens": 4, "total_tokens": 4, "estimated": True},
    }
    fast, general = embeddings_object(answer), to_object(answer)
    assert fast == general and kinds(fast) == kinds(general)
    assert fast.data[0].embedding is answer["data"][0]["embedding"]  # the vector itself is not copied
    assert fast.usage.total_tokens == 4


def test_items_already_converted_are_kept() -> None:
    item = OpenAIObject(object="embedding", index=0, embedding=[1.0])
    merged = embeddings_object({"object": "list", "data": [item], "model": "m", "usage": None})
    assert merged.data[0] is item and merged.usage is None

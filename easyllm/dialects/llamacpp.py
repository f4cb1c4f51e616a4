"""llama.cpp's own `llama-server`, and the llama-cpp-python package's server.

`llama-server` takes OpenAI's `response_format` (json_schema through grammars), sends reasoning as
`reasoning_content` (with `--jinja` and a reasoning format), serves `/v1/embeddings` (`--embeddings`),
`/v1/rerank` and `/v1/responses`. Recognised by `GET /props`.

llama-cpp-python's server (`python -m llama_cpp.server`) takes structured output only as
`{"type": "json_object", "schema": …}`, answers 500 to an assistant message whose `content` is null, applies a
repeat penalty of 1.1 unless told otherwise (OpenAI's API has none: easyllm sends `repeat_penalty: 1.0` unless the
call sets `repetition_penalty`) and calls that option `repeat_penalty`; it has no route that tells it apart, so it
is chosen with `engine="llama-cpp-python"`. Its `/v1/embeddings` has no
`encoding_format` and always sends floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from easyllm.dialects.base import Probe
from easyllm.dialects.openai import OpenAICompatible
from easyllm.protocol.messages import ChatWire

if TYPE_CHECKING:
    from easyllm.protocol.classification import ClassifyCall, ClassifyPlan
    from easyllm.protocol.rerank import RerankCall, RerankPlan

__all__ = ["LlamaCpp", "LlamaCppPython"]


class LlamaCpp(OpenAICompatible):
    """llama.cpp's `llama-server`."""

    name = "llama.cpp"
    probe = Probe("/props", ("default_generation_settings",))
    native_responses = True


def json_object_with_schema(response_format: Mapping[str, Any]) -> dict[str, Any] | None:
    """llama-cpp-python's structured-output form: `{"type": "json_object", "schema": …}`.

    Example:
        >>> json_object_with_schema({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}})
        {'type': 'json_object', 'schema': {'type': 'object'}}
    """
    kind = response_format.get("type")
    if kind == "json_schema":
        return {"type": "json_object", "schema": response_format["json_schema"]["schema"]}
    return dict(response_format) if kind == "json_object" else None


class LlamaCppPython(OpenAICompatible):
    """llama-cpp-python's OpenAI-compatible server (no rerank and no classification routes)."""

    name = "llama-cpp-python"
    wire: ClassVar[ChatWire] = ChatWire(
        null_content=False,
        response_format=json_object_with_schema,
        defaults={"repeat_penalty": 1.0},
        renames={"repetition_penalty": "repeat_penalty"},
    )
    embeddings_base64 = False  # its request model has no `encoding_format`: it always sends floats

    def rerank(self, call: RerankCall) -> RerankPlan:
        """Refused: its server has no rerank route."""
        raise self._unsupported("rerank route")

    def classification(self, call: ClassifyCall) -> ClassifyPlan:
        """Refused: its server has no classification route."""
        raise self._unsupported("text-classification route")

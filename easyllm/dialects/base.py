"""The interface every server dialect implements, and the call descriptions it plans from (pure).

A dialect knows one kind of server: where each endpoint lives, what the server calls things, and what it gets
wrong. The shells never branch on the kind of server: they hand a call description (`ChatCall`, `TextCall`,
`EmbedCall`) to the dialect that `easyllm.dialects.choose` picked and run the plan it returns.

Adding a server kind is one subclass of `Dialect` (usually of `OpenAICompatible`) in its own module and one row
in `easyllm.dialects.DIALECTS`; adding an endpoint is one method here with a default that refuses clearly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from easyllm.errors import InvalidParameterError
from easyllm.protocol.model_ids import check_model_id, check_served_model_name
from easyllm.protocol.requests import ChatCall, EmbedCall, TextCall

if TYPE_CHECKING:
    from easyllm.protocol.classification import ClassifyCall, ClassifyPlan
    from easyllm.protocol.embeddings import EmbeddingPlan, EncodingFormat
    from easyllm.protocol.generation import CompletionPlan
    from easyllm.protocol.models_info import ModelRoutes
    from easyllm.protocol.rerank import RerankCall, RerankPlan
    from easyllm.settings import Settings

__all__ = ["ChatCall", "Dialect", "EmbedCall", "Probe", "TextCall"]


@dataclass(frozen=True)
class Probe:
    """A cheap request that tells whether a server is of this dialect's kind (`GET {server root}{path}`).

    `keys`: the answer is a JSON object with all of these keys. Probes never carry the caller's extras and are
    tried at most once per server.
    """

    path: str
    keys: tuple[str, ...]

    def matches(self, body: object) -> bool:
        """Whether a probe answer looks like this dialect's server."""
        return isinstance(body, Mapping) and all(key in body for key in self.keys)


class Dialect:
    """One kind of server. Subclasses override the endpoints they serve and the quirks they have.

    Class attributes describe the server (the defaults are OpenAI's own behaviour):

    - `name`: the key in `DIALECTS` and the value of `engine=`.
    - `probe`: how to recognise the server (None: only by its URL or `engine=`).
    - `native_responses`: whether it serves `POST /v1/responses` itself.
    - `hub_models`: whether `model` names a Hugging Face Hub model there (checked as a Hub id before sending);
      otherwise it is the server's own name for its model (only what cannot be a name is refused).
    - `embeddings_base64`: whether its OpenAI-compatible `/embeddings` sends vectors as base64 when asked
      (`encoding_format="base64"`); a server that answers floats anyway or refuses is found out and remembered.
    """

    name: ClassVar[str] = "?"
    probe: ClassVar[Probe | None] = None
    native_responses: ClassVar[bool] = False
    hub_models: ClassVar[bool] = False
    embeddings_base64: ClassVar[bool] = False

    def check_model(self, model: object) -> str | None:
        """`model` if it can name a model on this kind of server; `InvalidParameterError` otherwise.

        See `easyllm.protocol.model_ids`: a Hub id on Hugging Face servers, a free-form name elsewhere; `None` is
        allowed (routes that need a model say so when they are planned).
        """
        if self.hub_models:
            return None if model is None else check_model_id(model)
        return check_served_model_name(model)

    def chat(self, call: ChatCall) -> CompletionPlan:
        """Plan a chat completion."""
        raise self._unsupported("chat completions")

    def completion(self, call: TextCall) -> CompletionPlan:
        """Plan a text completion."""
        raise self._unsupported("text completions")

    def embeddings(self, call: EmbedCall) -> EmbeddingPlan:
        """Plan an embedding call's batches."""
        raise self._unsupported("embeddings")

    def embeddings_wire_format(self, call: EmbedCall) -> EncodingFormat:
        """How to ask an OpenAI-compatible `/embeddings` for vectors: base64 unless the caller chose floats.

        Base64 float32 is a third of the bytes of JSON floats and needs no number parsing (openai-python asks for
        it by default too); the caller still gets what it asked for. Floats where this kind of server has no
        base64 or this server was found not to send it.
        """
        if call.encoding_format == "float" or call.floats_only or not self.embeddings_base64:
            return "float"
        return "base64"

    def rerank(self, call: RerankCall) -> RerankPlan:
        """Plan a rerank call's batches (`easyllm.dialects.scoring` has the shared steps)."""
        raise self._unsupported("rerank route")

    def classification(self, call: ClassifyCall) -> ClassifyPlan:
        """Plan a text-classification call's batches (moderations too)."""
        raise self._unsupported("text-classification route")

    def model_routes(self, settings: Settings) -> ModelRoutes:
        """Where the server tells which models it serves, with their limits."""
        raise self._unsupported("model list")

    def info_url(self, settings: Settings) -> str | None:
        """Where the server tells its limits (`/info`: batch size), or None."""
        return None

    def _unsupported(self, what: str) -> InvalidParameterError:
        return InvalidParameterError(
            f"{self.name} servers have no {what}; point api_base at a server that does, or set engine=",
            param="api_base",
        )

    def __repr__(self) -> str:
        return f"<dialect {self.name}>"

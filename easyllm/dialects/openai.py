"""Any OpenAI-compatible server (`…/v1`): the request as OpenAI wrote it, the answer normalised.

The base for vLLM, SGLang, llama.cpp's server, llama-cpp-python's server and the router, which override only
what differs; used as it is for servers nothing more is known about.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

from easyllm.dialects import scoring
from easyllm.dialects.base import ChatCall, Dialect, EmbedCall, TextCall
from easyllm.protocol.messages import ChatWire
from easyllm.protocol.requests import embedding_plan, messages_chat_plan, messages_text_plan

if TYPE_CHECKING:
    from easyllm.protocol.classification import ClassifyCall, ClassifyPlan
    from easyllm.protocol.embeddings import EmbeddingPlan
    from easyllm.protocol.generation import CompletionPlan
    from easyllm.protocol.models_info import ModelRoutes
    from easyllm.protocol.rerank import RerankCall, RerankPlan
    from easyllm.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["OpenAICompatible"]


class OpenAICompatible(Dialect):
    """A generic OpenAI-compatible server: `/chat/completions`, `/completions`, `/embeddings` under `api_base`."""

    name = "openai"
    wire: ClassVar[ChatWire] = ChatWire()
    embeddings_base64 = True

    def chat(self, call: ChatCall) -> CompletionPlan:
        """`POST {api_base}/chat/completions`; the server applies the model's chat template."""
        if call.prompt_builder is not None:
            logger.info("prompt_builder is not used on an OpenAI-compatible server: it applies the chat template")
        url = f"{call.settings.api_base}/chat/completions"
        return messages_chat_plan(call, self.wire, url, body_model=self.body_model(call.model))

    def completion(self, call: TextCall) -> CompletionPlan:
        """`POST {api_base}/completions`, the prompt as given."""
        url = f"{call.settings.api_base}/completions"
        return messages_text_plan(call, self.wire, url, body_model=self.body_model(call.model))

    def embeddings(self, call: EmbedCall) -> EmbeddingPlan:
        """`POST {api_base}/embeddings`, vectors asked for as base64 (see `embeddings_wire_format`), finished here."""
        url = f"{call.settings.api_base}/embeddings"
        return embedding_plan(
            call, url, "openai", body_model=call.model or None, wire_format=self.embeddings_wire_format(call)
        )

    def rerank(self, call: RerankCall) -> RerankPlan:
        """`POST {api_base}/rerank` `{model, query, documents, top_n}` (vLLM, llama.cpp, Cohere/Jina-style)."""
        return scoring.openai_rerank(call)

    def classification(self, call: ClassifyCall) -> ClassifyPlan:
        """TEI's `/predict` at the server's root (TEI and `easyllm serve` behind a `/v1` base)."""
        return scoring.tei_classification(call)

    def model_routes(self, settings: Settings) -> ModelRoutes:
        """`GET {api_base}/models`."""
        return scoring.openai_model_routes(settings)

    def body_model(self, model: str | None) -> str | None:
        """The `model` field sent (None: left out; most single-model servers ignore it)."""
        return model or None

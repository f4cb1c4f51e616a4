"""The Hugging Face Inference Providers router (`https://router.huggingface.co/v1`), easyllm's default.

Chat goes to `/v1/chat/completions` with `model` exactly as given (a `:provider`, `:fastest` or `:cheapest`
suffix is kept; the router picks the provider). The router's `/v1` has no text completions, embeddings,
rerank or classification, so those go to the `hf-inference` provider's task routes
(`easyllm.dialects.hf_inference`). A named provider's base (`https://router.huggingface.co/{provider}/v1`) keeps
every route under it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from easyllm.dialects.base import ChatCall, EmbedCall, TextCall
from easyllm.dialects.hf_inference import HFInference
from easyllm.dialects.openai import OpenAICompatible
from easyllm.dialects.paths import require_model
from easyllm.protocol.requests import messages_chat_plan

if TYPE_CHECKING:
    from easyllm.protocol.classification import ClassifyCall, ClassifyPlan
    from easyllm.protocol.embeddings import EmbeddingPlan
    from easyllm.protocol.generation import CompletionPlan
    from easyllm.protocol.rerank import RerankCall, RerankPlan

__all__ = ["HF_INFERENCE_BASE", "ROUTER_BASE", "ROUTER_HOST", "Router"]

ROUTER_HOST = "router.huggingface.co"
ROUTER_BASE = f"https://{ROUTER_HOST}/v1"
HF_INFERENCE_BASE = f"https://{ROUTER_HOST}/hf-inference/models"

_hf_inference = HFInference()


def _auto_routed(api_base: str) -> bool:
    """Whether the base is the router's own `/v1` (not a named provider's `/{provider}/v1`)."""
    return api_base.rstrip("/").endswith(f"{ROUTER_HOST}/v1")


Call = TypeVar("Call", TextCall, EmbedCall, "RerankCall", "ClassifyCall")


def _on_hf_inference(call: Call) -> Call:
    """The same call aimed at the hf-inference provider (same host, so the token goes nowhere new)."""
    return replace(call, settings=replace(call.settings, api_base=HF_INFERENCE_BASE))


class Router(OpenAICompatible):
    """The Inference Providers router."""

    name = "router"
    hub_models = True
    native_responses = True

    def chat(self, call: ChatCall) -> CompletionPlan:
        """`POST …/v1/chat/completions`; the model (with its suffix) is required."""
        model = require_model(call.model, "by the Inference Providers router (e.g. 'meta-llama/Llama-3.1-8B-Instruct')")
        url = f"{call.settings.api_base}/chat/completions"
        return messages_chat_plan(call, self.wire, url, body_model=model)

    def completion(self, call: TextCall) -> CompletionPlan:
        """The hf-inference text-generation route (the router's `/v1` has no completions)."""
        if not _auto_routed(call.settings.api_base):
            return super().completion(call)
        return _hf_inference.completion(_on_hf_inference(call))

    def embeddings(self, call: EmbedCall) -> EmbeddingPlan:
        """The hf-inference feature-extraction route (the router has no `/v1/embeddings`)."""
        if not _auto_routed(call.settings.api_base):
            return super().embeddings(call)
        return _hf_inference.embeddings(_on_hf_inference(call))

    def rerank(self, call: RerankCall) -> RerankPlan:
        """The hf-inference text-classification of a cross encoder (the router's `/v1` has no rerank)."""
        if not _auto_routed(call.settings.api_base):
            return super().rerank(call)
        return _hf_inference.rerank(_on_hf_inference(call))

    def classification(self, call: ClassifyCall) -> ClassifyPlan:
        """The hf-inference text-classification route."""
        if not _auto_routed(call.settings.api_base):
            return super().classification(call)
        return _hf_inference.classification(_on_hf_inference(call))

"""The `hf-inference` provider and other model collections (`…/models`): each model under `{api_base}/{id}`.

`https://router.huggingface.co/hf-inference/models` is where the retired `api-inference.huggingface.co/models`
now lives. A model's routes: text generation at `{api_base}/{id}` (TGI's native body), chat at
`{api_base}/{id}/v1/chat/completions` (the model id as `model`), feature extraction at
`{api_base}/{id}/pipeline/feature-extraction`. Otherwise it behaves as TGI does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from easyllm.dialects.base import EmbedCall, Probe
from easyllm.dialects.paths import model_segment
from easyllm.dialects.tgi import TGI
from easyllm.protocol.requests import embedding_plan

if TYPE_CHECKING:
    from easyllm.protocol.embeddings import EmbeddingPlan
    from easyllm.settings import Settings

__all__ = ["HFInference"]


class HFInference(TGI):
    """A model collection: the `hf-inference` provider of the router, or any server laid out like it."""

    name = "hf-inference"
    probe: ClassVar[Probe | None] = None

    def generation_url(self, settings: Settings, model: str | None) -> str:
        """`{api_base}/{model}` (a model is required)."""
        return f"{settings.api_base}/{model_segment(model)}"

    def body_model(self, model: str | None) -> str:
        """The model id itself."""
        return model_segment(model)

    def embeddings(self, call: EmbedCall) -> EmbeddingPlan:
        """`POST {api_base}/{model}/pipeline/feature-extraction`; token-level answers are mean-pooled."""
        url = f"{self.generation_url(call.settings, call.model)}/pipeline/feature-extraction"
        return embedding_plan(call, url, "pipeline")

    def info_url(self, settings: Settings) -> str | None:
        """None: a collection has no `/info`."""
        return None

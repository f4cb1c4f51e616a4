"""The `hf-inference` provider and other model collections (`…/models`): each model under `{api_base}/{id}`.

`https://router.huggingface.co/hf-inference/models` is where the retired `api-inference.huggingface.co/models`
now lives. A model's routes: text generation at `{api_base}/{id}` (TGI's native body), chat at
`{api_base}/{id}/v1/chat/completions` (the model id as `model`), feature extraction at
`{api_base}/{id}/pipeline/feature-extraction`, text-classification (rerank with a cross encoder, moderation with
a classifier) at `{api_base}/{id}`. Otherwise it behaves as TGI does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from easyllm.dialects import scoring
from easyllm.dialects.base import EmbedCall, Probe
from easyllm.dialects.paths import model_segment
from easyllm.dialects.tgi import TGI
from easyllm.errors import InvalidParameterError
from easyllm.protocol.requests import embedding_plan

if TYPE_CHECKING:
    from easyllm.protocol.classification import ClassifyCall, ClassifyPlan
    from easyllm.protocol.embeddings import EmbeddingPlan
    from easyllm.protocol.models_info import ModelRoutes
    from easyllm.protocol.rerank import RerankCall, RerankPlan
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

    def rerank(self, call: RerankCall) -> RerankPlan:
        """A cross encoder's text-classification at `{api_base}/{model}`, `{text, text_pair}` per document."""
        return scoring.pipeline_rerank(call, self.generation_url(call.settings, call.args.model))

    def classification(self, call: ClassifyCall) -> ClassifyPlan:
        """Text-classification at `{api_base}/{model}`, one text per request (all its labels come back)."""
        return scoring.pipeline_classification(call, self.generation_url(call.settings, call.args.model))

    def model_routes(self, settings: Settings) -> ModelRoutes:
        """None: a collection cannot list its models (refused before anything is sent)."""
        raise InvalidParameterError(
            "is a model collection (…/models), which cannot list its models; set it to a server, "
            "or to an OpenAI-compatible /v1 such as https://router.huggingface.co/v1",
            param="api_base",
        )

    def info_url(self, settings: Settings) -> str | None:
        """None: a collection has no `/info`."""
        return None

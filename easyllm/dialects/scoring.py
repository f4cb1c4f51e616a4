"""The planning steps of rerank, classification and model listing that several dialects share (pure).

| shape | rerank | classification | model info |
|---|---|---|---|
| a server's root (TEI; also TGI's root, where TEI-shaped routes are the only ones there are) | `POST {root}/rerank` | `POST {root}/predict` | `GET {root}/info`, on a 404 `GET {root}/v1/models` |
| OpenAI-compatible (`…/v1`: vLLM, llama.cpp, `easyllm serve`) | `POST {base}/rerank` (Cohere/Jina shape) | `POST {root}/predict` | `GET {base}/models` (llama.cpp: and `/props`) |
| a model collection (`…/models`, hf-inference) | text-classification of `{text, text_pair}` at `{base}/{model}` | text-classification at `{base}/{model}` | none |
"""  # noqa: E501

from __future__ import annotations

from typing import TYPE_CHECKING

from easyllm.dialects.paths import server_root
from easyllm.protocol.classification import ClassifyCall, ClassifyPlan, plan_classify
from easyllm.protocol.models_info import ModelRoutes
from easyllm.protocol.rerank import RerankCall, RerankPlan, RerankRoute, plan_rerank

if TYPE_CHECKING:
    from easyllm.settings import Settings

__all__ = [
    "openai_model_routes",
    "openai_rerank",
    "pipeline_classification",
    "pipeline_rerank",
    "root_model_routes",
    "tei_classification",
    "tei_rerank",
]


def _rerank(call: RerankCall, url: str, route: RerankRoute) -> RerankPlan:
    return plan_rerank(call.args, url=url, route=route, max_batch_size=call.max_batch_size, extras=call.extras)


def tei_rerank(call: RerankCall) -> RerankPlan:
    """TEI's `POST /rerank` at the server's root."""
    return _rerank(call, f"{server_root(call.settings.api_base)}/rerank", "tei")


def openai_rerank(call: RerankCall) -> RerankPlan:
    """`POST {api_base}/rerank` in the Cohere/Jina shape (vLLM, llama.cpp, `easyllm serve`)."""
    return _rerank(call, f"{call.settings.api_base}/rerank", "openai")


def pipeline_rerank(call: RerankCall, model_url: str) -> RerankPlan:
    """The Inference API's text-classification of (query, document) pairs at the model's URL."""
    return _rerank(call, model_url, "pipeline")


def tei_classification(call: ClassifyCall) -> ClassifyPlan:
    """TEI's `POST /predict` at the server's root."""
    url = f"{server_root(call.settings.api_base)}/predict"
    return plan_classify(call.args, url=url, route="tei", max_batch_size=call.max_batch_size, extras=call.extras)


def pipeline_classification(call: ClassifyCall, model_url: str) -> ClassifyPlan:
    """The Inference API's text-classification at the model's URL, one text per request."""
    return plan_classify(
        call.args, url=model_url, route="pipeline", max_batch_size=call.max_batch_size, extras=call.extras
    )


def root_model_routes(settings: Settings) -> ModelRoutes:
    """`/info` at the server's root; a root without it (a llama.cpp root) is asked `/v1/models` and `/props`."""
    root = server_root(settings.api_base)
    return ModelRoutes(f"{root}/info", f"{root}/v1/models", f"{root}/props")


def openai_model_routes(settings: Settings) -> ModelRoutes:
    """`GET {api_base}/models`, and llama.cpp's `/props` at the root when the list is llama.cpp's."""
    return ModelRoutes(None, f"{settings.api_base}/models", f"{server_root(settings.api_base)}/props")

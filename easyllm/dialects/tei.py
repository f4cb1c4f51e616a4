"""Text Embeddings Inference (TEI): `POST /embed` at its root, `/v1/embeddings` behind a `/v1` base.

TEI normalises on the server when asked, tells its batch limit in `GET /info` (`max_client_batch_size`) and
refuses a larger batch with 413/422 (easyllm then splits and remembers the smaller limit). Recognised by
`GET /info` (`model_type`). It has no chat or text completion; a reranker serves `/rerank`, a classifier
`/predict`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from easyllm.dialects import scoring
from easyllm.dialects.base import Dialect, EmbedCall, Probe
from easyllm.dialects.paths import is_v1, server_root
from easyllm.protocol.requests import embedding_plan

if TYPE_CHECKING:
    from easyllm.protocol.classification import ClassifyCall, ClassifyPlan
    from easyllm.protocol.embeddings import EmbeddingPlan
    from easyllm.protocol.models_info import ModelRoutes
    from easyllm.protocol.rerank import RerankCall, RerankPlan
    from easyllm.settings import Settings

__all__ = ["TEI"]


class TEI(Dialect):
    """Text Embeddings Inference."""

    name = "tei"
    hub_models = True
    probe = Probe("/info", ("model_id", "model_type"))
    embeddings_base64 = True  # `/v1/embeddings` since TEI 1.3; older ones answer floats (found out, remembered)

    def embeddings(self, call: EmbedCall) -> EmbeddingPlan:
        """TEI's `/embed` (or its `/v1/embeddings` when reached through a `/v1` base)."""
        if is_v1(call.settings.api_base):
            url = f"{call.settings.api_base}/embeddings"
            return embedding_plan(
                call, url, "openai", body_model=call.model, wire_format=self.embeddings_wire_format(call)
            )
        return embedding_plan(call, f"{call.settings.api_base}/embed", "tei")

    def rerank(self, call: RerankCall) -> RerankPlan:
        """`POST /rerank` `{query, texts}` → `[{index, score}]` (a reranker model)."""
        return scoring.tei_rerank(call)

    def classification(self, call: ClassifyCall) -> ClassifyPlan:
        """`POST /predict` `{inputs}` → every label's score (a classifier model)."""
        return scoring.tei_classification(call)

    def model_routes(self, settings: Settings) -> ModelRoutes:
        """`GET /info`: `model_type` says embedding, classifier or reranker."""
        return scoring.root_model_routes(settings)

    def info_url(self, settings: Settings) -> str | None:
        """`GET /info` at the server's root."""
        return f"{server_root(settings.api_base)}/info"

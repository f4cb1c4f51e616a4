"""What a server's own root answers the way TEI does, shared by the TEI and TGI dialects.

A root that reranks or classifies (TEI, `easyllm serve`) has TEI's `/rerank` and `/predict`; its `/info` tells
its limits and what it serves (else `/v1/models`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from easyllm.dialects import scoring
from easyllm.dialects.base import Dialect
from easyllm.dialects.paths import server_root

if TYPE_CHECKING:
    from easyllm.protocol.classification import ClassifyCall, ClassifyPlan
    from easyllm.protocol.models_info import ModelRoutes
    from easyllm.protocol.rerank import RerankCall, RerankPlan
    from easyllm.settings import Settings

__all__ = ["ServerRoot"]


class ServerRoot(Dialect):
    """A server reached at its own root: TEI's rerank and classification routes, `/info` for limits and models."""

    def rerank(self, call: RerankCall) -> RerankPlan:
        """`POST /rerank` `{query, texts}` → `[{index, score}]`."""
        return scoring.tei_rerank(call)

    def classification(self, call: ClassifyCall) -> ClassifyPlan:
        """`POST /predict` `{inputs}` → every label's score."""
        return scoring.tei_classification(call)

    def model_routes(self, settings: Settings) -> ModelRoutes:
        """`GET /info` (the one model it serves; `model_type` says which task), else `/v1/models`."""
        return scoring.root_model_routes(settings)

    def info_url(self, settings: Settings) -> str | None:
        """`GET /info` at the server's root."""
        return f"{server_root(settings.api_base)}/info"

"""Text Embeddings Inference (TEI): `POST /embed` at its root, `/v1/embeddings` behind a `/v1` base.

TEI normalises on the server when asked, tells its batch limit in `GET /info` (`max_client_batch_size`) and
refuses a larger batch with 413/422 (easyllm then splits and remembers the smaller limit). Recognised by
`GET /info` (`model_type`). It has no chat or text completion; a reranker serves `/rerank`, a classifier
`/predict`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from easyllm.dialects.base import EmbedCall, Probe
from easyllm.dialects.paths import is_v1
from easyllm.dialects.server_root import ServerRoot
from easyllm.protocol.requests import embedding_plan

if TYPE_CHECKING:
    from easyllm.protocol.embeddings import EmbeddingPlan

__all__ = ["TEI"]


class TEI(ServerRoot):
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

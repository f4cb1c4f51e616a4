"""`GET /v1/models`: each served model with its limits and what it can do.

OpenAI's `{id, object: "model", created, owned_by}`, plus `server`, `limits` (`max_input_tokens`,
`max_total_tokens`, `max_batch_size`, `max_stop_sequences`) and `capabilities` (`chat`, `chat_template`, `tools`,
`embeddings`, `rerank`, `classification`, `responses`), read by `client.models.list()`.
"""

from __future__ import annotations

from typing import Any

from easyllm.serve.scoring_service import ScoringService
from easyllm.serve.services import EmbeddingService, GenerationService

_NOTHING = {"chat": False, "chat_template": False, "tools": False, "embeddings": False, "rerank": False,
            "classification": False, "responses": False}  # fmt: skip


def _limits_and_capabilities(service: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    config = service.config
    if isinstance(service, GenerationService):
        template = service.chat_template is not None
        limits = {
            "max_input_tokens": config.max_input_tokens or config.max_total_tokens - 1,
            "max_total_tokens": config.max_total_tokens,
            "max_batch_size": config.batch_limit,
            "max_stop_sequences": config.max_stop_sequences,
        }
        return limits, {**_NOTHING, "chat": template, "chat_template": template, "tools": template}
    limits = {"max_input_tokens": service.model.max_input_length, "max_batch_size": config.batch_limit}
    if isinstance(service, EmbeddingService):
        return limits, {**_NOTHING, "embeddings": True, "rerank": True}
    if isinstance(service, ScoringService) and service.reranks:
        return limits, {**_NOTHING, "rerank": True}
    return limits, {**_NOTHING, "classification": True}


def model_entry(service: Any) -> dict[str, Any]:
    """One `/v1/models` entry.

    Args:
        service: A loaded model.

    Returns:
        The entry.
    """
    limits, capabilities = _limits_and_capabilities(service)
    return {
        "id": service.config.name,
        "object": "model",
        "created": 0,
        "owned_by": service.config.served_model_id,
        "server": "easyllm",
        "limits": limits,
        "capabilities": capabilities,
    }

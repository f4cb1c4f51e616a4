"""The root of `easyllm serve`: one URL that speaks for a generation model and an embedding model at once.

A client that reads the root's `/info` must be able to trust it whichever root route it then calls, so:

- **One batch limit for the whole root.** `max_client_batch_size` at the root is the smallest of the served models'
  own limits (4 with the demo models: TGI's default for the chat model); every root route that takes several inputs
  (`POST /` with a list, `/embed`, `/embeddings`, `/v1/embeddings`, `/v1/completions`) enforces exactly that, and
  no model ever gets more at the root than it accepts under its own endpoint. A model's own routes
  (`/minilm/...`, `/models/minilm/...`) keep the model's own limit, which their `/info` reports.
- **One `/info` for both models**: TGI's fields describe the generation model, TEI's limits for embeddings
  (`max_input_length`, `auto_truncate`) describe the embedding model, and `max_client_batch_size` is the root's
  limit. TEI's `model_type` is left out while a generation model is served: clients (easyllm's dialects among
  them) read it as "this server is TEI", which has no chat; the root is TGI-shaped and serves embeddings on
  `POST /` as well as on TEI's routes.
- **`POST /` serves both.** A body whose `inputs` is a list of strings, or that has TEI's embedding fields
  (`normalize`, `truncate`, `prompt_name`, `dimensions`) and no `parameters` or `stream`, is feature extraction by
  the embedding model, as an Inference Endpoint running an embedding model answers at its URL; any other body is
  TGI's compat route (one string in, generation out).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from easyllm.serve.routes import tei, tgi
from easyllm.serve.routes.common import Endpoint, FastJSON, bind
from easyllm.serve.routes.tgi_shapes import info_json as tgi_info_json
from easyllm.serve.services import EmbeddingService, GenerationService, Service

__all__ = ["is_embedding_body", "root_info", "root_limit", "root_post", "root_services"]

S = TypeVar("S", bound=Service)

_EMBEDDING_FIELDS = frozenset({"normalize", "truncate", "truncation_direction", "prompt_name", "dimensions"})
_TEI_FIELDS = ("max_input_length", "auto_truncate")


def root_limit(services: Mapping[str, Service]) -> int:
    """The root's `max_client_batch_size`: the smallest of the served models' limits.

    Args:
        services: Every served model (each is reachable at the root through a `model` field).

    Returns:
        The limit.
    """
    return min(service.config.batch_limit for service in services.values())


def _at_root(service: S, limit: int) -> S:
    """The same model (worker, weights, counters shared) with the root's batch limit."""
    view = copy.copy(service)
    view.config = service.config.model_copy(update={"max_client_batch_size": limit})
    return view


def root_services(services: Mapping[str, Service]) -> dict[str, Service]:
    """Every served model as the root serves it: with the root's batch limit.

    Args:
        services: The served models, by name, in config order.

    Returns:
        The root's views of them, by name, in the same order.
    """
    limit = root_limit(services)
    return {name: _at_root(service, limit) for name, service in services.items()}


def root_info(gen: GenerationService | None, emb: EmbeddingService | None) -> dict[str, Any]:
    """The root's `/info`: what every root route enforces (see the module docstring).

    Args:
        gen: The root's generation model, if any (with the root's limit).
        emb: The root's embedding model, if any (with the root's limit).

    Returns:
        The JSON object.
    """
    if gen is None:
        return tei.info_json(emb) if emb is not None else {}
    info = tgi_info_json(gen.config)
    if emb is not None:
        embedding = tei.info_json(emb)
        info.update({field: embedding[field] for field in _TEI_FIELDS})
    return info


def is_embedding_body(body: object) -> bool:
    """Whether a root `POST /` body asks for feature extraction rather than generation.

    Example:
        >>> is_embedding_body({"inputs": ["a", "b"]}), is_embedding_body({"inputs": "a", "normalize": True})
        (True, True)
        >>> is_embedding_body({"inputs": "a"}), is_embedding_body({"inputs": "a", "parameters": {}})
        (False, False)
    """
    if not isinstance(body, Mapping):
        return False
    if isinstance(body.get("inputs"), list):
        return True
    return "parameters" not in body and "stream" not in body and not _EMBEDDING_FIELDS.isdisjoint(body)


def root_post(gen: GenerationService | None, emb: EmbeddingService | None) -> Endpoint:
    """`POST /` at the root: feature extraction for an embedding body, else TGI's compat route.

    Args:
        gen: The root's generation model, if any.
        emb: The root's embedding model, if any.

    Returns:
        The endpoint.
    """
    generate = bind(tgi.root, gen) if gen is not None else None
    extract = bind(tei.feature_extraction, emb) if emb is not None else None

    async def endpoint(request: Request) -> Response:
        chosen = generate or extract
        if generate is not None and extract is not None:
            try:
                body = json.loads(await request.body())
            except ValueError:
                body = None
            chosen = extract if is_embedding_body(body) else generate
        assert chosen is not None  # the root has at least one model
        return await chosen(request)

    return endpoint


def root_info_endpoint(gen: GenerationService | None, emb: EmbeddingService | None) -> Endpoint:
    """`GET /info` at the root.

    Args:
        gen: The root's generation model, if any.
        emb: The root's embedding model, if any.

    Returns:
        The endpoint.
    """
    info = root_info(gen, emb)

    async def endpoint(request: Request) -> Response:
        return FastJSON(info)

    return endpoint

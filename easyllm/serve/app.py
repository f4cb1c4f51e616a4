"""The Starlette application: every model's routes, under its endpoint and under `/models/{name}`.

The root routes serve the first model of each task (chat, completions and embeddings pick a model by their `model`
field when it names a served model), all with one batch limit that the root's `/info` reports; the root's
`POST /` is feature extraction for an embedding body and TGI's compat route otherwise (`easyllm.serve.root`).

| path (under `/`, `{endpoint}` and `/models/{name}`) | generation model | embedding model |
|---|---|---|
| `POST ""` | TGI compat route | feature-extraction |
| `POST /generate`, `/generate_stream`, `/tokenize` | TGI | — |
| `POST /v1/chat/completions`, `/v1/completions` | Messages API | — |
| `POST /v1/responses`, `GET` / `DELETE /v1/responses/{id}` | Responses API (from the chat path) | — |
| `POST /embed`, `/embeddings`, `/v1/embeddings` | — | TEI |
| `GET /info`, `/health`, `/v1/models` | TGI | TEI |

Rerank models (`task: rerank`) serve TEI's `/rerank`, `/v1/rerank` and the Inference API's text-classification of
pairs at `""`; classifiers (`task: classification`) serve TEI's `/predict` and text-classification at `""`; both
`/info` (TEI) and `/health`. Embedding models also rerank (cosine similarity: `easyllm.serve.routes.scoring`).
The root's `/rerank` and `/v1/rerank` serve the first rerank model (else the first embedding model) or the one the
`model` field names; `/predict` the first classifier.

Root only: `GET /`, `/ping`, `/metrics`, `POST /pipeline/feature-extraction/{name}`, and each `pipeline.endpoint`
(`POST /{endpoint}` with `{"text", "generation_params"}`, the config.yaml model-server format's route; it is matched
first, so it wins over any other route at the same path).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from easyllm.serve import root
from easyllm.serve.config import ServeConfig
from easyllm.serve.routes import chat, completions, pipeline, responses, scoring, tei, tgi
from easyllm.serve.routes.common import Endpoint, FastJSON, bind
from easyllm.serve.routes.models import model_entry
from easyllm.serve.scoring_service import ScoringService
from easyllm.serve.services import EmbeddingService, GenerationService, Metrics
from easyllm.serve.services import Service as _ModelService

Service = _ModelService | ScoringService


@dataclass
class ServerState:
    """The loaded models, by name, in config order.

    Attributes:
        config: The config they come from.
        services: Each model's service.
        metrics: Shared counters.
    """

    config: ServeConfig
    services: dict[str, Service]
    metrics: Metrics = field(default_factory=Metrics)

    def first(self, kind: type[Service]) -> Service | None:
        """The first model of a kind (it answers the root routes).

        Args:
            kind: `GenerationService` or `EmbeddingService`.

        Returns:
            The service, or None.
        """
        return next((s for s in self.services.values() if isinstance(s, kind)), None)


GENERATION_ROUTES: Sequence[tuple[str, str, Any]] = (
    ("", "POST", tgi.root),
    ("/generate", "POST", tgi.generate),
    ("/generate_stream", "POST", tgi.generate_stream),
    ("/tokenize", "POST", tgi.tokenize),
    ("/info", "GET", tgi.info),
    ("/health", "GET", tgi.health),
    ("/v1/chat/completions", "POST", chat.chat_completions),
    ("/v1/completions", "POST", completions.completions),
    ("/v1/responses", "POST", responses.create_response),
    ("/v1/responses/{response_id}", "GET", responses.retrieve_response),
    ("/v1/responses/{response_id}", "DELETE", responses.delete_response),
)
EMBEDDING_ROUTES: Sequence[tuple[str, str, Any]] = (
    ("", "POST", tei.feature_extraction),
    ("/embed", "POST", tei.embed),
    ("/embeddings", "POST", tei.openai_embeddings),
    ("/v1/embeddings", "POST", tei.openai_embeddings),
    ("/info", "GET", tei.info),
    ("/health", "GET", tgi.health),
    ("/rerank", "POST", scoring.tei_rerank),
    ("/v1/rerank", "POST", scoring.openai_rerank),
)
RERANK_ROUTES: Sequence[tuple[str, str, Any]] = (
    ("", "POST", scoring.pipeline),
    ("/rerank", "POST", scoring.tei_rerank),
    ("/v1/rerank", "POST", scoring.openai_rerank),
    ("/info", "GET", scoring.info),
    ("/health", "GET", tgi.health),
)
CLASSIFIER_ROUTES: Sequence[tuple[str, str, Any]] = (
    ("", "POST", scoring.pipeline),
    ("/predict", "POST", scoring.predict),
    ("/info", "GET", scoring.info),
    ("/health", "GET", tgi.health),
)


def _table(service: Service) -> Sequence[tuple[str, str, Any]]:
    if isinstance(service, GenerationService):
        return GENERATION_ROUTES
    if isinstance(service, ScoringService):
        return RERANK_ROUTES if service.reranks else CLASSIFIER_ROUTES
    return EMBEDDING_ROUTES


def model_routes(prefix: str, service: Service) -> list[Route]:
    """All routes of one model under a prefix.

    Args:
        prefix: `/smollm2`, `/models/smollm2`, or "" for the root.
        service: The model.

    Returns:
        The routes.
    """
    table = _table(service)
    routes = [Route(prefix + path or "/", bind(handler, service), methods=[method]) for path, method, handler in table]
    if prefix:
        routes.append(Route(prefix + "/v1/models", _models_endpoint([service]), methods=["GET"]))
    return routes


def _models_endpoint(services: Sequence[Service]) -> Endpoint:
    async def models(request: Request) -> Response:
        data = [_model_entry(s) for s in services]
        return FastJSON({"object": "list", "data": data})

    return models


def _model_entry(service: Service) -> dict[str, Any]:
    config = service.config
    entry = model_entry(service)  # OpenAI's fields with the model's limits and capabilities
    if config.description:
        entry["description"] = config.description
    if config.tags:
        entry["tags"] = list(config.tags)
    return entry


def _by_model_field(services: dict[str, Service], kind: type[Service], handler: Any) -> Endpoint:
    """A root endpoint that serves the model named in the body's `model` field, else the first of its kind."""
    default = next((s for s in services.values() if isinstance(s, kind)), None)

    async def endpoint(request: Request) -> Response:
        try:
            name = json.loads(await request.body()).get("model")
        except (ValueError, AttributeError):
            name = None
        chosen = services.get(name) if isinstance(name, str) else None
        service = chosen if isinstance(chosen, kind) else default
        if service is None:
            return _no_model(kind)
        return await bind(handler, service)(request)

    return endpoint


def _no_model(kind: type[Service]) -> Response:
    task = "generation" if kind is GenerationService else "embedding"
    return JSONResponse({"error": f"this server serves no {task} model", "error_type": "not_found"}, 404)


def root_routes(state: ServerState) -> list[Route]:
    """The root routes: the first model of each task, model-field dispatch, health, metrics, lookups by name.

    Every root route serves the models with the root's one batch limit, which the root's `/info` reports
    (`easyllm.serve.root`).

    Args:
        state: The loaded models.

    Returns:
        The routes.
    """
    # root_services is typed for generation and embedding models; it treats any model with a `config` alike
    services = cast("dict[str, Service]", root.root_services(cast("Any", state.services)))
    gen = next((s for s in services.values() if isinstance(s, GenerationService)), None)
    emb = next((s for s in services.values() if isinstance(s, EmbeddingService)), None)
    routes: list[Route] = [
        route
        for service in (gen, emb)
        if service is not None
        for route in model_routes("", service)
        if route.path not in ("/", "/info")
    ]
    routes[:0] = [
        Route("/", _health, methods=["GET"]),
        _post("/", root.root_post(gen, emb)),
        Route("/info", root.root_info_endpoint(gen, emb), methods=["GET"]),
        Route("/ping", _health, methods=["GET"]),
        Route("/health", _health, methods=["GET"]),  # also when no generation or embedding model is served
        Route("/metrics", _metrics_endpoint(state), methods=["GET"]),
        Route("/v1/models", _models_endpoint(list(state.services.values())), methods=["GET"]),
        _post("/v1/chat/completions", _by_model_field(services, GenerationService, chat.chat_completions)),
        _post("/v1/completions", _by_model_field(services, GenerationService, completions.completions)),
        _post("/v1/responses", _by_model_field(services, GenerationService, responses.create_response)),
        _post("/v1/embeddings", _by_model_field(services, EmbeddingService, tei.openai_embeddings)),
        _post("/embeddings", _by_model_field(services, EmbeddingService, tei.openai_embeddings)),
        *scoring_root_routes(services),
        Route("/pipeline/feature-extraction/{name}", _pipeline_endpoint(state), methods=["POST"]),
    ]  # fmt: skip
    return routes


def scoring_root_routes(services: dict[str, Service]) -> list[Route]:
    """The root's `/rerank`, `/v1/rerank` (by `model` field) and `/predict`: the first reranker and classifier.

    Args:
        services: The root's views of the loaded models (`easyllm.serve.root.root_services`).

    Returns:
        The routes (none for a task no model serves).
    """
    scorers = [s for s in services.values() if isinstance(s, ScoringService)]
    rerankers = [s for s in scorers if s.reranks] + [s for s in services.values() if isinstance(s, EmbeddingService)]
    reranker = next(iter(rerankers), None)
    classifier = next((s for s in scorers if not s.reranks), None)
    routes = []
    if reranker is not None:
        by_name = {s.config.name: s for s in rerankers}
        routes += [
            _post("/rerank", bind(scoring.tei_rerank, reranker)),
            _post("/v1/rerank", _named(by_name, reranker, scoring.openai_rerank)),
        ]
    if classifier is not None:
        routes.append(_post("/predict", bind(scoring.predict, classifier)))
    return routes


def _named(by_name: dict[str, Any], default: Any, handler: Any) -> Endpoint:
    """An endpoint serving the model its body's `model` field names (among `by_name`), else `default`."""

    async def endpoint(request: Request) -> Response:
        try:
            name = json.loads(await request.body()).get("model")
        except (ValueError, AttributeError):
            name = None
        service = by_name.get(name, default) if isinstance(name, str) else default
        return await bind(handler, service)(request)

    return endpoint


def _post(path: str, endpoint: Endpoint) -> Route:
    return Route(path, endpoint, methods=["POST"])


async def _health(request: Request) -> Response:
    return Response(status_code=200)


def _pipeline_endpoint(state: ServerState) -> Endpoint:
    async def pipeline(request: Request) -> Response:
        name = request.path_params["name"]
        service = state.services.get(name)
        if service is None:
            return JSONResponse({"error": f"Model {name} does not exist"}, status_code=404)
        if not isinstance(service, EmbeddingService):
            message = f"Model {name} is a generation model; feature-extraction is served for embedding models only"
            return JSONResponse({"error": message}, status_code=400)
        return await bind(tei.feature_extraction, service)(request)

    return pipeline


async def _unknown_model(request: Request) -> Response:
    name = request.path_params["name"].split("/")[0]
    return JSONResponse({"error": f"Model {name} does not exist"}, status_code=404)


def _metrics_endpoint(state: ServerState) -> Endpoint:
    async def metrics(request: Request) -> Response:
        lines = [f"{name} {value:g}" for name, value in sorted(state.metrics.counters.items())]
        for service in state.services.values():
            label = f'{{model="{service.config.name}"}}'
            lines.append(f"tgi_queue_size{label} {service.worker.waiting + service.worker.active}")
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

    return metrics


def pipeline_routes(state: ServerState) -> list[Route]:
    """The `POST /{endpoint}` routes of models configured with a `pipeline` (the config.yaml model-server format).

    Args:
        state: The loaded models.

    Returns:
        The routes.
    """
    return [
        Route(service.config.pipeline.endpoint, bind(pipeline.pipeline_generate, service), methods=["POST"])
        for service in state.services.values()
        if isinstance(service, GenerationService) and service.config.pipeline is not None
    ]


def build_app(state: ServerState) -> Starlette:
    """Build the application for loaded models.

    Args:
        state: The loaded models (their workers started).

    Returns:
        The Starlette app.
    """
    routes = pipeline_routes(state)  # first: a configured `{text}` endpoint wins over a route at the same path
    routes += root_routes(state)
    for service in state.services.values():
        routes += model_routes(service.config.route, service)
        routes += model_routes(f"/models/{service.config.name}", service)
    # hf-inference's current layout of the same route (the router: /models/{id}/pipeline/feature-extraction)
    routes.append(Route("/models/{name:path}/pipeline/feature-extraction", _pipeline_endpoint(state), methods=["POST"]))
    routes.append(Route("/models/{name:path}", _unknown_model, methods=["GET", "POST"]))
    return Starlette(routes=routes)

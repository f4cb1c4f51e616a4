"""Where rerank, classification and model-info requests go, by kind of server (pure string work).

One row per kind of server, so the shells never branch on it:

| kind | rerank | classification | what the server can do |
|---|---|---|---|
| `tei`: a server root (TEI, TGI, an Inference Endpoint, `easyllm serve`) | `POST {base}/rerank` (TEI) | `POST {base}/predict` (TEI) | `GET {base}/info`; on a 404, `GET {base}/v1/models` |
| `openai`: a base ending in `/v1` (vLLM, llama.cpp, `easyllm serve`) | `POST {base}/rerank` (Cohere/Jina shape) | `POST {root}/predict` (TEI shape under the server root) | `GET {base}/models`, llama.cpp's `GET {root}/props` |
| `collection`: a `.../models` base (the router's hf-inference) | `POST {base}/{model}` (text-classification of text pairs) | `POST {base}/{model}` (text-classification) | — |

`{root}` is the base without its `/v1`. The table becomes one method per dialect once `easyllm/dialects/` exists.
"""  # noqa: E501

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from easyllm.errors import InvalidParameterError
from easyllm.protocol import urls
from easyllm.protocol.urls import ServerProtocol
from easyllm.settings import Settings

__all__ = ["ServerKind", "TaskRoutes", "info_routes", "server_kind", "server_root", "task_routes"]

ServerKind = Literal["tei", "openai", "collection"]


def server_kind(settings: Settings, protocol: ServerProtocol = "auto") -> ServerKind:
    """The kind of server `api_base` is, for the task routes.

    Example:
        >>> server_kind(Settings(api_base="https://router.huggingface.co/hf-inference/models"))
        'collection'
        >>> server_kind(Settings(api_base="http://127.0.0.1:8000/v1"))
        'openai'
    """
    if settings.is_model_collection:
        return "collection"
    return "openai" if urls.is_openai_server(settings, protocol) else "tei"


def server_root(settings: Settings) -> str:
    """`api_base` without a trailing `/v1`: where TEI-shaped and llama.cpp's own routes live.

    Example:
        >>> server_root(Settings(api_base="http://127.0.0.1:8000/v1"))
        'http://127.0.0.1:8000'
    """
    base = settings.api_base
    return base[: -len("/v1")] if base.endswith("/v1") else base


@dataclass(frozen=True)
class TaskRoutes:
    """The URLs of one call's tasks on one server.

    Attributes:
        kind: the kind of server.
        rerank: where rerank requests go.
        classify: where classification requests go.
        info: TGI/TEI's `/info`, asked first when there is one, or None.
        models: an OpenAI-compatible `/models` list, or None.
        props: llama.cpp's `/props` (asked only when the list is llama.cpp's), or None.
    """

    kind: ServerKind
    rerank: str
    classify: str
    info: str | None
    models: str | None
    props: str | None


def _model_path(settings: Settings, model: str | None, task: str) -> str:
    if not model:
        raise InvalidParameterError(
            f"is required for {task} when base_url is a model collection (…/models); or set base_url to a server",
            param="model",
        )
    return urls.generation_url(settings, model)


def task_routes(settings: Settings, model: str | None, protocol: ServerProtocol = "auto") -> TaskRoutes:
    """The routes of rerank, classification and model info for this server (and model, on a collection).

    Example:
        >>> task_routes(Settings(api_base="http://127.0.0.1:8080"), None).rerank
        'http://127.0.0.1:8080/rerank'
        >>> task_routes(Settings(api_base="http://127.0.0.1:8000/v1"), None).classify
        'http://127.0.0.1:8000/predict'
    """
    kind = server_kind(settings, protocol)
    base = settings.api_base
    if kind == "collection":
        path = _model_path(settings, model, "rerank and classification")
        return TaskRoutes(kind, path, path, None, None, None)
    if kind == "openai":
        root = server_root(settings)
        return TaskRoutes(kind, f"{base}/rerank", f"{root}/predict", None, f"{base}/models", f"{root}/props")
    return TaskRoutes(kind, f"{base}/rerank", f"{base}/predict", f"{base}/info", f"{base}/v1/models", f"{base}/props")


def info_routes(settings: Settings, protocol: ServerProtocol = "auto") -> TaskRoutes:
    """The routes to ask what a server serves; a model collection has none (refused before anything is sent)."""
    if server_kind(settings, protocol) == "collection":
        raise InvalidParameterError(
            "is a model collection (…/models), which cannot list its models; set it to a server, "
            "or to an OpenAI-compatible /v1 such as https://router.huggingface.co/v1",
            param="base_url",
        )
    return task_routes(settings, None, protocol)

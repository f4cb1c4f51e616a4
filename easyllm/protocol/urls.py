"""Where each kind of request goes, from `api_base` and `model` (pure string work).

- `api_base` is a model collection (ends in `/models`, like the Inference API): generation goes to
  `{api_base}/{model}`, embeddings to `{root}/pipeline/feature-extraction/{model}`.
- Otherwise `api_base` is the server itself (TGI, TEI, an Inference Endpoint, `easyllm serve`): generation goes to
  its root route, embeddings to `{api_base}/embed`, and `model` only names the model in the response.
- `api_base` ending in `/v1` (or `protocol="openai"`) is an OpenAI-compatible server: `{api_base}/chat/completions`,
  `/completions`, `/embeddings`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import quote, urlsplit

from easyllm.errors import InvalidParameterError
from easyllm.settings import Settings

__all__ = [
    "ServerProtocol",
    "embedding_url",
    "generation_url",
    "info_url",
    "is_openai_server",
    "messages_url",
    "openai_url",
]

_COLLECTION = "/models"


def _model_path(model: str | None) -> str:
    if not model:
        raise InvalidParameterError(
            "is required when api_base is a model collection (…/models); or set api_base to a server URL",
            param="model",
        )
    return quote(model, safe="/:@")


def generation_url(settings: Settings, model: str | None) -> str:
    """URL of TGI's root route for this model.

    Example:
        >>> generation_url(Settings(api_base="https://api-inference.huggingface.co/models"), "org/m")
        'https://api-inference.huggingface.co/models/org/m'
        >>> generation_url(Settings(api_base="http://127.0.0.1:8080"), "org/m")
        'http://127.0.0.1:8080'
    """
    if settings.is_model_collection:
        return f"{settings.api_base}/{_model_path(model)}"
    return settings.api_base


def embedding_url(settings: Settings, model: str | None) -> str:
    """URL for feature extraction: the Inference API's pipeline route, or TEI's `/embed`.

    Example:
        >>> embedding_url(Settings(api_base="https://router.huggingface.co/hf-inference/models"), "org/m")
        'https://router.huggingface.co/hf-inference/pipeline/feature-extraction/org/m'
    """
    if settings.is_model_collection:
        root = settings.api_base[: -len(_COLLECTION)]
        return f"{root}/pipeline/feature-extraction/{_model_path(model)}"
    return f"{settings.api_base}/embed"


def info_url(settings: Settings) -> str | None:
    """The server's `/info` route, or None for model collections (they have none)."""
    return None if settings.is_model_collection else f"{settings.api_base}/info"


# ---------------------------------------------------------------- OpenAI-compatible servers

#: `auto`: a base ending in `/v1` is an OpenAI-compatible server, anything else TGI/TEI; or say which.
ServerProtocol = Literal["auto", "tgi", "openai"]


def is_openai_server(settings: Settings, protocol: ServerProtocol = "auto") -> bool:
    """Whether `api_base` is an OpenAI-compatible server root (vLLM, llama.cpp, the HF router, `easyllm serve`).

    Example:
        >>> is_openai_server(Settings(api_base="http://127.0.0.1:8000/v1"))
        True
        >>> is_openai_server(Settings(api_base="http://127.0.0.1:8080"))
        False
    """
    if protocol not in ("auto", "tgi", "openai"):
        raise InvalidParameterError(f"must be 'auto', 'tgi' or 'openai', got {protocol!r}", param="protocol")
    if protocol != "auto":
        return protocol == "openai"
    return _ends_in_v1(settings.api_base)


@lru_cache(maxsize=64)
def _ends_in_v1(api_base: str) -> bool:
    """Whether the base URL's path ends in `/v1`; asked on every call, so remembered per URL."""
    return urlsplit(api_base).path.rstrip("/").endswith("/v1")


def openai_url(settings: Settings, route: str) -> str:
    """`{api_base}/{route}` on an OpenAI-compatible server (`chat/completions`, `completions`, `embeddings`)."""
    return f"{settings.api_base}/{route}"


def messages_url(settings: Settings, model: str | None) -> str:
    """TGI's Messages API for this model: `/v1/chat/completions` under the generation URL.

    Example:
        >>> messages_url(Settings(api_base="http://127.0.0.1:8080"), None)
        'http://127.0.0.1:8080/v1/chat/completions'
    """
    return f"{generation_url(settings, model)}/v1/chat/completions"

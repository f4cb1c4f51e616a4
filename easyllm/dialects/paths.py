"""Where a base URL points, as pure string work shared by the dialects.

- A model collection (`…/models`, like hf-inference): a model's routes are under `{api_base}/{model}`.
- An OpenAI-compatible root (`…/v1`): `{api_base}/chat/completions`, `/completions`, `/embeddings`.
- Anything else is a server's own root (TGI, TEI, an Inference Endpoint, `easyllm serve`).
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from easyllm.errors import InvalidParameterError
from easyllm.protocol.model_ids import model_path

__all__ = ["host", "is_collection", "is_v1", "model_segment", "require_model", "server_root"]


def require_model(model: str | None, where: str) -> str:
    """The model id, or a clear error before anything is sent when the route needs one and none was given."""
    if model is not None and not isinstance(model, str):
        raise InvalidParameterError(f"must be a string, got {type(model).__name__}", param="model")
    if not model:
        raise InvalidParameterError(f"is required {where}", param="model")
    return model


def model_segment(model: str | None) -> str:
    """The model id as a path under a collection (required there): a checked Hub id, quoted so it stays a path."""
    name = require_model(model, "when api_base is a model collection (…/models); or set api_base to a server URL")
    return model_path(name)


@lru_cache(maxsize=64)
def _parts(api_base: str) -> tuple[str, str]:
    parts = urlsplit(api_base)
    return parts.netloc.lower(), parts.path.rstrip("/")


def host(api_base: str) -> str:
    """The base URL's host (and port), lower-cased."""
    return _parts(api_base)[0]


def is_v1(api_base: str) -> bool:
    """Whether the base URL's path ends in `/v1` (an OpenAI-compatible root).

    Example:
        >>> is_v1("http://127.0.0.1:8000/v1"), is_v1("http://127.0.0.1:8080")
        (True, False)
    """
    return _parts(api_base)[1].endswith("/v1")


def is_collection(api_base: str) -> bool:
    """Whether the base URL lists models (`…/models`): a model id is appended to it."""
    return _parts(api_base)[1].endswith("/models")


def server_root(api_base: str) -> str:
    """The server's own root: `api_base` without a trailing `/v1`.

    Example:
        >>> server_root("https://x.endpoints.huggingface.cloud/v1")
        'https://x.endpoints.huggingface.cloud'
    """
    return api_base[: -len("/v1")] if is_v1(api_base) else api_base

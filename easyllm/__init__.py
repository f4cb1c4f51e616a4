"""easyllm: the OpenAI-compatible client for open models served on Hugging Face infrastructure.

Example:
    >>> from easyllm.clients import huggingface
    >>> huggingface.api_base = "http://127.0.0.1:8080"  # doctest: +SKIP
    >>> r = huggingface.ChatCompletion.create(messages=[{"role": "user", "content": "Hi"}])  # doctest: +SKIP
    >>> print(r.choices[0].message.content)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from easyllm.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContentFilterFinishReasonError,
    EasyLLMError,
    GoneError,
    InternalServerError,
    InvalidParameterError,
    InvalidRequestError,
    LengthFinishReasonError,
    NotFoundError,
    OpenAIError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)

__version__ = "0.7.0"

# The client classes pull in httpx, pydantic and tenacity: they load on first use (PEP 562), so `import easyllm`
# and `import easyllm.clients.huggingface` stay fast (bench/ measures it).
if TYPE_CHECKING:
    from easyllm.cache import Cache, CacheStats
    from easyllm.client import AsyncHuggingFace, HuggingFace
    from easyllm.endpoints import EndpointPool
    from easyllm.schema.structured import pydantic_function_tool, pydantic_responses_function_tool
    from easyllm.streaming import AsyncStream, Stream

_LAZY = {
    "Cache": "easyllm.cache",
    "CacheStats": "easyllm.cache",
    "EndpointPool": "easyllm.endpoints",
    "AsyncHuggingFace": "easyllm.client",
    "HuggingFace": "easyllm.client",
    "AsyncStream": "easyllm.streaming",
    "Stream": "easyllm.streaming",
    "pydantic_function_tool": "easyllm.schema.structured",
    "pydantic_responses_function_tool": "easyllm.schema.structured",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'easyllm' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


del TYPE_CHECKING

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncHuggingFace",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "Cache",
    "CacheStats",
    "ConflictError",
    "ContentFilterFinishReasonError",
    "EasyLLMError",
    "EndpointPool",
    "GoneError",
    "HuggingFace",
    "InternalServerError",
    "InvalidParameterError",
    "InvalidRequestError",
    "LengthFinishReasonError",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "Stream",
    "UnprocessableEntityError",
    "__version__",
    "pydantic_function_tool",
    "pydantic_responses_function_tool",
]

"""easyllm: the OpenAI-compatible client for open models served on Hugging Face infrastructure.

Example:
    >>> from easyllm.clients import huggingface
    >>> huggingface.api_base = "http://127.0.0.1:8080"  # doctest: +SKIP
    >>> r = huggingface.ChatCompletion.create(messages=[{"role": "user", "content": "Hi"}])  # doctest: +SKIP
    >>> print(r.choices[0].message.content)  # doctest: +SKIP
"""

from __future__ import annotations

from easyllm.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    EasyLLMError,
    InternalServerError,
    InvalidParameterError,
    InvalidRequestError,
    NotFoundError,
    OpenAIError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)

__version__ = "0.7.0"

from easyllm.client import AsyncHuggingFace, HuggingFace
from easyllm.streaming import AsyncStream, Stream

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
    "ConflictError",
    "EasyLLMError",
    "HuggingFace",
    "InternalServerError",
    "InvalidParameterError",
    "InvalidRequestError",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "Stream",
    "UnprocessableEntityError",
    "__version__",
]

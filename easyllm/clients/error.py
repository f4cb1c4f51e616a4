"""The openai<1 exception names (`openai.error.*`), as aliases into easyllm's one exception tree.

Example:
    >>> from easyllm.clients import huggingface
    >>> issubclass(huggingface.error.RateLimitError, huggingface.error.OpenAIError)
    True
"""

from __future__ import annotations

from easyllm.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    EasyLLMError,
    InvalidRequestError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "InvalidRequestError",
    "OpenAIError",
    "PermissionError",
    "RateLimitError",
    "ServiceUnavailableError",
    "Timeout",
    "TryAgain",
]

OpenAIError = EasyLLMError
Timeout = APITimeoutError
PermissionError = PermissionDeniedError
TryAgain = ConflictError

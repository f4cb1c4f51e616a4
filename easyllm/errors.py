"""One exception tree for easyllm, named like the openai SDK's.

```
EasyLLMError (alias OpenAIError)
 ├── InvalidRequestError                 the request is wrong; the openai<1 name
 │    └── InvalidParameterError          refused before sending (also a ValueError); .param
 ├── LengthFinishReasonError             `parse`: the answer was cut by the token limit; .completion
 ├── ContentFilterFinishReasonError      `parse`: the server's content filter stopped the answer; .completion
 └── APIError                            .message .request .body .code .param .type
      ├── APIConnectionError             the server could not be reached
      │    └── APITimeoutError           the call's deadline passed
      ├── APIResponseValidationError     the server answered something we cannot read
      └── APIStatusError                 .status_code .response .request_id
           ├── BadRequestError           400  (also an InvalidRequestError)
           ├── AuthenticationError       401
           ├── PermissionDeniedError     403
           ├── NotFoundError             404  (also an InvalidRequestError)
           ├── ConflictError             409
           ├── GoneError                 410  (a retired host or route; never retried)
           ├── UnprocessableEntityError  422  (also an InvalidRequestError)
           ├── RateLimitError            429  (TGI `overloaded`)
           └── InternalServerError       >= 500
                └── ServiceUnavailableError  503 (model loading, scale-up)
```

`error_from_response` picks the class from the HTTP status and, for errors sent inside a 200 stream, from the
TGI/TEI `error_type`. Messages carry the server's own words, what to do next, and where the request went
(`POST https://host/path`: the method and the URL without userinfo or query); they never contain the token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # httpx is imported where an error is built, keeping `import easyllm` light
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ContentFilterFinishReasonError",
    "EasyLLMError",
    "InternalServerError",
    "InvalidParameterError",
    "InvalidRequestError",
    "LengthFinishReasonError",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "UnprocessableEntityError",
    "error_from_response",
    "error_from_stream_event",
    "request_location",
    "with_location",
]


class EasyLLMError(Exception):
    """Base class of every error easyllm raises."""


OpenAIError = EasyLLMError


class InvalidRequestError(EasyLLMError):
    """The request is wrong: fix the call before trying again (openai<1's `InvalidRequestError`)."""


class InvalidParameterError(InvalidRequestError, ValueError):
    """A parameter was refused before anything was sent.

    Example:
        >>> try:
        ...     raise InvalidParameterError("must be between 0 and 2", param="temperature")
        ... except InvalidRequestError as err:
        ...     print(err.param, "-", err)
        temperature - `temperature` must be between 0 and 2
    """

    def __init__(self, message: str, *, param: str | None = None) -> None:
        self.param = param
        self.message = f"`{param}` {message}" if param else message
        super().__init__(self.message)


class LengthFinishReasonError(EasyLLMError):
    """`chat.completions.parse`: an answer stopped at the token limit, so its JSON cannot be read whole.

    Attributes:
        completion: the answer as the server gave it (`finish_reason="length"`), for its partial text and usage.
    """

    def __init__(self, *, completion: Any) -> None:
        self.completion = completion
        usage = getattr(completion, "usage", None)
        counts = f" ({usage.completion_tokens} completion tokens)" if usage is not None else ""
        super().__init__(
            f"the answer reached the token limit before its JSON was complete{counts}: raise `max_tokens` "
            "(or `max_completion_tokens`), or ask for less"
        )


class ContentFilterFinishReasonError(EasyLLMError):
    """`chat.completions.parse`: the server's content filter stopped an answer, so there is nothing to parse.

    Attributes:
        completion: the answer as the server gave it (`finish_reason="content_filter"`).
    """

    def __init__(self, *, completion: Any) -> None:
        self.completion = completion
        super().__init__("the server's content filter stopped the answer before its JSON was complete")


class APIError(EasyLLMError):
    """An error while talking to the server.

    Attributes:
        message: what went wrong, in the server's words where it gave any.
        request: the httpx request that failed (None when there was none).
        body: the decoded error body, if any.
        type: the server's error kind (TGI/TEI `error_type`), if any.
        code, param: as in the openai SDK; `param` names the offending field when known.
        partial_text: for errors inside a stream, the text the stream had produced so far.
    """

    def __init__(
        self,
        message: str,
        request: httpx.Request | None = None,
        *,
        body: object | None = None,
        partial_text: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body
        self.partial_text = partial_text
        fields = body.get("error", body) if isinstance(body, Mapping) else None
        fields = fields if isinstance(fields, Mapping) else body if isinstance(body, Mapping) else {}
        self.type: str | None = _str_or_none(fields.get("error_type", fields.get("type")))
        self.code: str | None = _str_or_none(fields.get("code"))
        self.param: str | None = _str_or_none(fields.get("param"))

    # openai<1 spellings
    @property
    def user_message(self) -> str:
        """The message (openai<1 name)."""
        return self.message


class APIConnectionError(APIError):
    """The server could not be reached (refused, reset, DNS, TLS)."""

    def __init__(self, *, message: str = "Connection error.", request: httpx.Request | None = None) -> None:
        super().__init__(message, request)


class APITimeoutError(APIConnectionError):
    """The call's deadline (`timeout`, retries and waits included) passed."""

    def __init__(self, request: httpx.Request | None = None, *, message: str | None = None) -> None:
        super().__init__(message=message or "Request timed out.", request=request)


class APIResponseValidationError(APIError):
    """The server answered with a body that does not have the expected shape."""


class APIStatusError(APIError):
    """The server answered with an error status (or an error event inside a stream).

    Attributes:
        status_code: the HTTP status, or for an in-stream error the status that error kind gets.
        response: the httpx response.
        request_id: the `x-request-id` header, if any.
        retry_after: seconds the server asked us to wait (`Retry-After` or `estimated_time`), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: object | None = None,
        partial_text: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, response.request, body=body, partial_text=partial_text)
        self.response = response
        self.status_code = response.status_code
        self.request_id = response.headers.get("x-request-id")
        self.retry_after = retry_after

    # openai<1 spellings
    @property
    def http_status(self) -> int:
        """The HTTP status (openai<1 name)."""
        return self.status_code

    @property
    def json_body(self) -> object | None:
        """The decoded body (openai<1 name)."""
        return self.body


class BadRequestError(APIStatusError, InvalidRequestError):
    """400: the server could not read the request."""


class AuthenticationError(APIStatusError):
    """401: the token is missing or wrong."""


class PermissionDeniedError(APIStatusError):
    """403: the token may not use this model or endpoint."""


class NotFoundError(APIStatusError, InvalidRequestError):
    """404: no such model or route at this URL."""


class ConflictError(APIStatusError):
    """409: the server asks to try again."""


class GoneError(APIStatusError):
    """410: the host or route is retired for good (`api-inference.huggingface.co`); never retried."""


class UnprocessableEntityError(APIStatusError, InvalidRequestError):
    """422: the server refused a parameter or the input (TGI/TEI validation)."""


class RateLimitError(APIStatusError):
    """429: rate limited, or TGI/TEI overloaded."""


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


class ServiceUnavailableError(InternalServerError):
    """503: the model is loading or the endpoint is scaling up."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}

# TGI and TEI `error_type` values sent inside a 200 stream, and the status they get elsewhere.
# TEI serialises Rust variant names ("Validation"), TGI lowercase: compare lower-cased.
_STATUS_BY_ERROR_TYPE: dict[str, int] = {
    "validation": 422,
    "template_error": 422,
    "missing_template_variable": 422,
    "tool_error": 422,
    "tokenizer": 422,
    "empty": 400,
    "generation": 424,
    "backend": 424,
    "overloaded": 429,
    "incomplete_generation": 500,
    "incomplete_generation_stream": 500,
    "stream_serialization_error": 500,
    "unhealthy": 503,
    "healthcheck": 503,
}

_NEXT_STEP: dict[int, str] = {
    401: "Check the token: set `api_key`, HUGGINGFACE_TOKEN or HF_TOKEN, or run `huggingface-cli login`.",
    403: "The token may not use this model or endpoint; check its permissions.",
    404: "Check `api_base` and the model id.",
    410: "This host or route is retired: use the Inference Providers router (https://router.huggingface.co/v1, "
    "easyllm's default) or https://router.huggingface.co/hf-inference/models.",
    413: "The request is too large; send fewer or shorter inputs.",
    429: "Slow down or retry later (easyllm retries this up to `max_retries`).",
    503: "The model is loading or scaling up; retry later or raise `timeout`.",
}


def request_location(request: httpx.Request | None) -> str | None:
    """`METHOD URL` of a request for error messages, without credentials: no userinfo, no query, no fragment.

    Example:
        >>> import httpx
        >>> request_location(httpx.Request("POST", "https://user:pw@host.test:8443/models/org/m?token=x#f"))
        'POST https://host.test:8443/models/org/m'
    """
    if request is None:
        return None
    parts = urlsplit(str(request.url))
    netloc = parts.netloc.rpartition("@")[2]
    return f"{request.method} {urlunsplit((parts.scheme, netloc, parts.path, '', ''))}"


def with_location(message: str, request: httpx.Request | None) -> str:
    """`message` followed by where the request went, e.g. `... (POST http://127.0.0.1:8080/generate)`."""
    where = request_location(request)
    return message if where is None else f"{message} ({where})"


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _status_class(status: int) -> type[APIStatusError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return InternalServerError if status >= 500 else APIStatusError


def _decode_body(response: httpx.Response) -> object | None:
    import httpx

    try:
        raw = response.content
    except httpx.ResponseNotRead:
        return None
    if not raw:
        return None
    try:
        parsed: object = json.loads(raw)
        return parsed
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def server_message(body: object) -> str | None:
    """The human message in any of the error bodies HF servers send.

    Handles TGI/TEI `{"error": str}`, OpenAI `{"error": {"message": str}}`, TEI's OpenAI route
    `{"message": str}`, the Inference API's `{"error": [str, ...]}` and plain text.
    """
    if isinstance(body, str):
        return body.strip() or None
    if not isinstance(body, Mapping):
        return None
    err = body.get("error", body.get("message"))
    if isinstance(err, Mapping):
        err = err.get("message")
    if isinstance(err, list):
        err = "; ".join(str(e) for e in err)
    return None if err is None else str(err)


def _retry_after(response: httpx.Response, body: object) -> float | None:
    header = response.headers.get("retry-after")
    if header is not None:
        try:
            return max(0.0, float(header))
        except ValueError:
            return None  # an HTTP date: rare from these servers, fall back to backoff
    if isinstance(body, Mapping) and isinstance(body.get("estimated_time"), int | float):
        return float(body["estimated_time"])
    return None


def error_from_response(response: httpx.Response, *, body: object | None = None) -> APIStatusError:
    """Build the exception for an error response (status >= 400).

    Args:
        response: the response; its body must have been read unless `body` is given.
        body: the decoded body, when the caller already has it.

    Example:
        >>> import httpx
        >>> req = httpx.Request("POST", "http://127.0.0.1:8080/generate")
        >>> resp = httpx.Response(429, request=req, json={"error": "Model is overloaded", "error_type": "overloaded"})
        >>> err = error_from_response(resp)
        >>> type(err).__name__, err.status_code
        ('RateLimitError', 429)
    """
    if body is None:
        body = _decode_body(response)
    status = response.status_code
    text = server_message(body) or response.reason_phrase or "no message"
    message = f"Error code: {status} - {text}"
    if status in _NEXT_STEP:
        message = f"{message}. {_NEXT_STEP[status]}"
    message = with_location(message, response.request)
    cls = _status_class(status)
    return cls(message, response=response, body=body, retry_after=_retry_after(response, body))


def error_from_stream_event(
    event: Mapping[str, Any], request: httpx.Request, *, partial_text: str | None = None
) -> APIStatusError:
    """Build the exception for an error event received inside a 200 stream.

    Understands TGI native `{"error": str, "error_type": str}` and the Messages API's
    `{"error": {"message": str, "http_status_code": int}}`.
    """
    err = event.get("error")
    status = 500
    if isinstance(err, Mapping):
        status = int(err.get("http_status_code") or err.get("code") or 500)
    else:
        error_type = str(event.get("error_type", "")).lower()
        status = _STATUS_BY_ERROR_TYPE.get(error_type, 500)
    import httpx

    text = server_message(dict(event)) or "An error occurred during streaming"
    response = httpx.Response(status, request=request, json=dict(event))
    message = f"Error in stream: {text}"
    if partial_text:
        message = f"{message} (after {len(partial_text)} characters of output; see .partial_text)"
    message = with_location(message, request)
    cls = _status_class(status)
    return cls(message, response=response, body=dict(event), partial_text=partial_text)

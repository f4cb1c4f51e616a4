from __future__ import annotations

import httpx
import pytest

from easyllm import errors

REQ = httpx.Request("POST", "http://127.0.0.1:1/generate")


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, {"error": "bad"}, errors.BadRequestError),
        (401, b"", errors.AuthenticationError),
        (403, {"error": "no"}, errors.PermissionDeniedError),
        (404, {"error": "Model not found"}, errors.NotFoundError),
        (409, {"error": "again"}, errors.ConflictError),
        (
            413,
            {"error": "batch size 40 > maximum allowed batch size 32", "error_type": "Validation"},
            errors.APIStatusError,
        ),
        (422, {"error": "Input validation error", "error_type": "validation"}, errors.UnprocessableEntityError),
        (424, {"error": "Request failed during generation", "error_type": "generation"}, errors.APIStatusError),
        (429, {"error": "Model is overloaded", "error_type": "overloaded"}, errors.RateLimitError),
        (500, {"error": "incomplete", "error_type": "incomplete_generation"}, errors.InternalServerError),
        (503, {"error": "Model x is currently loading", "estimated_time": 20.5}, errors.ServiceUnavailableError),
    ],
)
def test_status_to_class(status: int, body: object, cls: type[errors.APIStatusError]) -> None:
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    err = errors.error_from_response(httpx.Response(status, request=REQ, **kwargs))  # type: ignore[arg-type]
    assert type(err) is cls
    assert err.status_code == status and err.http_status == status
    if isinstance(body, dict):
        assert body["error"] in err.message


def test_retry_hints() -> None:
    loading = httpx.Response(503, request=REQ, json={"error": "loading", "estimated_time": 12.5})
    assert errors.error_from_response(loading).retry_after == 12.5
    limited = httpx.Response(429, request=REQ, headers={"retry-after": "3"}, json={"error": "x"})
    assert errors.error_from_response(limited).retry_after == 3.0


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": "openai style", "type": "invalid_request_error"}},
        {"message": "openai style"},
        {"error": ["openai style", "second"]},
    ],
)
def test_server_message_from_any_error_shape(body: object) -> None:
    assert "openai style" in errors.error_from_response(httpx.Response(400, request=REQ, json=body)).message


def test_tei_variant_names_compare_case_insensitively() -> None:
    err = errors.error_from_stream_event({"error": "too long", "error_type": "Validation"}, REQ)
    assert isinstance(err, errors.UnprocessableEntityError)


def test_stream_error_keeps_partial_text() -> None:
    err = errors.error_from_stream_event({"error": "boom", "error_type": "generation"}, REQ, partial_text="abc")
    assert err.partial_text == "abc" and err.status_code == 424 and "boom" in str(err)


def test_invalid_parameter_is_a_value_error_and_an_invalid_request() -> None:
    err = errors.InvalidParameterError("must be positive", param="max_tokens")
    assert isinstance(err, ValueError) and isinstance(err, errors.InvalidRequestError)
    assert str(err) == "`max_tokens` must be positive"

"""Shared pieces of the HTTP layer: reading bodies as the real servers do, error bodies, SSE, JSON."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

M = TypeVar("M", bound=BaseModel)
S = TypeVar("S")

Handler = Callable[[Request, S], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class BodyError(Exception):
    """A body that cannot be read; answered in plain text, as axum's `Json` extractor does."""

    def __init__(self, status: int, text: str) -> None:
        """Keep the status and text.

        Args:
            status: 400 (not JSON), 415 (wrong content type) or 422 (wrong shape).
            text: The plain-text body.
        """
        super().__init__(text)
        self.status = status
        self.text = text

    def response(self) -> Response:
        """The plain-text answer.

        Returns:
            The response.
        """
        return PlainTextResponse(self.text, status_code=self.status)


async def read_body(request: Request, model: type[M]) -> M:
    """Read a JSON body into a pydantic model.

    Args:
        request: The request.
        model: The body's model.

    Returns:
        The parsed body.

    Raises:
        BodyError: Wrong content type, invalid JSON, or a body of the wrong shape.
    """
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type.lower():
        raise BodyError(415, "Expected request with `Content-Type: application/json`")
    raw = await request.body()
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise BodyError(400, f"Failed to parse the request body as JSON: {err}") from err
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise BodyError(
            422, f"Failed to deserialize the JSON body into the target type: {where}: {first['msg']}"
        ) from err


def tgi_error(message: str, error_type: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """TGI's (and TEI's) error body `{"error", "error_type"}`.

    Args:
        message: The message.
        error_type: `validation`, `generation`, `Validation`, `Empty`, …
        status: The HTTP status.
        headers: Extra headers.

    Returns:
        The response.
    """
    return JSONResponse({"error": message, "error_type": error_type}, status_code=status, headers=headers)


def dumps(data: Any) -> str:
    """Compact JSON with non-finite floats written as null (as TGI writes NaN).

    Args:
        data: JSON-able data.

    Returns:
        The JSON text.
    """
    return json.dumps(_finite(data), separators=(",", ":"), ensure_ascii=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class FastJSON(JSONResponse):
    """A JSON response written with `dumps`."""

    def render(self, content: Any) -> bytes:
        """Serialise the content.

        Args:
            content: JSON-able data.

        Returns:
            UTF-8 bytes.
        """
        return dumps(content).encode("utf-8")


def sse(events: AsyncIterator[str], headers: dict[str, str] | None = None) -> StreamingResponse:
    """A server-sent-events response from ready-made `data:` frames.

    Args:
        events: Frames, each ending in a blank line.
        headers: Extra headers.

    Returns:
        The streaming response (200).
    """
    base = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "x-compute-type": "cpu"}
    return StreamingResponse(events, media_type="text/event-stream", headers={**base, **(headers or {})})


def bind(handler: Handler[S], service: S) -> Endpoint:
    """Make a Starlette endpoint that calls `handler(request, service)`.

    Args:
        handler: An async handler taking the request and a service.
        service: The service it serves.

    Returns:
        An endpoint function.
    """

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request, service)
        except BodyError as err:
            return err.response()

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint

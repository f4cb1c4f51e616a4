"""`POST /v1/responses` (streamed and not), `GET` / `DELETE /v1/responses/{id}`, served from the chat path.

A request is checked and translated by `easyllm.protocol.responses` (the same rules the client uses on servers
without the route), rendered with the model's chat template like `/v1/chat/completions`, and the answer (or each
step) is shaped by the same code as the chat route, then as a `Response` (or the Responses event sequence, with
`event:` lines as OpenAI sends them). Responses are kept in memory (the latest 1000) for
`previous_response_id`, `GET` and `DELETE`, unless the request says `store: false`. Errors use OpenAI's body
`{"error": {"message", "type", "param", "code"}}`. Structured output (`text.format`) is held to its schema as on
the chat route (the llama.cpp engine's grammar); function tools are offered and their calls read as on the chat
route (`easyllm.serve.tools`), and come back as `function_call` items.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from easyllm.errors import InvalidParameterError
from easyllm.protocol.responses.build import build_response, new_id, skeleton
from easyllm.protocol.responses.events import ChatToEvents
from easyllm.protocol.responses.items import chat_options, to_messages
from easyllm.protocol.responses.request import ResponsesRequest, check_request, refuse_untranslatable
from easyllm.response_store import MemoryStore, StoredResponse
from easyllm.serve.chat_template import TemplateError
from easyllm.serve.generation import GenerationJob
from easyllm.serve.params import RequestValidationError
from easyllm.serve.routes.chat import ChatShape, _usage, prepare_chat
from easyllm.serve.routes.common import BodyError, FastJSON, dumps, sse
from easyllm.serve.routes.openai_params import ChatRequest
from easyllm.serve.services import GenerationService

_STORE = MemoryStore()  # one per server process, whichever model answered


def openai_error(message: str, status: int, param: str | None = None, code: str | None = None) -> JSONResponse:
    """OpenAI's error body.

    Args:
        message: What went wrong.
        status: The HTTP status.
        param: The field at fault.
        code: A machine-readable code.

    Returns:
        The response.
    """
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


async def _read(request: Request) -> dict[str, Any]:
    if "json" not in request.headers.get("content-type", "").lower():
        raise BodyError(415, "Expected request with `Content-Type: application/json`")
    try:
        data = json.loads(await request.body())
    except ValueError as err:
        raise BodyError(400, f"Failed to parse the request body as JSON: {err}") from err
    if not isinstance(data, dict):
        raise BodyError(422, "Failed to deserialize the JSON body into the target type: body: must be an object")
    return data


def _prepare(
    data: dict[str, Any], service: GenerationService
) -> tuple[ResponsesRequest, list[dict[str, Any]], GenerationJob, ChatShape]:
    stream = bool(data.pop("stream", False))
    request = check_request(data, stream=stream)
    refuse_untranslatable(request)
    history: list[dict[str, Any]] = []
    previous = request.get("previous_response_id")
    if previous is not None:
        stored = _STORE.get(previous)
        if stored is None:
            raise InvalidParameterError(f"no response with id {previous!r}", param="previous_response_id")
        history = stored.items
    items = [*history, *request.input]
    messages = to_messages(items, instructions=request.get("instructions"))
    options = {"messages": messages, **chat_options(request), "stream": stream}
    if request.model:
        options["model"] = request.model
    chat = ChatRequest.model_validate(options)
    job, shape = prepare_chat(chat, service, stream=stream)
    return request, items, job, shape


def _save(request: ResponsesRequest, items: list[dict[str, Any]], r: dict[str, Any]) -> None:
    if request.get("store", True):
        _STORE.put(StoredResponse(r, [*items, *r["output"]]))


async def create_response(request: Request, service: GenerationService) -> Response:
    """`POST /v1/responses`."""
    data = await _read(request)
    try:
        checked, items, job, shape = _prepare(data, service)
    except InvalidParameterError as err:
        return openai_error(err.message, 400, err.param)
    except (RequestValidationError, TemplateError) as err:
        return openai_error(str(err), 422)
    base = skeleton(checked, response_id=new_id("resp"), created_at=time.time(), model=shape.model)
    if checked.stream:
        return sse(_events(service, job, shape, ChatToEvents(base), lambda r: _save(checked, items, r)))
    try:
        timed = await service.generate(job)
    except Exception as err:
        return openai_error(f"Request failed during generation: {err}", 500, code="server_error")
    response = build_response(shape.completion(timed.value[0]), base)
    _save(checked, items, response)
    return FastJSON(response)


def _frame(event: dict[str, Any]) -> str:
    return f"event: {event['type']}\ndata: {dumps(event)}\n\n"


async def _events(
    service: GenerationService, job: GenerationJob, shape: ChatShape, events: ChatToEvents, on_done: Any
) -> AsyncIterator[str]:
    for event in events.start():
        yield _frame(event)
    steps = service.stream(job)
    try:
        async for step in steps:
            for chunk in shape.chunks(step):
                for event in events.feed(chunk):
                    yield _frame(event)
            if step.final is not None:
                usage = _usage(step.final.input_length, step.final.generated_tokens)
                events.feed({"choices": [], "usage": usage})
        for event in events.finish():
            yield _frame(event)
        on_done(events.response)
    except Exception as err:
        for event in events.fail(err):
            yield _frame(event)
    finally:
        await steps.aclose()  # type: ignore[attr-defined]


async def retrieve_response(request: Request, service: GenerationService) -> Response:
    """`GET /v1/responses/{response_id}`."""
    stored = _STORE.get(request.path_params["response_id"])
    if stored is None:
        return openai_error("No response found with that id", 404, "response_id", "not_found")
    return FastJSON(stored.response)


async def delete_response(request: Request, service: GenerationService) -> Response:
    """`DELETE /v1/responses/{response_id}`."""
    response_id = request.path_params["response_id"]
    if not _STORE.delete(response_id):
        return openai_error("No response found with that id", 404, "response_id", "not_found")
    return FastJSON({"id": response_id, "object": "response", "deleted": True})

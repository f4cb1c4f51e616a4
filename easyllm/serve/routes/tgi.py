"""TGI's native routes: `POST /`, `/generate`, `/generate_stream`, `/info`, `/tokenize`, `/health`.

As in TGI: `POST /` answers a list of one object (or the stream when `stream` is true) and defaults
`return_full_text` to true for a text-generation model (false for seq2seq); `/generate` answers an object and
defaults it to false.
Streams answer 200 once the body parses: any later error, validation included, is an event
`{"error", "error_type"}` that ends the stream. There is no `[DONE]`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from easyllm.serve.decoding import TokenDecoder
from easyllm.serve.engines.base import Generation, Token
from easyllm.serve.generation import GenerationJob
from easyllm.serve.params import GenerateRequest, RequestValidationError, ValidParams, validate_parameters
from easyllm.serve.routes.common import FastJSON, dumps, read_body, sse, tgi_error
from easyllm.serve.routes.tgi_shapes import generate_json, info_json, stream_event, tokenize_json
from easyllm.serve.services import GenerationService

VALIDATION_PREFIX = "Input validation error: "


def prepare(body: GenerateRequest, service: GenerationService, *, stream: bool) -> tuple[GenerationJob, ValidParams]:
    """Validate a request and build its job.

    Args:
        body: The parsed body.
        service: The model.
        stream: Whether the answer streams.

    Returns:
        The job and its parameters.

    Raises:
        RequestValidationError: TGI would answer 422.
    """
    if not body.inputs:
        raise RequestValidationError("`inputs` cannot be empty")
    params = validate_parameters(body.parameters, service.config, stream=stream)
    return service.job(service.tokenize(body.inputs), params), params


async def root(request: Request, service: GenerationService) -> Response:
    """`POST /`: TGI's compat route (a list of one answer, or the stream)."""
    body = await read_body(request, GenerateRequest)
    full_text = service.config.task == "generation"  # a seq2seq model's answer is its output alone
    if body.stream:
        return await _stream(body, service, full_text_default=full_text)
    answer = await _generate(body, service, full_text_default=full_text)
    return FastJSON([answer[0]], headers=answer[1]) if isinstance(answer, tuple) else answer


async def generate(request: Request, service: GenerationService) -> Response:
    """`POST /generate`: one answer object."""
    answer = await _generate(await read_body(request, GenerateRequest), service, full_text_default=False)
    return FastJSON(answer[0], headers=answer[1]) if isinstance(answer, tuple) else answer


async def generate_stream(request: Request, service: GenerationService) -> Response:
    """`POST /generate_stream`: SSE token events."""
    return await _stream(await read_body(request, GenerateRequest), service, full_text_default=False)


async def _generate(
    body: GenerateRequest, service: GenerationService, *, full_text_default: bool
) -> tuple[dict[str, Any], dict[str, str]] | Response:
    """Run a non-stream request: the answer object and TGI's headers, or an error response."""
    started = time.perf_counter()
    try:
        job, params = prepare(body, service, stream=False)
    except RequestValidationError as err:
        return tgi_error(VALIDATION_PREFIX + str(err), "validation", 422)
    validated = time.perf_counter()
    try:
        timed = await service.generate(job)
    except Exception as err:
        return tgi_error(f"Request failed during generation: {err}", "generation", 424)
    results: list[Generation] = timed.value
    full_text = params.return_full_text if params.return_full_text is not None else full_text_default
    total = time.perf_counter() - started
    headers = {
        "x-compute-type": "cpu",
        "x-compute-characters": str(len(body.inputs)),
        "x-compute-time": f"{timed.inference_time:.6f}",
        "x-total-time": str(round(total * 1000)),
        "x-validation-time": str(round((validated - started) * 1000)),
        "x-queue-time": str(round(timed.queue_time * 1000)),
        "x-inference-time": str(round(timed.inference_time * 1000)),
        "x-time-per-token": str(round(timed.inference_time * 1000 / max(1, results[0].generated_tokens))),
        "x-prompt-tokens": str(len(job.input_ids)),
        "x-generated-tokens": str(results[0].generated_tokens),
    }
    return generate_json(results, body.inputs, params, full_text), headers


async def _stream(body: GenerateRequest, service: GenerationService, *, full_text_default: bool) -> Response:
    headers = {"x-compute-characters": str(len(body.inputs))}
    try:
        job, params = prepare(body, service, stream=True)
    except RequestValidationError as err:
        return sse(_one_event({"error": VALIDATION_PREFIX + str(err), "error_type": "validation"}), headers)
    full_text = params.return_full_text if params.return_full_text is not None else full_text_default
    return sse(_events(service, job, params, body.inputs, full_text), headers)


async def _one_event(data: dict[str, str]) -> AsyncIterator[str]:
    yield f"data:{dumps(data)}\n\n"


async def _events(
    service: GenerationService, job: GenerationJob, params: ValidParams, prompt: str, full_text: bool
) -> AsyncIterator[str]:
    steps = service.stream(job)
    try:
        async for step in steps:
            yield f"data:{dumps(stream_event(step, prompt, params, full_text))}\n\n"
    except Exception as err:
        error = {"error": f"Request failed during generation: {err}", "error_type": "generation"}
        yield f"data:{dumps(error)}\n\n"
    finally:
        await steps.aclose()  # type: ignore[attr-defined]


async def info(request: Request, service: GenerationService) -> Response:
    """`GET /info`."""
    return FastJSON(info_json(service.config))


async def tokenize(request: Request, service: GenerationService) -> Response:
    """`POST /tokenize`: the prompt's tokens with character offsets."""
    body = await read_body(request, GenerateRequest)
    ids = service.tokenize(body.inputs)
    decoder = TokenDecoder()
    tokens = []
    for token_id in ids:
        special = service.model.is_special(token_id)
        piece = service.model.piece(token_id)
        text = piece.decode("utf-8", "replace") if special else decoder.feed(piece)
        tokens.append(Token(token_id, text, None, special))
    return FastJSON(tokenize_json(tokens))


async def health(request: Request, service: object) -> Response:
    """`GET /health`: 200 with an empty body once the model is loaded (it is, or the server would not run)."""
    return Response(status_code=200)

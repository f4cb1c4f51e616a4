"""`POST /v1/completions`, shaped as TGI's.

`prompt` is a string or up to `max_client_batch_size` strings,
`suffix` is refused, stream chunks have `finish_reason: ""` until each prompt's last chunk, which carries the raw
finish reason and the usage; the stream ends with `data: [DONE]`. Prompts run one after another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from easyllm.serve.engines.base import Generation, Step
from easyllm.serve.generation import GenerationJob
from easyllm.serve.params import RequestValidationError, validate_parameters
from easyllm.serve.routes.chat import VALIDATION_PREFIX, _base, _usage, openai_finish
from easyllm.serve.routes.common import FastJSON, dumps, read_body, sse, tgi_error
from easyllm.serve.routes.openai_params import CompletionRequest
from easyllm.serve.services import GenerationService


def prepare_completions(body: CompletionRequest, service: GenerationService) -> list[GenerationJob]:
    """Validate and build one job per prompt.

    Args:
        body: The request.
        service: The model.

    Returns:
        The jobs, in prompt order.

    Raises:
        RequestValidationError: A parameter or prompt is refused.
    """
    params = validate_parameters(body.to_parameters(), service.config, stream=body.stream)
    prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
    jobs = []
    for prompt in prompts:
        if not prompt:
            raise RequestValidationError("`inputs` cannot be empty")
        jobs.append(service.job(service.tokenize(prompt), params))
    return jobs


def _refusal(body: CompletionRequest, service: GenerationService) -> Response | None:
    if body.suffix is not None:
        message = "Suffix is not supported and can be achieved by preprocessing the prompt."
        return tgi_error(message, "suffix not supported", 422)
    prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
    limit = service.config.batch_limit
    if not prompts:
        return tgi_error(VALIDATION_PREFIX + "`inputs` cannot be empty", "validation", 422)
    if len(prompts) > limit:
        message = f"Number of prompts exceeds the maximum allowed batch size of {limit}"
        return tgi_error(message, "batch size exceeded", 422)
    return None


async def completions(request: Request, service: GenerationService) -> Response:
    """`POST /v1/completions`."""
    body = await read_body(request, CompletionRequest)
    refusal = _refusal(body, service)
    if refusal is not None:
        return refusal
    try:
        jobs = prepare_completions(body, service)
    except RequestValidationError as err:
        return tgi_error(VALIDATION_PREFIX + str(err), "validation", 422)
    model = body.model or service.config.served_model_id
    if body.stream:
        return sse(_chunks(service, jobs, model))
    results: list[Generation] = []
    for job in jobs:
        try:
            results.append((await service.generate(job)).value[0])
        except Exception as err:
            return tgi_error(f"Request failed during generation: {err}", "generation", 424)
    return FastJSON(_answer(results, model))


def _answer(results: list[Generation], model: str) -> dict[str, Any]:
    choices = [
        {"index": i, "text": g.generated_text, "logprobs": None, "finish_reason": openai_finish(g.finish_reason)}
        for i, g in enumerate(results)
    ]
    usage = _usage(sum(g.input_length for g in results), sum(g.generated_tokens for g in results))
    return {**_base("text_completion", model), "choices": choices, "usage": usage}


def _chunk(index: int, step: Step, model: str) -> dict[str, Any]:
    text = "" if step.token.special else step.token.text
    final = step.final
    choice = {"index": index, "text": text, "logprobs": None, "finish_reason": final.finish_reason if final else ""}
    chunk = {**_base("text_completion", model), "choices": [choice]}
    if final is not None:
        chunk["usage"] = _usage(final.input_length, final.generated_tokens)
    return chunk


async def _chunks(service: GenerationService, jobs: list[GenerationJob], model: str) -> AsyncIterator[str]:
    for index, job in enumerate(jobs):
        steps = service.stream(job)
        try:
            async for step in steps:
                yield f"data: {dumps(_chunk(index, step, model))}\n\n"
        except Exception as err:
            yield f"data: {dumps({'error': {'message': str(err), 'http_status_code': 422}})}\n\n"
            break
        finally:
            await steps.aclose()  # type: ignore[attr-defined]
    yield "data: [DONE]\n\n"

"""`POST /v1/chat/completions`, shaped as TGI's Messages API.

The prompt is the model's own chat template rendered with `add_generation_prompt=True`, tokenized without added
special tokens. As in TGI: `id` is "", every stream delta carries `role`, special tokens stream as empty content,
`finish_reason` maps `eos_token` to `stop` but lets `stop_sequence` through, errors after the stream started
arrive as `{"error": {"message", "http_status_code"}}` followed by `data: [DONE]`, and non-stream errors use the
native `{"error", "error_type"}` body.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from easyllm import __version__
from easyllm.serve.chat_template import TemplateError
from easyllm.serve.engines.base import FinishReason, Generation, Step, Token
from easyllm.serve.generation import GenerationJob
from easyllm.serve.params import RequestValidationError, ValidParams, validate_parameters
from easyllm.serve.routes.common import FastJSON, dumps, read_body, sse, tgi_error
from easyllm.serve.routes.openai_params import ChatMessage, ChatRequest, response_format_grammar
from easyllm.serve.services import GenerationService

VALIDATION_PREFIX = "Input validation error: "


def openai_finish(reason: FinishReason) -> str:
    """TGI's Messages API mapping: `eos_token` becomes `stop`; the others pass through.

    Args:
        reason: TGI's finish reason.

    Returns:
        The reason sent.
    """
    return "stop" if reason == "eos_token" else reason


def message_dict(message: ChatMessage) -> dict[str, Any]:
    """A message for the template, with list content flattened to its text parts.

    Args:
        message: The request message.

    Returns:
        `{"role", "content", ...}`.

    Raises:
        RequestValidationError: The message has an image part.
    """
    data = message.model_dump(exclude_none=True)
    if isinstance(message.content, list):
        texts = []
        for part in message.content:
            if part.get("type") != "text":
                raise RequestValidationError(f"content part of type {part.get('type')!r} is not supported")
            texts.append(str(part.get("text", "")))
        data["content"] = "".join(texts)
    data.setdefault("content", "")
    return data


def prepare_chat(body: ChatRequest, service: GenerationService, *, stream: bool) -> tuple[GenerationJob, ValidParams]:
    """Render the prompt and validate the parameters.

    Args:
        body: The request.
        service: The model.
        stream: Whether the answer streams.

    Returns:
        The job and its parameters.

    Raises:
        RequestValidationError: A parameter is refused.
        TemplateError: The template refused the messages.
    """
    if body.tools:
        raise RequestValidationError("grammar is not supported")  # tool calls need grammar-constrained calls
    top_n = (body.top_logprobs or 0) if body.logprobs else 0
    parameters = body.to_parameters(top_n_tokens=top_n, grammar=response_format_grammar(body.response_format))
    params = validate_parameters(parameters, service.config, stream=stream)
    prompt = service.render_chat([message_dict(m) for m in body.messages])
    return service.job(service.tokenize(prompt, add_special=False), params), params


async def chat_completions(request: Request, service: GenerationService) -> Response:
    """`POST /v1/chat/completions`."""
    body = await read_body(request, ChatRequest)
    try:
        job, _ = prepare_chat(body, service, stream=body.stream)
    except RequestValidationError as err:
        if body.stream:
            return sse(_error_stream(VALIDATION_PREFIX + str(err)))
        return tgi_error(VALIDATION_PREFIX + str(err), "validation", 422)
    except TemplateError as err:
        return tgi_error(str(err), "template_error", 422)
    model = body.model or service.config.served_model_id
    if body.stream:
        return sse(_chunks(service, job, model, body.logprobs, body.include_usage))
    try:
        timed = await service.generate(job)
    except Exception as err:
        return tgi_error(f"Request failed during generation: {err}", "generation", 424)
    generation: Generation = timed.value[0]
    headers = {"x-prompt-tokens": str(len(job.input_ids)), "x-generated-tokens": str(generation.generated_tokens)}
    return FastJSON(_completion(generation, model, body.logprobs), headers=headers)


def _base(kind: str, model: str) -> dict[str, Any]:
    return {
        "object": kind,
        "id": "",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": f"{__version__}-native",
    }


def _logprobs(tokens: list[Token], tops: list[list[Token]]) -> dict[str, Any]:
    return {
        "content": [
            {
                "token": t.text,
                "logprob": t.logprob,
                "top_logprobs": [{"token": a.text, "logprob": a.logprob} for a in alternatives],
            }
            for t, alternatives in zip(tokens, tops, strict=True)
        ]
    }


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _completion(g: Generation, model: str, logprobs: bool) -> dict[str, Any]:
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": g.generated_text},
        "logprobs": _logprobs(g.tokens, g.top_tokens) if logprobs else None,
        "finish_reason": openai_finish(g.finish_reason),
    }
    return {**_base("chat.completion", model), "choices": [choice], "usage": _usage(g.input_length, len(g.tokens))}


def _chunk(step: Step, model: str, logprobs: bool) -> dict[str, Any]:
    content = "" if step.token.special else step.token.text
    choice = {
        "index": 0,
        "delta": {"role": "assistant", "content": content},
        "logprobs": _logprobs([step.token], [step.top_tokens]) if logprobs else None,
        "finish_reason": openai_finish(step.final.finish_reason) if step.final else None,
    }
    return {**_base("chat.completion.chunk", model), "choices": [choice], "usage": None}


async def _chunks(
    service: GenerationService, job: GenerationJob, model: str, logprobs: bool, include_usage: bool
) -> AsyncIterator[str]:
    steps = service.stream(job)
    try:
        async for step in steps:
            yield f"data: {dumps(_chunk(step, model, logprobs))}\n\n"
            if step.final is not None and include_usage:
                usage = _usage(step.final.input_length, step.final.generated_tokens)
                yield f"data: {dumps({**_base('chat.completion.chunk', model), 'choices': [], 'usage': usage})}\n\n"
    except Exception as err:
        yield f"data: {dumps({'error': {'message': str(err), 'http_status_code': 422}})}\n\n"
    finally:
        await steps.aclose()  # type: ignore[attr-defined]
    yield "data: [DONE]\n\n"


async def _error_stream(message: str) -> AsyncIterator[str]:
    yield f"data: {dumps({'error': {'message': message, 'http_status_code': 422}})}\n\n"
    yield "data: [DONE]\n\n"

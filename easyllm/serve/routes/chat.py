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
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from easyllm import __version__
from easyllm.protocol.responses.build import new_id
from easyllm.serve.chat_template import TemplateError
from easyllm.serve.engines.base import FinishReason, Generation, Step, Token
from easyllm.serve.generation import GenerationJob
from easyllm.serve.params import RequestValidationError, grammar_schema, validate_parameters
from easyllm.serve.routes.common import FastJSON, dumps, read_body, sse, tgi_error
from easyllm.serve.routes.openai_params import ChatMessage, ChatRequest, response_format_grammar
from easyllm.serve.services import GenerationService
from easyllm.serve.tools import AnswerReader, plan_tools, prompt_messages

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


def prepare_chat(body: ChatRequest, service: GenerationService, *, stream: bool) -> tuple[GenerationJob, ChatShape]:
    """Render the prompt (with the tools offered, when there are any) and validate the parameters.

    Args:
        body: The request.
        service: The model.
        stream: Whether the answer streams.

    Returns:
        The job, and how its answer is shaped.

    Raises:
        RequestValidationError: A parameter is refused.
        TemplateError: The template refused the messages.
    """
    top_n = (body.top_logprobs or 0) if body.logprobs else 0
    grammar = response_format_grammar(body.response_format)
    plan = plan_tools(body.tools, body.tool_choice, grammar_schema(grammar.get("value")) if grammar else None)
    if plan.active:
        grammar = {"type": "json", "value": plan.schema()}
    params = validate_parameters(body.to_parameters(top_n_tokens=top_n, grammar=grammar), service.config, stream=stream)
    messages, extra = prompt_messages([message_dict(m) for m in body.messages], plan, service.chat_template or "")
    prompt = service.render_chat(messages, **extra)
    model = body.model or service.config.served_model_id
    reader = AnswerReader(plan, call_id=new_id("call")) if plan.active else None
    return service.job(service.tokenize(prompt, add_special=False), params), ChatShape(model, body.logprobs, reader)


async def chat_completions(request: Request, service: GenerationService) -> Response:
    """`POST /v1/chat/completions`."""
    body = await read_body(request, ChatRequest)
    try:
        job, shape = prepare_chat(body, service, stream=body.stream)
    except RequestValidationError as err:
        if body.stream:
            return sse(_error_stream(VALIDATION_PREFIX + str(err)))
        return tgi_error(VALIDATION_PREFIX + str(err), "validation", 422)
    except TemplateError as err:
        return tgi_error(str(err), "template_error", 422)
    if body.stream:
        return sse(_chunks(service, job, shape, body.include_usage))
    try:
        timed = await service.generate(job)
    except Exception as err:
        return tgi_error(f"Request failed during generation: {err}", "generation", 424)
    generation: Generation = timed.value[0]
    headers = {"x-prompt-tokens": str(len(job.input_ids)), "x-generated-tokens": str(generation.generated_tokens)}
    return FastJSON(shape.completion(generation), headers=headers)


@dataclass
class ChatShape:
    """How one request's answer is shaped: plain text as TGI's Messages API answers, or read as a tool call.

    Attributes:
        model: The model name answered with.
        logprobs: Whether logprobs were asked (an answer read through tools reports none).
        reader: The tool-call reader when the answer is held to the tools' schema, else None.
    """

    model: str
    logprobs: bool
    reader: AnswerReader | None = None

    def finish_reason(self, reason: FinishReason) -> str:
        """OpenAI's finish reason: `tool_calls` for a call the model finished, else `openai_finish`."""
        if self.reader is not None and self.reader.called and reason != "length":
            return "tool_calls"
        return openai_finish(reason)

    def completion(self, g: Generation) -> dict[str, Any]:
        """The whole answer, as `chat.completion`."""
        message: dict[str, Any] = {"role": "assistant", "content": g.generated_text}
        logprobs = self.logprobs
        if self.reader is not None:
            self.reader.feed(g.generated_text)
            content, calls = self.reader.message()
            message["content"] = content
            if calls:
                message["tool_calls"] = calls
            logprobs = False
        choice = {
            "index": 0,
            "message": message,
            "logprobs": _logprobs(g.tokens, g.top_tokens) if logprobs else None,
            "finish_reason": self.finish_reason(g.finish_reason),
        }
        usage = _usage(g.input_length, len(g.tokens))
        return {**_base("chat.completion", self.model), "choices": [choice], "usage": usage}

    def chunks(self, step: Step) -> list[dict[str, Any]]:
        """The `chat.completion.chunk`s for one generated token (none while a call's head is still held)."""
        finish = self.finish_reason(step.final.finish_reason) if step.final else None
        text = "" if step.token.special else step.token.text
        if self.reader is None:
            lp = _logprobs([step.token], [step.top_tokens]) if self.logprobs else None
            return [self._chunk({"content": text}, lp, finish)]
        deltas = self.reader.feed(text) + (self.reader.finish() if step.final else [])
        if not deltas:
            return [self._chunk({}, None, finish)] if finish else []
        return [self._chunk(d, None, finish if i == len(deltas) - 1 else None) for i, d in enumerate(deltas)]

    def _chunk(self, delta: dict[str, Any], logprobs: dict[str, Any] | None, finish: str | None) -> dict[str, Any]:
        choice = {"index": 0, "delta": {"role": "assistant", **delta}, "logprobs": logprobs, "finish_reason": finish}
        return {**_base("chat.completion.chunk", self.model), "choices": [choice], "usage": None}


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


async def _chunks(
    service: GenerationService, job: GenerationJob, shape: ChatShape, include_usage: bool
) -> AsyncIterator[str]:
    steps = service.stream(job)
    try:
        async for step in steps:
            for chunk in shape.chunks(step):
                yield f"data: {dumps(chunk)}\n\n"
            if step.final is not None and include_usage:
                usage = _usage(step.final.input_length, step.final.generated_tokens)
                last = {**_base("chat.completion.chunk", shape.model), "choices": [], "usage": usage}
                yield f"data: {dumps(last)}\n\n"
    except Exception as err:
        yield f"data: {dumps({'error': {'message': str(err), 'http_status_code': 422}})}\n\n"
    finally:
        await steps.aclose()  # type: ignore[attr-defined]
    yield "data: [DONE]\n\n"


async def _error_stream(message: str) -> AsyncIterator[str]:
    yield f"data: {dumps({'error': {'message': message, 'http_status_code': 422}})}\n\n"
    yield "data: [DONE]\n\n"

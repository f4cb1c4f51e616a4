"""`POST /{endpoint}` with `{"text", "generation_params"}`: the config.yaml model-server format's route.

The answer is pipeline-style, wrapped as that server wraps it:
`{"response": {"generated_text": ..., "model_info": {"model_name": ..., "task": ...}}}`. A causal LM's
`generated_text` starts with the prompt (transformers' text-generation pipeline returns the full text); a seq2seq
model's is its output alone. A body that does not fit is refused with 422 and FastAPI's error shape, which names the
field: `{"detail": [{"loc": ["body", "generation_params", "top_p"], "msg": ..., "type": ...}]}`.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from easyllm.serve.engines.base import Generation
from easyllm.serve.hf_generation import FieldError, plan
from easyllm.serve.hf_kwargs import SUPPORTED_KEYS, HFGenerationKwargs
from easyllm.serve.routes.common import FastJSON, tgi_error
from easyllm.serve.services import GenerationService


class PipelineRequest(BaseModel):
    """The body."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    generation_params: HFGenerationKwargs = Field(default_factory=HFGenerationKwargs)


def unprocessable(errors: list[dict[str, Any]]) -> JSONResponse:
    """FastAPI's 422 answer.

    Args:
        errors: `{"loc", "msg", "type"}` items, `loc` starting with "body".

    Returns:
        The response.
    """
    return JSONResponse({"detail": errors}, status_code=422)


async def _read(request: Request) -> PipelineRequest | Response:
    raw = await request.body()
    try:
        data = json.loads(raw)
    except ValueError as err:
        return unprocessable([{"loc": ["body"], "msg": f"JSON decode error: {err}", "type": "json_invalid"}])
    try:
        return PipelineRequest.model_validate(data)
    except ValidationError as err:
        errors = [{"loc": ["body", *e["loc"]], "msg": _message(e), "type": e["type"]} for e in err.errors()]
        return unprocessable(errors)


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden" and error["loc"][:1] == ("generation_params",):
        return f"unknown generation parameter; this server honours: {', '.join(SUPPORTED_KEYS)}"
    return str(error["msg"])


async def pipeline_generate(request: Request, service: GenerationService) -> Response:
    """`POST /{endpoint}`: generate from `text` with transformers' generation arguments."""
    started = time.perf_counter()
    body = await _read(request)
    if isinstance(body, Response):
        return body
    model = service.model
    input_ids = service.tokenize(body.text)
    try:
        chosen = plan(
            body.generation_params,
            service.config,
            input_ids,
            generation_config=getattr(model, "generation_config", None),
            encoder_decoder=model.encoder_decoder,
        )
    except FieldError as err:
        return unprocessable([{"loc": ["body", *err.loc], "msg": err.message, "type": "value_error"}])
    if chosen.num_beams > 1 and not hasattr(model, "beam_search"):
        message = "num_beams > 1 needs the transformers engine; this model runs on llama.cpp"
        return unprocessable(
            [{"loc": ["body", "generation_params", "num_beams"], "msg": message, "type": "value_error"}]
        )
    try:
        if chosen.num_beams > 1:
            timed = await service.beam_search(chosen.job, chosen.num_beams, chosen.generate_kwargs)
        else:
            timed = await service.generate(chosen.job)
    except Exception as err:
        return tgi_error(f"Request failed during generation: {err}", "generation", 424)
    generation: Generation = timed.value[0]
    text = generation.generated_text if model.encoder_decoder else body.text + generation.generated_text
    if service.config.debug:
        _log(service, body, chosen.job.max_new_tokens, generation, time.perf_counter() - started)
    pipeline = service.config.pipeline
    info = {
        "model_name": (pipeline.model_name if pipeline else None) or service.config.served_model_id,
        "task": (pipeline.task_label if pipeline else None) or service.config.task,
    }
    headers = {
        "x-prompt-tokens": str(len(input_ids)),
        "x-generated-tokens": str(generation.generated_tokens),
        "x-finish-reason": generation.finish_reason,
    }
    return FastJSON({"response": {"generated_text": text, "model_info": info}}, headers=headers)


def _log(service: GenerationService, body: PipelineRequest, max_new: int, g: Generation, seconds: float) -> None:
    """`options.debug`: one line per request on stderr (parameters, token counts, timing; not the text)."""
    params = body.generation_params.model_dump(exclude_none=True)
    print(
        f"easyllm serve: {service.config.name}: generation_params={params} max_new_tokens={max_new} "
        f"prompt_tokens={g.input_length} generated_tokens={g.generated_tokens} finish={g.finish_reason} "
        f"seconds={seconds:.3f}",
        file=sys.stderr,
        flush=True,
    )

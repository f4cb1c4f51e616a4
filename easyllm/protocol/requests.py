"""From a call's arguments to a plan: validation, prompt building, stops and URLs (pure; shared by every shell).

The module facade (`easyllm.clients.huggingface`) and the client objects call these and differ only in how
they send.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from easyllm.errors import InvalidParameterError
from easyllm.log import logger
from easyllm.prompt_utils import PromptFormat, resolve_prompt_format
from easyllm.protocol import urls
from easyllm.protocol.embeddings import EmbeddingPlan, Route, plan_embeddings
from easyllm.protocol.generation import GenerationPlan, plan_generation
from easyllm.protocol.inputs import check_embedding_input, check_messages, check_prompt
from easyllm.protocol.params import combine_stops, parse_options
from easyllm.settings import Settings

__all__ = ["DEFAULT_PROMPT_FORMAT", "PromptSpec", "prepare_chat", "prepare_completion", "prepare_embeddings"]

PromptSpec = str | Callable[..., str] | PromptFormat | None

#: Used (with a warning) when no prompt builder is set anywhere, as the original easyllm did.
DEFAULT_PROMPT_FORMAT = "llama2"


def _prompt_format(spec: PromptSpec) -> PromptFormat:
    chosen = spec if spec is not None else os.environ.get("HUGGINGFACE_PROMPT") or None
    fmt = resolve_prompt_format(chosen)
    if fmt is None:
        logger.warning(
            "No prompt builder set; using %r. Set huggingface.prompt_builder (or HUGGINGFACE_PROMPT) to the "
            "model's format, e.g. 'chatml' for SmolLM or Qwen, 'llama3' for Llama 3.",
            DEFAULT_PROMPT_FORMAT,
        )
        fmt = resolve_prompt_format(DEFAULT_PROMPT_FORMAT)
        assert fmt is not None
    return fmt


def _model_name(model: str | None) -> str:
    if model is not None and not isinstance(model, str):
        raise InvalidParameterError(f"must be a string, got {type(model).__name__}", param="model")
    return model or "tgi"


def _log_prompt(prompt: str, debug: bool) -> None:
    if debug:
        logger.info("prompt sent:\n%s", prompt)
    elif logger.isEnabledFor(logging.DEBUG):
        logger.debug("prompt sent:\n%s", prompt)


def prepare_chat(
    settings: Settings,
    *,
    messages: object,
    model: str | None,
    stream: bool,
    prompt_builder: PromptSpec,
    extra_stops: Sequence[str] | None,
    options: Mapping[str, Any],
    debug: bool = False,
) -> GenerationPlan:
    """Plan a chat completion over TGI's native route: the prompt is built client-side.

    The format's leading BOS text is removed (TGI adds BOS itself) and its end-of-turn strings become stops.
    """
    checked = check_messages(messages)
    opts = parse_options(options)
    fmt = _prompt_format(prompt_builder)
    prompt = fmt.strip_bos(fmt.build(checked))
    _log_prompt(prompt, debug)
    stops = combine_stops(fmt.stop, opts.stop, extra_stops)
    url = urls.generation_url(settings, model)
    return plan_generation(
        "chat", prompt=prompt, options=opts, stops=stops, url=url, model=_model_name(model), stream=stream
    )


def prepare_completion(
    settings: Settings,
    *,
    prompt: object,
    model: str | None,
    stream: bool,
    extra_stops: Sequence[str] | None,
    options: Mapping[str, Any],
    debug: bool = False,
) -> GenerationPlan:
    """Plan a text completion: the prompt is sent as given."""
    text = check_prompt(prompt)
    opts = parse_options(options)
    _log_prompt(text, debug)
    stops = combine_stops(opts.stop, extra_stops)
    url = urls.generation_url(settings, model)
    return plan_generation(
        "text", prompt=text, options=opts, stops=stops, url=url, model=_model_name(model), stream=stream
    )


def prepare_embeddings(
    settings: Settings,
    *,
    input: object,
    model: str | None,
    normalize: bool,
    encoding_format: str,
    dimensions: int | None,
    max_batch_size: int,
) -> tuple[list[str], EmbeddingPlan]:
    """Check the inputs and plan their batches (TEI `/embed`, or the Inference API pipeline route)."""
    inputs = check_embedding_input(input)
    if not isinstance(normalize, bool):
        raise InvalidParameterError("must be True or False", param="normalize")
    route: Route = "pipeline" if settings.is_model_collection else "tei"
    plan = plan_embeddings(
        inputs,
        url=urls.embedding_url(settings, model),
        route=route,
        model=_model_name(model),
        normalize=normalize,
        encoding_format=encoding_format,
        dimensions=dimensions,
        max_batch_size=max_batch_size,
    )
    return inputs, plan

"""The planning steps every dialect shares: validation, prompt building, stops, payloads (pure).

A dialect (`easyllm.dialects`) decides where a call goes and in which wire form; these functions build the plan
for that route, so TGI's native route, the Messages API and every OpenAI-compatible server are planned the same
way by both shells.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from easyllm.environ import env
from easyllm.errors import InvalidParameterError
from easyllm.log import enable_console_logging
from easyllm.prompt_utils import PromptFormat, resolve_prompt_format
from easyllm.protocol.embeddings import (
    EmbeddingPlan,
    EmbeddingWire,
    EncodingFormat,
    check_embedding_format,
    plan_embeddings,
)
from easyllm.protocol.extras import NO_EXTRAS, Extras
from easyllm.protocol.generation import CompletionPlan, GenerationPlan, plan_generation
from easyllm.protocol.inputs import check_embedding_input, check_messages, check_prompt
from easyllm.protocol.messages import ChatWire, MessagesPlan, check_chat_messages, plan_messages, prompt_text
from easyllm.protocol.options import ChatOptions, check_native_options, native_grammar, parse_chat_options
from easyllm.protocol.params import combine_stops

if TYPE_CHECKING:
    from easyllm.settings import Settings

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_PROMPT_FORMAT",
    "ChatCall",
    "EmbedCall",
    "PromptSpec",
    "TextCall",
    "check_embeddings",
    "chosen_prompt_builder",
    "embedding_plan",
    "messages_chat_plan",
    "messages_text_plan",
    "native_chat_plan",
    "native_text_plan",
]

PromptSpec = str | Callable[..., str] | PromptFormat | None


@dataclass(frozen=True, kw_only=True)
class GenerationCall:
    """What every chat or text-completion call says (checked by the dialect that plans it)."""

    settings: Settings
    model: str | None
    stream: bool
    extra_stops: Sequence[str] | None
    options: Mapping[str, Any]
    debug: bool = False
    engine: str = "auto"
    extras: Extras = field(default=NO_EXTRAS)


@dataclass(frozen=True, kw_only=True)
class ChatCall(GenerationCall):
    """A chat call: its messages, and the prompt builder in force (for TGI's native route)."""

    messages: object
    prompt_builder: PromptSpec = None


@dataclass(frozen=True, kw_only=True)
class TextCall(GenerationCall):
    """A text-completion call: its prompt, sent as given."""

    prompt: object


@dataclass(frozen=True)
class EmbedCall:
    """Everything one embedding call says (inputs already checked), and the batch size the shells chose."""

    settings: Settings
    inputs: Sequence[str]
    model: str | None
    normalize: bool
    encoding_format: str | None  # what the caller gets back; None: not chosen (floats)
    dimensions: int | None
    max_batch_size: int
    engine: str = "auto"
    extras: Extras = field(default=NO_EXTRAS)
    floats_only: bool = False  # this server was found not to send base64 vectors


#: The last resort (with a warning) for a TGI without the Messages API when no prompt builder is set anywhere.
DEFAULT_PROMPT_FORMAT = "llama2"


def _prompt_format(spec: PromptSpec) -> PromptFormat:
    chosen = spec if spec is not None else env("HUGGINGFACE_PROMPT") or None
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
    if debug:  # asked for on this call: shown on stderr even when logging is not configured
        enable_console_logging(logging.INFO)
        logger.info("prompt sent:\n%s", prompt)
    elif logger.isEnabledFor(logging.DEBUG):
        logger.debug("prompt sent:\n%s", prompt)


def chosen_prompt_builder(spec: PromptSpec) -> PromptSpec:
    """The prompt builder in force: the call's or client's, else `HUGGINGFACE_PROMPT`, else None."""
    return spec if spec is not None else env("HUGGINGFACE_PROMPT") or None


def native_chat_plan(call: ChatCall, url: str) -> GenerationPlan:
    """Chat on TGI's native route: the prompt is built here with the prompt format in force.

    The format's leading BOS text is removed (TGI adds BOS itself) and its end-of-turn strings become stops;
    `response_format` json_schema becomes TGI's `grammar`.
    """
    checked = check_messages(call.messages)
    opts = check_native_options(parse_chat_options(call.options))
    fmt = _prompt_format(chosen_prompt_builder(call.prompt_builder))
    prompt = fmt.strip_bos(fmt.build(checked))
    _log_prompt(prompt, call.debug)
    plan = plan_generation(
        "chat",
        prompt=prompt,
        options=opts,
        stops=combine_stops(fmt.stop, opts.stop, call.extra_stops),
        url=url,
        model=_model_name(call.model),
        stream=call.stream,
        extra_parameters=_grammar(opts),
    )
    return plan.with_extras(call.extras) if call.extras else plan


def native_text_plan(call: TextCall, url: str) -> GenerationPlan:
    """A text completion on TGI's native route (it has `logprobs` and `echo`, unlike TGI's `/v1/completions`)."""
    text = check_prompt(call.prompt)
    _log_prompt(text, call.debug)
    opts = check_native_options(parse_chat_options(call.options))
    plan = plan_generation(
        "text", prompt=text, options=opts, stops=combine_stops(opts.stop, call.extra_stops), url=url,
        model=_model_name(call.model), stream=call.stream, extra_parameters=_grammar(opts),
    )  # fmt: skip
    return plan.with_extras(call.extras) if call.extras else plan


def _grammar(options: ChatOptions) -> dict[str, Any] | None:
    grammar = native_grammar(options.response_format)
    return None if grammar is None else {"grammar": grammar}


def messages_chat_plan(
    call: ChatCall,
    wire: ChatWire,
    url: str,
    *,
    body_model: str | None,
    alternative: Callable[[], CompletionPlan] | None = None,
) -> MessagesPlan:
    """Chat on an OpenAI-compatible route (the server applies the model's chat template).

    `body_model` is the `model` field sent (None: none); `alternative` is the plan to run if the server lacks
    the route.
    """
    checked = check_chat_messages(call.messages, wire)
    opts = parse_chat_options(call.options)
    body: dict[str, Any] = {"model": body_model} if body_model else {}
    body["messages"] = checked
    plan = plan_messages(
        "chat", wire=wire, body=body, prompt=prompt_text(checked), options=opts,
        stops=combine_stops(opts.stop, call.extra_stops), url=url, model=_model_name(call.model),
        stream=call.stream, alternative=alternative,
    )  # fmt: skip
    return plan.with_extras(call.extras) if call.extras else plan


def messages_text_plan(call: TextCall, wire: ChatWire, url: str, *, body_model: str | None) -> MessagesPlan:
    """A text completion on an OpenAI-compatible `/completions` route."""
    text = check_prompt(call.prompt)
    _log_prompt(text, call.debug)
    opts = parse_chat_options(call.options)
    body: dict[str, Any] = {"model": body_model} if body_model else {}
    body["prompt"] = text
    plan = plan_messages(
        "text", wire=wire, body=body, prompt=text, options=opts, stops=combine_stops(opts.stop, call.extra_stops),
        url=url, model=_model_name(call.model), stream=call.stream,
    )  # fmt: skip
    return plan.with_extras(call.extras) if call.extras else plan


def embedding_plan(
    call: EmbedCall,
    url: str,
    wire: EmbeddingWire,
    *,
    body_model: str | None = None,
    wire_format: EncodingFormat = "float",
) -> EmbeddingPlan:
    """The batches of an embedding call on one route, in the wire form (and vector encoding) the dialect chose."""
    plan = plan_embeddings(
        call.inputs,
        url=url,
        wire=wire,
        model=call.model or (body_model or "tgi" if wire != "openai" else "unknown"),
        normalize=call.normalize,
        encoding_format=call.encoding_format,
        dimensions=call.dimensions,
        max_batch_size=call.max_batch_size,
        request_model=body_model,
        extras=call.extras,
        wire_format=wire_format,
    )
    return plan


def check_embeddings(args: Mapping[str, Any]) -> None:
    """Refuse bad embedding arguments (as the shells take them) before anything is sent."""
    check_embedding_input(args.get("input"))
    check_embedding_format(args.get("normalize"), args.get("encoding_format"), args.get("dimensions"))

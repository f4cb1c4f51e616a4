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
from easyllm.log import enable_console_logging
from easyllm.prompt_utils import PromptFormat, resolve_prompt_format
from easyllm.protocol import urls
from easyllm.protocol.embeddings import EmbeddingPlan, Route, check_embedding_format, plan_embeddings
from easyllm.protocol.generation import CompletionPlan, GenerationPlan, plan_generation
from easyllm.protocol.inputs import check_embedding_input, check_messages, check_prompt
from easyllm.protocol.messages import Flavour, MessagesPlan, check_chat_messages, plan_messages, prompt_text
from easyllm.protocol.openai_embeddings import plan_openai_embeddings
from easyllm.protocol.options import ChatOptions, native_grammar, parse_chat_options
from easyllm.protocol.params import combine_stops
from easyllm.protocol.urls import ServerProtocol
from easyllm.settings import Settings

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_PROMPT_FORMAT",
    "PromptSpec",
    "check_embeddings",
    "prepare_chat",
    "prepare_completion",
    "prepare_embeddings",
]

PromptSpec = str | Callable[..., str] | PromptFormat | None

#: The last resort (with a warning) for a TGI without the Messages API when no prompt builder is set anywhere.
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
    if debug:  # asked for on this call: shown on stderr even when logging is not configured
        enable_console_logging(logging.INFO)
        logger.info("prompt sent:\n%s", prompt)
    elif logger.isEnabledFor(logging.DEBUG):
        logger.debug("prompt sent:\n%s", prompt)


def _native_chat(
    settings: Settings,
    *,
    messages: object,
    model: str | None,
    stream: bool,
    prompt_builder: PromptSpec,
    extra_stops: Sequence[str] | None,
    options: Mapping[str, Any],
    debug: bool,
) -> GenerationPlan:
    checked = check_messages(messages)
    opts = parse_chat_options(options, "tgi")
    fmt = _prompt_format(prompt_builder)
    prompt = fmt.strip_bos(fmt.build(checked))
    _log_prompt(prompt, debug)
    stops = combine_stops(fmt.stop, opts.stop, extra_stops)
    url = urls.generation_url(settings, model)
    return plan_generation(
        "chat",
        prompt=prompt,
        options=opts,
        stops=stops,
        url=url,
        model=_model_name(model),
        stream=stream,
        extra_parameters=_grammar(opts),
    )


def _grammar(options: ChatOptions) -> dict[str, Any] | None:
    grammar = native_grammar(options.response_format)
    return None if grammar is None else {"grammar": grammar}


def _messages_chat(
    settings: Settings,
    flavour: Flavour,
    *,
    messages: object,
    model: str | None,
    stream: bool,
    extra_stops: Sequence[str] | None,
    options: Mapping[str, Any],
    fallback: Callable[[], GenerationPlan] | None = None,
) -> MessagesPlan:
    checked = check_chat_messages(messages, flavour)
    opts = parse_chat_options(options, "openai" if flavour == "openai" else "messages")
    body: dict[str, Any] = {"messages": checked}
    if flavour == "messages":
        body["model"] = "tgi"  # TGI reads any other name as a LoRA adapter id
        url = urls.messages_url(settings, model)
    else:
        if model:
            body["model"] = model
        url = urls.openai_url(settings, "chat/completions")
    return plan_messages(
        "chat",
        flavour=flavour,
        body=body,
        prompt=prompt_text(checked),
        options=opts,
        stops=combine_stops(opts.stop, extra_stops),
        url=url,
        model=_model_name(model),
        stream=stream,
        fallback=fallback,
    )


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
    protocol: ServerProtocol = "auto",
) -> CompletionPlan:
    """Plan a chat completion, choosing the route by this rule.

    1. An OpenAI-compatible server (`api_base` ending in `/v1`, or `protocol="openai"`): its `/chat/completions`;
       the server applies the model's chat template (a prompt builder is not used).
    2. TGI with a prompt builder set (argument, module setting or `HUGGINGFACE_PROMPT`): TGI's native route with
       the prompt built client-side; the format's leading BOS text is removed (TGI adds BOS itself) and its
       end-of-turn strings become stops.
    3. TGI without a prompt builder: TGI's Messages API (`/v1/chat/completions`), so the model's own template is
       used. The plan carries a fallback: a server without that route (404/405) gets the native route with the
       llama2 format and a warning; the shells remember the answer per server (`easyllm.calls`).
    """
    if urls.is_openai_server(settings, protocol):
        if prompt_builder is not None:
            logger.info("prompt_builder is not used on an OpenAI-compatible server: it applies the chat template")
        return _messages_chat(
            settings, "openai", messages=messages, model=model, stream=stream, extra_stops=extra_stops,
            options=options,
        )  # fmt: skip
    chosen = prompt_builder if prompt_builder is not None else os.environ.get("HUGGINGFACE_PROMPT") or None

    def native() -> GenerationPlan:
        return _native_chat(
            settings, messages=messages, model=model, stream=stream, prompt_builder=chosen,
            extra_stops=extra_stops, options=options, debug=debug,
        )  # fmt: skip

    if chosen is not None:
        return native()
    return _messages_chat(
        settings, "messages", messages=messages, model=model, stream=stream, extra_stops=extra_stops,
        options=options, fallback=native,
    )  # fmt: skip


def prepare_completion(
    settings: Settings,
    *,
    prompt: object,
    model: str | None,
    stream: bool,
    extra_stops: Sequence[str] | None,
    options: Mapping[str, Any],
    debug: bool = False,
    protocol: ServerProtocol = "auto",
) -> CompletionPlan:
    """Plan a text completion: the prompt is sent as given.

    It goes to an OpenAI-compatible server's `/completions`, or to TGI's native route (which has `logprobs` and
    `echo`, unlike TGI's `/v1/completions`).
    """
    text = check_prompt(prompt)
    _log_prompt(text, debug)
    if urls.is_openai_server(settings, protocol):
        opts = parse_chat_options(options, "openai")
        body: dict[str, Any] = {"prompt": text, **({"model": model} if model else {})}
        return plan_messages(
            "text", flavour="openai", body=body, prompt=text, options=opts,
            stops=combine_stops(opts.stop, extra_stops), url=urls.openai_url(settings, "completions"),
            model=_model_name(model), stream=stream,
        )  # fmt: skip
    opts = parse_chat_options(options, "tgi")
    stops = combine_stops(opts.stop, extra_stops)
    url = urls.generation_url(settings, model)
    return plan_generation(
        "text", prompt=text, options=opts, stops=stops, url=url, model=_model_name(model), stream=stream,
        extra_parameters=_grammar(opts),
    )  # fmt: skip


def prepare_embeddings(
    settings: Settings,
    *,
    input: object,
    model: str | None,
    normalize: bool,
    encoding_format: str,
    dimensions: int | None,
    max_batch_size: int,
    protocol: ServerProtocol = "auto",
) -> tuple[list[str], EmbeddingPlan]:
    """Check the inputs and plan their batches.

    Routes: TEI `/embed`, the Inference API pipeline route, or an OpenAI-compatible server's `/embeddings`.
    """
    inputs = check_embedding_input(input)
    check_embedding_format(normalize, encoding_format, dimensions)
    if urls.is_openai_server(settings, protocol):
        return inputs, plan_openai_embeddings(
            inputs, url=urls.openai_url(settings, "embeddings"), model=model, normalize=normalize,
            encoding_format=encoding_format, dimensions=dimensions, max_batch_size=max_batch_size,
        )  # fmt: skip
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


def check_embeddings(args: Mapping[str, Any]) -> None:
    """Refuse bad embedding arguments (as `prepare_embeddings` takes them) before anything is sent."""
    check_embedding_input(args.get("input"))
    check_embedding_format(args.get("normalize"), args.get("encoding_format"), args.get("dimensions"))

"""OpenAI sampling parameters: validated once, then translated to what TGI's native routes accept.

OpenAI semantics are kept: `temperature=0` (or `top_p=0`) is greedy, `top_p=1` means no nucleus filtering, no
`temperature` means sampling at temperature 1, `frequency_penalty` goes to TGI's `frequency_penalty`. A value the
server would reject, or one it would silently ignore, is refused here with a message naming the field.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from easyllm.errors import InvalidParameterError

__all__ = [
    "MAX_SERVER_STOPS",
    "GenerationOptions",
    "combine_stops",
    "tgi_parameters",
]

#: TGI's default `--max-stop-sequences`; stops beyond it are enforced client-side only.
MAX_SERVER_STOPS = 4

_SEED_RANGE = 2**32


class GenerationOptions(BaseModel):
    """The sampling options of one chat or text completion call, checked against OpenAI's ranges."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    max_tokens: Annotated[int | None, Field(ge=1, description="Most tokens to generate.")] = None
    temperature: Annotated[float | None, Field(ge=0, le=2, description="0 is greedy; default 1.")] = None
    top_p: Annotated[float | None, Field(ge=0, le=1, description="Nucleus mass; 1 disables it.")] = None
    top_k: Annotated[int | None, Field(ge=1, description="Sample from the k likeliest tokens.")] = None
    n: Annotated[int, Field(ge=1, le=128, description="How many distinct samples to return.")] = 1
    stop: Annotated[str | list[str] | None, Field(description="Up to any number of stop strings; never returned.")] = (
        None
    )
    frequency_penalty: Annotated[float | None, Field(ge=-2, le=2)] = None
    presence_penalty: Annotated[float | None, Field(ge=-2, le=2)] = None
    repetition_penalty: Annotated[float | None, Field(gt=0, description="TGI's own multiplicative penalty.")] = None
    seed: Annotated[int | None, Field(ge=0, lt=2**64)] = None
    logprobs: Annotated[bool | int | None, Field(description="Chat: bool; text: how many top tokens (0-5).")] = None
    top_logprobs: Annotated[int | None, Field(ge=0, le=5, description="TGI's max_top_n_tokens is 5.")] = None
    echo: bool = False
    logit_bias: dict[str, float] | None = None
    user: str | None = None
    stream_options: dict[str, bool] | None = None


def combine_stops(*groups: str | Sequence[str] | None) -> tuple[str, ...]:
    """Merge stop strings from several sources (`stop`, `stop_sequences`, a format's), first seen first, once each.

    An empty stop string is refused: it would end every answer before its first character.
    """
    merged: dict[str, None] = {}
    for group in groups:
        if group is None:
            continue
        for stop in [group] if isinstance(group, str) else group:
            if not isinstance(stop, str):
                raise InvalidParameterError(f"must contain strings, got {stop!r}", param="stop")
            if not stop:
                raise InvalidParameterError(
                    "must not contain an empty string (it would end every answer at once; "
                    "check `stop` and `stop_sequences`)",
                    param="stop",
                )
            merged[stop] = None
    return tuple(merged)


def is_greedy(options: GenerationOptions) -> bool:
    """True when the options ask for greedy decoding (`temperature=0` or `top_p=0`)."""
    return options.temperature == 0 or options.top_p == 0


def top_n_tokens(options: GenerationOptions) -> int:
    """How many alternatives per token the caller wants logprobs for (0 when none)."""
    if options.top_logprobs:
        return options.top_logprobs
    if isinstance(options.logprobs, int) and not isinstance(options.logprobs, bool):
        return options.logprobs
    return 0


def tgi_parameters(options: GenerationOptions, stops: Sequence[str], *, seed: int | None) -> dict[str, Any]:
    """TGI `parameters` for one request: always with details, never echoing the prompt.

    `parameters` is always present, so TGI's `do_sample` defaults to false; it is therefore always sent.
    Only the first `MAX_SERVER_STOPS` stops are sent; the caller enforces the rest client-side.

    Example:
        >>> tgi_parameters(GenerationOptions(temperature=0, top_p=1.0), ["</s>"], seed=None)
        {'details': True, 'return_full_text': False, 'do_sample': False, 'stop': ['</s>']}
    """
    params: dict[str, Any] = {"details": True, "return_full_text": False}
    if options.max_tokens is not None:
        params["max_new_tokens"] = options.max_tokens
    if is_greedy(options):
        params["do_sample"] = False
    else:
        params["do_sample"] = True
        if options.temperature is not None and options.temperature != 1:
            params["temperature"] = options.temperature
        if options.top_p is not None and options.top_p < 1:
            params["top_p"] = options.top_p
        if options.top_k is not None:
            params["top_k"] = options.top_k
        params["seed"] = seed if seed is not None else random.randrange(_SEED_RANGE)
    if options.frequency_penalty:
        params["frequency_penalty"] = options.frequency_penalty
    if options.repetition_penalty is not None:
        params["repetition_penalty"] = options.repetition_penalty
    if stops:
        params["stop"] = list(stops[:MAX_SERVER_STOPS])
    top_n = top_n_tokens(options)
    if top_n:
        params["top_n_tokens"] = top_n
    return params


def seeds_for(options: GenerationOptions) -> list[int | None]:
    """One seed per requested sample: distinct, and reproducible when the caller gave a seed."""
    if options.seed is None:
        return [None] * options.n
    return [(options.seed + i) % 2**64 for i in range(options.n)]

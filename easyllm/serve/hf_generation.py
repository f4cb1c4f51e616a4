"""Settling a `{text, generation_params}` request with transformers' `generate()` semantics.

Three layers, the nearest winning: the request's `generation_params`, the config's defaults
(`hf_generation_kwargs`), and the model's own generation config (transformers' defaults when it has none:
`max_length` 20, greedy, `top_k` 50). Then, as in transformers:

- sampling happens only when `do_sample` is true, and `temperature: 0` means greedy even then; the sampling
  filters (`temperature`, `top_k`, `top_p`, `typical_p`) apply only when sampling;
- `max_new_tokens` counts generated tokens; `max_length` counts the whole output: a causal LM's prompt is part
  of it, an encoder-decoder's decoder start token is;
- `repetition_penalty` covers the prompt and the output of a causal LM, the output of an encoder-decoder;
- `num_beams > 1` is beam search, which runs in transformers' own `generate()`.

A limit that leaves no room, or a prompt longer than the model takes, is refused (422) naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from easyllm.serve.config import ModelConfig
from easyllm.serve.generation import GenerationJob
from easyllm.serve.hf_kwargs import HFGenerationKwargs
from easyllm.serve.params import ValidParams, input_limit
from easyllm.serve.sampling import SamplingParams

# transformers' GenerationConfig defaults for the keys the server honours.
TRANSFORMERS_DEFAULTS = HFGenerationKwargs(
    max_length=20, do_sample=False, temperature=1.0, top_k=50, top_p=1.0, typical_p=1.0, repetition_penalty=1.0,
    num_beams=1,
)  # fmt: skip


class FieldError(ValueError):
    """A request value cannot be honoured; answered 422 with the field's location."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        """Keep the location and message.

        Args:
            loc: Where, in the body (`("generation_params", "max_length")`).
            message: What is wrong.
        """
        super().__init__(message)
        self.loc = loc
        self.message = message


@dataclass(frozen=True)
class PipelinePlan:
    """How to answer one request.

    Attributes:
        job: The token loop's job (used unless `num_beams > 1`).
        num_beams: The beam width.
        generate_kwargs: For beam search: transformers `generate()` arguments besides the limit.
    """

    job: GenerationJob
    num_beams: int = 1
    generate_kwargs: dict[str, Any] = field(default_factory=dict)


def model_defaults(generation_config: Any | None) -> HFGenerationKwargs:
    """The honoured keys of a model's generation config, over transformers' defaults.

    Args:
        generation_config: The model's `GenerationConfig`, or None (llama.cpp models).

    Returns:
        The bottom layer.
    """
    if generation_config is None:
        return TRANSFORMERS_DEFAULTS
    values = {
        key: getattr(generation_config, key, None)
        for key in ("max_length", "max_new_tokens", "do_sample", "temperature", "top_k", "top_p", "typical_p",
                    "repetition_penalty", "num_beams")
    }  # fmt: skip
    kept = {}
    for key, value in values.items():  # a value outside the honoured range is left to transformers' default
        if value is not None and _valid(key, value):
            kept[key] = value
    own = HFGenerationKwargs.model_validate(kept)
    if own.max_new_tokens is not None:  # both set in one layer: max_new_tokens wins, as in transformers
        own = own.model_copy(update={"max_length": None})
    return own.over(TRANSFORMERS_DEFAULTS)


def _valid(key: str, value: Any) -> bool:
    from pydantic import ValidationError

    try:
        HFGenerationKwargs.model_validate({key: value})
    except ValidationError:
        return False
    return True


def plan(
    request: HFGenerationKwargs,
    config: ModelConfig,
    input_ids: list[int],
    *,
    generation_config: Any | None,
    encoder_decoder: bool,
) -> PipelinePlan:
    """Settle a request.

    Args:
        request: The request's `generation_params`.
        config: The model's config (its pipeline defaults and limits).
        input_ids: The tokenized `text`.
        generation_config: The model's own generation config (None for llama.cpp models).
        encoder_decoder: Whether the model is seq2seq.

    Returns:
        The plan.

    Raises:
        FieldError: A value cannot be honoured.
    """
    defaults = config.pipeline.generation_kwargs if config.pipeline else HFGenerationKwargs()
    merged = request.over(defaults.over(model_defaults(generation_config)))
    length_field = _length_source(request, defaults)
    max_new = _max_new_tokens(merged, len(input_ids), encoder_decoder, length_field)
    _check_room(config, len(input_ids), max_new, length_field)
    greedy = not merged.do_sample or merged.temperature == 0
    penalty = merged.repetition_penalty or 1.0
    seed = None if greedy else (merged.seed if merged.seed is not None else _random_seed())
    stop = list(merged.stop_strings or [])
    if (merged.num_beams or 1) > 1:
        kwargs: dict[str, Any] = {"do_sample": not greedy, "repetition_penalty": penalty}
        if not greedy:
            kwargs.update(temperature=merged.temperature, top_k=merged.top_k, top_p=merged.top_p)
            kwargs["typical_p"] = merged.typical_p
        params = ValidParams(sampling=SamplingParams(seed=seed), max_new_tokens=max_new, stop=stop)
        return PipelinePlan(GenerationJob(input_ids, params, max_new), merged.num_beams or 1, kwargs)
    if greedy:
        sampling = SamplingParams(repetition_penalty=penalty)
    else:
        sampling = SamplingParams(
            do_sample=True,
            temperature=merged.temperature or 1.0,
            top_k=merged.top_k or 0,
            top_p=merged.top_p or 1.0,
            typical_p=merged.typical_p or 1.0,
            repetition_penalty=penalty,
            seed=seed,
        )
    params = ValidParams(sampling=sampling, max_new_tokens=max_new, stop=stop)
    return PipelinePlan(GenerationJob(input_ids, params, max_new))


def _random_seed() -> int:
    import secrets

    return secrets.randbits(63)


def _length_source(request: HFGenerationKwargs, defaults: HFGenerationKwargs) -> tuple[str, ...]:
    """Where the effective length limit comes from, for messages."""
    for layer, prefix in ((request, ("generation_params",)), (defaults, ("hf_generation_kwargs",))):
        for key in ("max_new_tokens", "max_length"):
            if getattr(layer, key) is not None:
                return (*prefix, key)
    return ("generation_params", "max_length")


def _max_new_tokens(
    merged: HFGenerationKwargs, prompt_tokens: int, encoder_decoder: bool, source: tuple[str, ...]
) -> int:
    if merged.max_new_tokens is not None:
        return merged.max_new_tokens
    max_length = merged.max_length or TRANSFORMERS_DEFAULTS.max_length or 20
    counted = 1 if encoder_decoder else prompt_tokens
    room = max_length - counted
    if room <= 0:
        what = "the decoder start token" if encoder_decoder else f"the prompt's {prompt_tokens} tokens"
        where = "" if source[0] == "generation_params" else " (the config's default)"
        raise FieldError(
            ("generation_params", "max_length"),
            f"max_length {max_length}{where} leaves no room for new tokens after {what}; "
            "raise it or give max_new_tokens",
        )
    return room


def _check_room(config: ModelConfig, prompt_tokens: int, max_new: int, source: tuple[str, ...]) -> None:
    limit = input_limit(config)
    if prompt_tokens > limit:
        raise FieldError(("text",), f"the text has {prompt_tokens} tokens; this model takes at most {limit}")
    if prompt_tokens + max_new > config.max_total_tokens:
        raise FieldError(
            ("generation_params", source[-1]),
            f"the prompt's {prompt_tokens} tokens plus {max_new} new tokens exceed the model's "
            f"{config.max_total_tokens} (max_total_tokens)",
        )

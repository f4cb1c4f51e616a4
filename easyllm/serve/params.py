"""TGI's `parameters`: the wire model, the defaults, and validation with TGI's own messages.

`validate_parameters` turns a request's parameters plus the model's config defaults into a `ValidParams`, or
raises `RequestValidationError` carrying the message TGI would send (the route adds "Input validation error: ").
The token-count checks need the tokenized prompt and live in `check_input_length`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from easyllm.serve.config import ModelConfig
from easyllm.serve.sampling import SamplingParams


class RequestValidationError(ValueError):
    """A request parameter is refused; the message is TGI's wording."""


class GenerateParameters(BaseModel):
    """TGI's `parameters` object as received (unknown keys are ignored, as TGI does)."""

    model_config = ConfigDict(extra="ignore")

    best_of: int | None = Field(None, ge=0)
    decoder_input_details: bool = False
    details: bool = False
    do_sample: bool | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    grammar: dict[str, Any] | None = None
    max_new_tokens: int | None = Field(None, ge=0)
    repetition_penalty: float | None = None
    return_full_text: bool | None = None
    seed: int | None = Field(None, ge=0, lt=2**64)
    stop: list[str] = Field(default_factory=list)
    temperature: float | None = None
    top_k: int | None = None
    top_n_tokens: int | None = Field(None, ge=0)
    top_p: float | None = None
    truncate: int | None = Field(None, ge=0)
    typical_p: float | None = None
    watermark: bool = False
    adapter_id: str | None = None


class GenerateRequest(BaseModel):
    """The body of `POST /`, `/generate` and `/generate_stream`."""

    model_config = ConfigDict(extra="ignore")

    inputs: str
    parameters: GenerateParameters | None = None
    stream: bool = False


@dataclass(frozen=True)
class ValidParams:
    """Parameters after defaults and validation.

    Attributes:
        sampling: How tokens are picked (the seed is set whenever tokens are drawn).
        max_new_tokens: The limit asked for, or None for the model's default.
        stop: Stop sequences.
        details: Whether to answer with details.
        decoder_input_details: Whether to return the prompt tokens with their logprobs.
        top_n_tokens: How many alternatives per token to report.
        return_full_text: Prepend the prompt; None means the route's default.
        truncate: Keep only the last N prompt tokens.
        best_of: Sequences to generate, keeping the most likely.
        grammar: What the output must follow, as llguidance grammar text (`output_grammar`); None leaves it free.
    """

    sampling: SamplingParams
    max_new_tokens: int | None
    stop: list[str] = field(default_factory=list)
    details: bool = False
    decoder_input_details: bool = False
    top_n_tokens: int = 0
    return_full_text: bool | None = None
    truncate: int | None = None
    best_of: int = 1
    grammar: str | None = None


def _pick(value: Any, default: Any) -> Any:
    return default if value is None else value


def validate_parameters(parameters: GenerateParameters | None, model: ModelConfig, *, stream: bool) -> ValidParams:
    """Apply the model's defaults and TGI's rules.

    Args:
        parameters: The request's `parameters`, None when the key was absent (TGI then samples).
        model: The model's config (limits and defaults).
        stream: Whether the answer streams.

    Returns:
        The validated parameters.

    Raises:
        RequestValidationError: A rule is broken; the message is TGI's.
    """
    p = parameters or GenerateParameters()
    d = model.parameters
    do_sample = True if parameters is None else bool(_pick(p.do_sample, d.do_sample or False))
    values = {
        "temperature": _pick(p.temperature, d.temperature),
        "top_k": _pick(p.top_k, d.top_k),
        "top_p": _pick(p.top_p, d.top_p),
        "typical_p": _pick(p.typical_p, d.typical_p),
        "repetition_penalty": _pick(p.repetition_penalty, d.repetition_penalty),
        "frequency_penalty": _pick(p.frequency_penalty, d.frequency_penalty),
    }
    _check_best_of(p, model, stream=stream, do_sample=do_sample, values=values)
    _check_values(values, p.presence_penalty)
    _check_limits(p, model, stream=stream)
    sampling = SamplingParams(
        do_sample=do_sample,
        temperature=values["temperature"] or 1.0,
        top_k=values["top_k"] or 0,
        top_p=values["top_p"] or 1.0,
        typical_p=values["typical_p"] or 1.0,
        repetition_penalty=values["repetition_penalty"] or 1.0,
        frequency_penalty=values["frequency_penalty"] or 0.0,
        presence_penalty=p.presence_penalty or 0.0,
    )
    if sampling.sampling:
        seed = p.seed if p.seed is not None else secrets.randbits(63)
        sampling = SamplingParams(**{**sampling.__dict__, "seed": seed})
    return ValidParams(
        sampling=sampling,
        max_new_tokens=p.max_new_tokens,
        stop=list(p.stop or d.stop),
        details=p.details,
        decoder_input_details=p.decoder_input_details,
        top_n_tokens=p.top_n_tokens or 0,
        return_full_text=p.return_full_text,
        truncate=p.truncate,
        best_of=p.best_of or 1,
        grammar=output_grammar(p.grammar),
    )


def output_grammar(grammar: dict[str, Any] | None) -> str | None:
    """What TGI's `grammar` parameter holds the output to, compiled (llguidance grammar text), or None for none.

    TGI's forms: `{"type": "json", "value": schema}` (the schema may also come as JSON text; `{}` or no value: any
    JSON object), `{"type": "json_object", "value": schema}` from its Messages API, and `{"type": "regex", "value":
    pattern}`, which the whole output must match. Both engines hold their sampling to it with llguidance
    (`TextModel.grammar_mask`); a schema or pattern llguidance cannot hold output to is refused here, with its
    reason, before a job starts.

    Example:
        >>> output_grammar({"type": "xml", "value": "<a/>"})
        Traceback (most recent call last):
        ...
        easyllm.serve.params.RequestValidationError: grammar of type 'xml' is not supported (json, json_object, regex)
    """
    if grammar is None:
        return None
    kind, value = grammar.get("type"), grammar.get("value")
    from easyllm.serve.engines.guidance import regex_grammar, schema_grammar  # what generation uses, checked now

    try:
        if kind == "regex":
            if not isinstance(value, str):
                raise RequestValidationError("grammar `value` must be a regular expression (a string)")
            return regex_grammar(value)
        if kind not in ("json", "json_object"):
            raise RequestValidationError(f"grammar of type {kind!r} is not supported (json, json_object, regex)")
        return schema_grammar(json.dumps(grammar_schema(value)))
    except ValueError as err:
        raise RequestValidationError(str(err)) from None


def grammar_schema(value: Any) -> dict[str, Any]:
    """The JSON schema of a JSON grammar's `value`: an object, JSON text of one, or None (`{}`: any JSON object).

    Example:
        >>> grammar_schema('{"type": "integer"}'), grammar_schema(None)
        ({'type': 'integer'}, {})

    Raises:
        RequestValidationError: The value is neither.
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise RequestValidationError("grammar `value` is not valid JSON") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RequestValidationError("grammar `value` must be a JSON schema (an object)")
    return value


def _check_best_of(
    p: GenerateParameters, model: ModelConfig, *, stream: bool, do_sample: bool, values: dict[str, Any]
) -> None:
    best_of = p.best_of if p.best_of is not None else 1
    if best_of == 1:
        return
    if best_of == 0 or best_of > model.max_best_of:
        raise RequestValidationError(f"`best_of` must be > 0 and <= {model.max_best_of}. Given: {best_of}")
    warpers = any(values[k] is not None for k in ("temperature", "top_k", "top_p", "typical_p"))
    if not (do_sample or warpers):
        raise RequestValidationError("you must use sampling when `best_of` is > 1")
    if p.seed is not None:
        raise RequestValidationError("`seed` must not be set when `best_of` > 1")
    if stream:
        raise RequestValidationError("`best_of` != 1 is not supported when streaming tokens")


def _check_values(values: dict[str, Any], presence_penalty: float | None) -> None:
    rules: list[tuple[str, bool, str]] = [
        ("temperature", values["temperature"] is not None and values["temperature"] <= 0, "must be strictly positive"),
        ("repetition_penalty", _at_most(values["repetition_penalty"], 0), "must be strictly positive"),
        ("frequency_penalty", not -2.0 <= (values["frequency_penalty"] or 0.0) <= 2.0,
         "must be >= -2.0 and <= 2.0"),
        ("presence_penalty", not -2.0 <= (presence_penalty or 0.0) <= 2.0, "must be >= -2.0 and <= 2.0"),
        ("top_p", values["top_p"] is not None and not 0.0 < values["top_p"] < 1.0, "must be > 0.0 and < 1.0"),
        ("typical_p", values["typical_p"] is not None and not 0.0 < values["typical_p"] < 1.0,
         "must be > 0.0 and < 1.0"),
        ("top_k", values["top_k"] is not None and values["top_k"] <= 0, "must be strictly positive"),
    ]  # fmt: skip
    for name, broken, rule in rules:
        if broken:
            raise RequestValidationError(f"`{name}` {rule}")


def _at_most(value: float | None, bound: float) -> bool:
    return value is not None and value <= bound


def _check_limits(p: GenerateParameters, model: ModelConfig, *, stream: bool) -> None:
    if p.max_new_tokens == 0:
        raise RequestValidationError("`max_new_tokens` must be strictly positive")
    if len(p.stop) > model.max_stop_sequences:
        raise RequestValidationError(
            f"`stop` supports up to {model.max_stop_sequences} stop sequences. Given: {len(p.stop)}"
        )
    top_n = p.top_n_tokens or 0
    if top_n > model.max_top_n_tokens:
        raise RequestValidationError(f"`top_n_tokens` must be >= 0 and <= {model.max_top_n_tokens}. Given: {top_n}")
    if p.decoder_input_details and stream:
        raise RequestValidationError("`decoder_input_details` == true is not supported when streaming tokens")
    max_input = input_limit(model)
    if p.truncate is not None and not 0 < p.truncate <= max_input:
        raise RequestValidationError(
            f"`truncate` must be strictly positive and less than {max_input}. Given: {p.truncate}"
        )


def input_limit(model: ModelConfig) -> int:
    """The longest prompt a model accepts: `max_input_tokens`, else `max_total_tokens - 1`.

    Args:
        model: The model's config.

    Returns:
        The limit in tokens.
    """
    return model.max_input_tokens or model.max_total_tokens - 1


def check_input_length(input_length: int, max_new_tokens: int | None, model: ModelConfig) -> int:
    """Check the prompt's token count and settle `max_new_tokens`.

    Args:
        input_length: Tokens in the (truncated) prompt.
        max_new_tokens: What the request asked for, or None.
        model: The model's config.

    Returns:
        The number of tokens to generate at most: the request's value, else the model default capped by the
        room left in `max_total_tokens`.

    Raises:
        RequestValidationError: The prompt is empty or too long.
    """
    if input_length == 0:
        raise RequestValidationError("`inputs` cannot be empty")
    max_input = input_limit(model)
    if input_length > max_input:
        raise RequestValidationError(f"`inputs` must have less than {max_input} tokens. Given: {input_length}")
    room = model.max_total_tokens - input_length
    if max_new_tokens is None:
        return max(1, min(model.parameters.max_new_tokens, room))
    if input_length + max_new_tokens > model.max_total_tokens:
        raise RequestValidationError(
            f"`inputs` tokens + `max_new_tokens` must be <= {model.max_total_tokens}. "
            f"Given: {input_length} `inputs` tokens and {max_new_tokens} `max_new_tokens`"
        )
    return max_new_tokens

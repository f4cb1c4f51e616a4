"""TGI's JSON shapes built from generations: `/generate` answers, stream events, `/info`, `/tokenize`."""

from __future__ import annotations

from typing import Any

from easyllm import __version__
from easyllm.serve.config import ModelConfig
from easyllm.serve.engines.base import Generation, Step, Token
from easyllm.serve.params import ValidParams, input_limit


def token_json(token: Token) -> dict[str, Any]:
    """A generated token: `{"id", "text", "logprob", "special"}`.

    Args:
        token: The token.

    Returns:
        The JSON object.
    """
    return {"id": token.id, "text": token.text, "logprob": token.logprob, "special": token.special}


def prefill_json(token: Token) -> dict[str, Any]:
    """A prompt token: `{"id", "text", "logprob"}` (the first logprob is null).

    Args:
        token: The token.

    Returns:
        The JSON object.
    """
    return {"id": token.id, "text": token.text, "logprob": token.logprob}


def _sequence_details(g: Generation, params: ValidParams) -> dict[str, Any]:
    out: dict[str, Any] = {
        "finish_reason": g.finish_reason,
        "generated_tokens": g.generated_tokens,
        "seed": g.seed,
        "prefill": [prefill_json(t) for t in g.prefill],
        "tokens": [token_json(t) for t in g.tokens],
    }
    if params.top_n_tokens > 0:
        out["top_tokens"] = [[token_json(t) for t in step] for step in g.top_tokens]
    return out


def generate_json(results: list[Generation], prompt: str, params: ValidParams, full_text: bool) -> dict[str, Any]:
    """The `/generate` answer: `{"generated_text", "details"?}`.

    Args:
        results: The generations, best first (more than one only with `best_of`).
        prompt: The prompt (prepended when `full_text`).
        params: The validated parameters (which details to include).
        full_text: Whether to prepend the prompt.

    Returns:
        The JSON object.
    """
    best = results[0]
    out: dict[str, Any] = {"generated_text": (prompt if full_text else "") + best.generated_text}
    if params.details or params.decoder_input_details:
        details = _sequence_details(best, params)
        if len(results) > 1:
            details["best_of_sequences"] = [
                {"generated_text": (prompt if full_text else "") + g.generated_text, **_sequence_details(g, params)}
                for g in results[1:]
            ]
        out["details"] = details
    return out


def stream_event(step: Step, prompt: str, params: ValidParams, full_text: bool) -> dict[str, Any]:
    """One `/generate_stream` event; the last carries `generated_text` and (when asked) `details`.

    Args:
        step: The token.
        prompt: The prompt (prepended to the final text when `full_text`).
        params: The validated parameters.
        full_text: Whether to prepend the prompt.

    Returns:
        The JSON object.
    """
    event: dict[str, Any] = {"index": step.index, "token": token_json(step.token)}
    if params.top_n_tokens > 0:
        event["top_tokens"] = [token_json(t) for t in step.top_tokens]
    final = step.final
    event["generated_text"] = None if final is None else (prompt if full_text else "") + final.generated_text
    event["details"] = None
    if final is not None and params.details:
        event["details"] = {
            "finish_reason": final.finish_reason,
            "generated_tokens": final.generated_tokens,
            "seed": final.seed,
            "input_length": final.input_length,
        }
    return event


def info_json(config: ModelConfig) -> dict[str, Any]:
    """TGI's `/info` for a generation model.

    Args:
        config: The model's config.

    Returns:
        The JSON object.
    """
    return {
        "model_id": config.served_model_id,
        "model_sha": None,
        "model_pipeline_tag": "text2text-generation" if config.task == "seq2seq" else "text-generation",
        "max_concurrent_requests": 128,
        "max_best_of": config.max_best_of,
        "max_stop_sequences": config.max_stop_sequences,
        "max_input_tokens": input_limit(config),
        "max_total_tokens": config.max_total_tokens,
        "validation_workers": 1,
        "max_client_batch_size": config.batch_limit,
        "router": "text-generation-router",
        "version": __version__,
        "sha": None,
        "docker_label": None,
    }


def tokenize_json(tokens: list[Token]) -> list[dict[str, Any]]:
    """TGI's `/tokenize` answer: `[{"id", "text", "start", "stop"}]` with character offsets.

    Args:
        tokens: The prompt tokens with their texts.

    Returns:
        The JSON list.
    """
    out, position = [], 0
    for token in tokens:
        out.append({"id": token.id, "text": token.text, "start": position, "stop": position + len(token.text)})
        position += len(token.text)
    return out

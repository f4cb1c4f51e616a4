"""The token loop: evaluate, choose, decode, check the stopping rules, report each token.

It runs in a model's worker thread and talks to the model only through `TextModel`, so it is the same for every
engine. Stopping follows TGI: an end token (`eos_token`, reported as a special token and counted), a stop
sequence found in the text (`stop_sequence`, kept in `generated_text`), or `max_new_tokens` (`length`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from easyllm.serve.decoding import StopMatcher, TokenDecoder
from easyllm.serve.engines.base import FinishReason, Generation, LogitMask, Step, TextDecoder, TextModel, Token
from easyllm.serve.params import ValidParams
from easyllm.serve.sampling import Sampler, log_softmax, top_tokens


class Cancelled(Exception):
    """The client went away; generation stopped early."""


@dataclass(frozen=True)
class GenerationJob:
    """What to generate.

    Attributes:
        input_ids: The prompt's token ids (already truncated).
        params: Validated parameters.
        max_new_tokens: The settled token limit.
    """

    input_ids: list[int]
    params: ValidParams
    max_new_tokens: int


StepCallback = Callable[[Step], None]


def generate(
    model: TextModel, job: GenerationJob, cancel: threading.Event, on_step: StepCallback | None = None
) -> Generation:
    """Generate one sequence, calling `on_step` for each token as it is chosen.

    Args:
        model: The model.
        job: What to generate.
        cancel: Set by the server when the client has gone; checked before each token.
        on_step: Receives each token; the last one carries the whole generation.

    Returns:
        The generation.

    Raises:
        Cancelled: `cancel` was set.
    """
    params = job.params
    all_logits = model.prefill(job.input_ids, all_logits=params.decoder_input_details)
    prefill = _prefill(model, job.input_ids, all_logits) if params.decoder_input_details else []
    logits = all_logits[-1]
    mask = model.grammar_mask(params.grammar) if params.grammar is not None else None
    try:
        return _generate(model, job, cancel, on_step, logits, prefill, mask)
    finally:
        if mask is not None:
            mask.close()


def _generate(
    model: TextModel,
    job: GenerationJob,
    cancel: threading.Event,
    on_step: StepCallback | None,
    logits: npt.NDArray[np.float32],
    prefill: list[Token],
    mask: LogitMask | None,
) -> Generation:
    params = job.params
    sampler = Sampler(params.sampling, [] if model.encoder_decoder else job.input_ids)
    decoder, stops = model.text_decoder(job.input_ids), StopMatcher(params.stop)
    text, tokens, tops = "", [], []
    for index in range(1, job.max_new_tokens + 1):
        if cancel.is_set():
            raise Cancelled
        choice = sampler.choose(logits if mask is None else mask.apply(logits))
        if mask is not None:
            mask.accept(choice.token)
        token = _token(model, choice.token, choice.logprob, decoder)
        text += "" if token.special else token.text
        alternatives = [_alternative(model, i, lp) for i, lp in top_tokens(choice.logprobs, params.top_n_tokens)]
        tokens.append(token)
        tops.append(alternatives)
        reason = _finish(model, token, stops.match(text, len(token.text)), index, job.max_new_tokens)
        if reason is not None:
            text += decoder.flush()
            result = Generation(text, reason, tokens, tops, prefill, params.sampling.seed, len(job.input_ids))
            if on_step:
                on_step(Step(index, token, alternatives, result))
            return result
        if on_step:
            on_step(Step(index, token, alternatives))
        logits = model.step(choice.token)
    raise AssertionError("unreachable: the loop always finishes on `length`")  # pragma: no cover


def generate_best_of(model: TextModel, job: GenerationJob, cancel: threading.Event) -> list[Generation]:
    """Generate `best_of` sequences with distinct seeds; the most likely comes first.

    Args:
        model: The model.
        job: What to generate (`params.best_of` sequences).
        cancel: As for `generate`.

    Returns:
        The generations, best first.
    """
    results = [generate(model, job, cancel)]
    base_seed = job.params.sampling.seed or 0
    for offset in range(1, job.params.best_of):
        sampling = replace(job.params.sampling, seed=(base_seed + offset) % 2**63)
        results.append(generate(model, replace(job, params=replace(job.params, sampling=sampling)), cancel))
    return sorted(results, key=lambda g: g.logprob_sum, reverse=True)


def _finish(model: TextModel, token: Token, stop: str | None, index: int, limit: int) -> FinishReason | None:
    if model.is_end(token.id):
        return "eos_token"
    if stop is not None:
        return "stop_sequence"
    return "length" if index >= limit else None


def _token(model: TextModel, token_id: int, logprob: float, decoder: TextDecoder) -> Token:
    if model.is_special(token_id):
        return Token(token_id, model.piece(token_id).decode("utf-8", "replace"), logprob, special=True)
    return Token(token_id, decoder.feed(token_id), logprob)


def _alternative(model: TextModel, token_id: int, logprob: float) -> Token:
    text = model.piece(token_id).decode("utf-8", "replace")
    return Token(token_id, text, logprob, special=model.is_special(token_id))


def _prefill(model: TextModel, ids: Sequence[int], logits: npt.NDArray[np.float32]) -> list[Token]:
    """The prompt tokens, each with the logprob the model gave it at its position (the first has none).

    An encoder-decoder's prompt is encoded, not predicted: its tokens have no logprobs.
    """
    decoder = TokenDecoder()
    out = []
    for position, token_id in enumerate(ids):
        scored = position > 0 and not model.encoder_decoder
        logprob = float(log_softmax(logits[position - 1].astype(np.float64))[token_id]) if scored else None
        special = model.is_special(token_id)
        text = model.piece(token_id).decode("utf-8", "replace") if special else decoder.feed(model.piece(token_id))
        out.append(Token(token_id, text, logprob, special=special))
    return out

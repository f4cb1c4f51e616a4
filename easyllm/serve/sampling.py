"""Choosing the next token from a model's logits, as TGI does: penalties, then warpers, then greedy or a draw.

Pure numpy: no model here. The order follows TGI's next-token chooser: repetition penalty, frequency and
presence penalties, then temperature, top-k, top-p and typical-p. The reported log-probability is the
log-softmax of the processed scores (so with top-k 1 the chosen token has logprob 0), as in TGI.

Sampling is used when `do_sample` is set **or** any warper is active (temperature != 1, top_k, top_p < 1,
typical_p < 1), again as TGI does. A seed makes every draw reproducible: each request gets its own generator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Logits = npt.NDArray[np.floating]


@dataclass(frozen=True)
class SamplingParams:
    """How to pick tokens.

    Attributes:
        do_sample: Draw instead of taking the most likely token.
        temperature: Divide logits by this (1 = unchanged).
        top_k: Keep the k most likely tokens (0 = all).
        top_p: Keep the smallest set whose probability reaches this (1 = all).
        typical_p: Locally typical sampling mass (1 = off).
        repetition_penalty: CTRL penalty on tokens already seen, prompt included (1 = off).
        frequency_penalty: Subtracted once per earlier generated occurrence (0 = off).
        presence_penalty: Subtracted once from every token generated before (0 = off).
        seed: Seed of the request's own generator; None when not sampling.
    """

    do_sample: bool = False
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    typical_p: float = 1.0
    repetition_penalty: float = 1.0
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    seed: int | None = None

    @property
    def sampling(self) -> bool:
        """Whether tokens are drawn: `do_sample`, or any warper that forces sampling in TGI."""
        return self.do_sample or self.temperature != 1.0 or self.top_k > 0 or self.top_p < 1.0 or self.typical_p < 1.0


@dataclass(frozen=True)
class Choice:
    """The chosen token and the distribution it came from.

    Attributes:
        token: The token id.
        logprob: Its log-probability under the processed distribution.
        logprobs: The whole processed log-probability vector (for top tokens).
    """

    token: int
    logprob: float
    logprobs: npt.NDArray[np.float64]


class Sampler:
    """Picks tokens for one request; keeps the token counts and random generator of that request."""

    def __init__(self, params: SamplingParams, prompt_ids: Iterable[int]) -> None:
        """Start a request's sampler.

        Args:
            params: How to pick.
            prompt_ids: The prompt's token ids (the repetition penalty covers them).
        """
        self.params = params
        self._seen = set(prompt_ids)
        self._generated: Counter[int] = Counter()
        self._rng = np.random.Generator(np.random.PCG64(params.seed if params.seed is not None else 0))

    def choose(self, logits: Logits) -> Choice:
        """Pick the next token and remember it.

        Args:
            logits: The model's raw scores for the next position.

        Returns:
            The choice.
        """
        scores = self._penalise(np.asarray(logits, dtype=np.float64).copy())
        if self.params.sampling:
            scores = warp(scores, self.params)
        logprobs = log_softmax(scores)
        if self.params.sampling:
            probs = np.exp(logprobs)
            token = int(np.searchsorted(np.cumsum(probs), self._rng.random() * probs.sum(), side="right"))
            token = min(token, len(probs) - 1)
        else:
            token = int(np.argmax(logprobs))
        self._seen.add(token)
        self._generated[token] += 1
        return Choice(token, float(logprobs[token]), logprobs)

    def _penalise(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        p = self.params
        if p.repetition_penalty != 1.0 and self._seen:
            ids = np.fromiter(self._seen, dtype=np.int64)
            seen = scores[ids]
            scores[ids] = np.where(seen > 0, seen / p.repetition_penalty, seen * p.repetition_penalty)
        if (p.frequency_penalty or p.presence_penalty) and self._generated:
            ids = np.fromiter(self._generated.keys(), dtype=np.int64)
            counts = np.fromiter(self._generated.values(), dtype=np.float64)
            scores[ids] -= p.frequency_penalty * counts + p.presence_penalty
        return scores


def log_softmax(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Log-softmax that tolerates `-inf` entries.

    Args:
        scores: Any real scores.

    Returns:
        Log-probabilities.
    """
    top = np.max(scores)
    shifted: npt.NDArray[np.float64] = scores - top
    return shifted - float(np.log(np.sum(np.exp(shifted))))


def warp(scores: npt.NDArray[np.float64], p: SamplingParams) -> npt.NDArray[np.float64]:
    """Apply temperature, top-k, top-p and typical-p, masking dropped tokens with `-inf`.

    Args:
        scores: Penalised scores.
        p: The parameters.

    Returns:
        The warped scores.
    """
    if p.temperature != 1.0:
        scores = scores / p.temperature
    if 0 < p.top_k < len(scores):
        kth = np.partition(scores, -p.top_k)[-p.top_k]
        scores = np.where(scores < kth, -np.inf, scores)
    if p.top_p < 1.0:
        scores = _nucleus(scores, np.exp(log_softmax(scores)), p.top_p)
    if p.typical_p < 1.0:
        logprobs = log_softmax(scores)
        probs = np.exp(logprobs)
        entropy = -np.nansum(probs * np.where(probs > 0, logprobs, 0.0))
        surprise_gap = np.abs(-logprobs - entropy)
        scores = _keep_smallest_mass(scores, probs, np.argsort(surprise_gap, kind="stable"), p.typical_p)
    return scores


def _nucleus(scores: npt.NDArray[np.float64], probs: npt.NDArray[np.float64], mass: float) -> npt.NDArray[np.float64]:
    return _keep_smallest_mass(scores, probs, np.argsort(-probs, kind="stable"), mass)


def _keep_smallest_mass(
    scores: npt.NDArray[np.float64], probs: npt.NDArray[np.float64], order: npt.NDArray[np.intp], mass: float
) -> npt.NDArray[np.float64]:
    """Keep tokens in `order` until their probability reaches `mass` (always at least one)."""
    cumulative = np.cumsum(probs[order])
    keep_count = int(np.searchsorted(cumulative, mass, side="left")) + 1
    masked = np.full_like(scores, -np.inf)
    kept = order[:keep_count]
    masked[kept] = scores[kept]
    return masked


def top_tokens(logprobs: npt.NDArray[np.float64], n: int) -> list[tuple[int, float]]:
    """The n most likely tokens, most likely first.

    Args:
        logprobs: A log-probability vector.
        n: How many.

    Returns:
        `(token id, logprob)` pairs.
    """
    if n <= 0:
        return []
    best = np.argpartition(-logprobs, n - 1)[:n]
    best = best[np.argsort(-logprobs[best], kind="stable")]
    return [(int(i), float(logprobs[i])) for i in best]

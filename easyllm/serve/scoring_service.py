"""A loaded cross encoder (task `rerank`) or text classifier (task `classification`) with its worker.

Everything runs in the model's worker (the tokenizer is not shared across threads). Requests are counted for
`/metrics` like the other models'.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from easyllm.serve.config import ModelConfig
from easyllm.serve.services import Metrics, Timed
from easyllm.serve.worker import Emit, ModelWorker


class ScoringService:
    """A `CrossEncoderModel` or `ClassifierModel` and its worker."""

    def __init__(self, config: ModelConfig, model: Any, metrics: Metrics) -> None:
        """Wrap a loaded model; call `worker.start()` before use.

        Args:
            config: The model's config (`task` rerank or classification).
            model: A `CrossEncoderModel` (rerank) or `ClassifierModel` (classification).
            metrics: Where to count.
        """
        self.config = config
        self.model = model
        self.metrics = metrics
        self.worker = ModelWorker(config.name)

    @property
    def reranks(self) -> bool:
        """Whether this is a cross encoder (else a classifier)."""
        return self.config.task == "rerank"

    async def _timed(self, work: Any) -> Timed:
        queued = time.perf_counter()

        def run(emit: Emit, cancel: threading.Event) -> Timed:
            started = time.perf_counter()
            value = work()
            return Timed(value, started - queued, time.perf_counter() - started)

        timed: Timed = await self.worker.run(run)
        self.metrics.add(f'te_request_success{{model="{self.config.name}"}}')
        return timed

    async def count_pairs(self, query: str, texts: Sequence[str]) -> list[int]:
        """Tokens of each (query, text) pair (a cross encoder).

        Args:
            query: The query.
            texts: The documents.

        Returns:
            One count per document.
        """
        timed = await self._timed(lambda: self.model.count_tokens([(query, text) for text in texts]))
        counts: list[int] = timed.value
        return counts

    async def count_texts(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text (a classifier).

        Args:
            texts: The inputs.

        Returns:
            One count per text.
        """
        timed = await self._timed(lambda: self.model.count_tokens(list(texts)))
        counts: list[int] = timed.value
        return counts

    async def rerank(self, query: str, texts: Sequence[str]) -> Timed:
        """Score each document against the query (a cross encoder).

        Args:
            query: The query.
            texts: The documents.

        Returns:
            A `Timed` whose value is one score in (0, 1) per document, in input order.
        """
        return await self._timed(lambda: self.model.score([(query, text) for text in texts]))

    async def classify(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> Timed:
        """Every label's score for each text or pair (a classifier; a cross encoder gives its one label).

        Args:
            texts: The inputs (or the first texts of pairs).
            pairs: The second texts of pairs, or None.

        Returns:
            A `Timed` whose value is one list of (label, score) per input, highest first.
        """
        if self.reranks:
            label = self.model.labels.get(0, "LABEL_0")
            scores = await self._timed(
                lambda: self.model.score(list(zip(texts, pairs or [""] * len(texts), strict=True)))
            )
            return Timed([[(label, score)] for score in scores.value], scores.queue_time, scores.inference_time)
        return await self._timed(lambda: self.model.classify(texts, pairs))

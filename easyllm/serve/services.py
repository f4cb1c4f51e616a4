"""A loaded model with its worker: what the routes call.

`GenerationService` tokenizes and validates on the event loop (tokenizing is fast and reads only the
vocabulary), then runs the token loop in the model's worker. `EmbeddingService` runs everything in its worker.
Both count requests and tokens for `/metrics`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from easyllm.serve.chat_template import render_chat
from easyllm.serve.config import ModelConfig
from easyllm.serve.engines.base import EmbeddingModel, Generation, Step
from easyllm.serve.generation import GenerationJob, generate, generate_best_of
from easyllm.serve.params import ValidParams, check_input_length
from easyllm.serve.worker import Done, Emit, ModelWorker


@dataclass(frozen=True)
class Timed:
    """A job's result with its timing.

    Attributes:
        value: The result.
        queue_time: Seconds spent waiting for the worker.
        inference_time: Seconds the worker spent on it.
    """

    value: Any
    queue_time: float
    inference_time: float


class Metrics:
    """Counters for `/metrics` (Prometheus text)."""

    def __init__(self) -> None:
        """Start at zero."""
        self.counters: dict[str, float] = {}

    def add(self, name: str, value: float = 1) -> None:
        """Increase a counter.

        Args:
            name: The metric name, labels included.
            value: The increment.
        """
        self.counters[name] = self.counters.get(name, 0) + value


class GenerationService:
    """A generation model (llama.cpp or transformers), its chat template and its worker."""

    def __init__(self, config: ModelConfig, model: Any, metrics: Metrics) -> None:
        """Wrap a loaded model; call `worker.start()` before use.

        Args:
            config: The model's config.
            model: A `LlamaCppModel`, `CausalModel` or `Seq2SeqModel` (any `TextModel` with `chat_template`,
                `bos_token`, `eos_token`).
            metrics: Where to count.
        """
        self.config = config
        self.model = model
        self.metrics = metrics
        self.worker = ModelWorker(config.name)
        self.chat_template: str | None = config.chat_template or model.chat_template

    def tokenize(self, text: str, *, add_special: bool = True) -> list[int]:
        """Tokenize as the routes do (`/generate` adds the model's special tokens).

        Args:
            text: The text.
            add_special: Add BOS when the model does.

        Returns:
            Token ids.
        """
        return list(self.model.tokenize(text, add_special=add_special))

    def render_chat(self, messages: Sequence[dict[str, Any]], **extra: Any) -> str:
        """Render messages with the model's chat template.

        Args:
            messages: Chat messages.
            **extra: More template variables.

        Returns:
            The prompt.

        Raises:
            TemplateError: No template, or the template refused the messages.
        """
        from easyllm.serve.chat_template import TemplateError

        if not self.chat_template:
            if self.config.task == "seq2seq":
                raise TemplateError(
                    f"model {self.config.name!r} is a seq2seq (encoder-decoder) model without a chat template: "
                    "send its input as text completion (/v1/completions, /generate), or give it a `chat_template`"
                )
            raise TemplateError(f"model {self.config.name!r} has no chat template")
        bos, eos = self.model.bos_token, self.model.eos_token
        return render_chat(self.chat_template, messages, bos_token=bos, eos_token=eos, **extra)

    def job(self, input_ids: list[int], params: ValidParams) -> GenerationJob:
        """Truncate the prompt, check its length and settle the token limit.

        Args:
            input_ids: The prompt's ids.
            params: Validated parameters.

        Returns:
            The job.

        Raises:
            RequestValidationError: The prompt is empty or too long.
        """
        if params.truncate is not None:
            input_ids = input_ids[-params.truncate :]
        max_new = check_input_length(len(input_ids), params.max_new_tokens, self.config)
        return GenerationJob(input_ids, params, max_new)

    async def generate(self, job: GenerationJob) -> Timed:
        """Generate (all `best_of` sequences when asked; the best first).

        Args:
            job: What to generate.

        Returns:
            A `Timed` whose value is a list of `Generation`, best first.
        """
        queued = time.perf_counter()

        def run(emit: Emit, cancel: threading.Event) -> Timed:
            started = time.perf_counter()
            if job.params.best_of > 1:
                results = generate_best_of(self.model, job, cancel)
            else:
                results = [generate(self.model, job, cancel)]
            return Timed(results, started - queued, time.perf_counter() - started)

        timed: Timed = await self.worker.run(run)
        self._count(timed.value[0])
        return timed

    async def beam_search(self, job: GenerationJob, num_beams: int, generate_kwargs: dict[str, Any]) -> Timed:
        """Beam search with transformers' `generate()` (transformers models only).

        Args:
            job: The prompt, limit, stop strings and seed.
            num_beams: The beam width.
            generate_kwargs: More `generate()` arguments.

        Returns:
            A `Timed` whose value is a one-item list of `Generation`.
        """
        queued = time.perf_counter()

        def run(emit: Emit, cancel: threading.Event) -> Timed:
            started = time.perf_counter()
            result = self.model.beam_search(
                job.input_ids,
                num_beams=num_beams,
                max_new_tokens=job.max_new_tokens,
                generate_kwargs=generate_kwargs,
                stop=job.params.stop,
                seed=job.params.sampling.seed,
            )
            return Timed([result], started - queued, time.perf_counter() - started)

        timed: Timed = await self.worker.run(run)
        self._count(timed.value[0])
        return timed

    async def stream(self, job: GenerationJob) -> AsyncIterator[Step]:
        """Generate, yielding each token as it comes; stops generating when the consumer stops iterating.

        Args:
            job: What to generate.

        Yields:
            Steps; the last carries the whole generation.
        """

        def run(emit: Emit, cancel: threading.Event) -> None:
            generate(self.model, job, cancel, on_step=emit)

        async for item in self.worker.stream(run):
            if isinstance(item, Done):
                return
            self.metrics.add(f'easyllm_generated_tokens_total{{model="{self.config.name}"}}')
            if item.final is not None:
                self.metrics.add(f'tgi_request_success{{model="{self.config.name}"}}')
            yield item

    def _count(self, generation: Generation) -> None:
        name = self.config.name
        self.metrics.add(f'easyllm_generated_tokens_total{{model="{name}"}}', generation.generated_tokens)
        self.metrics.add(f'tgi_request_success{{model="{name}"}}')


class EmbeddingService:
    """A sentence-embedding model and its worker."""

    def __init__(self, config: ModelConfig, model: EmbeddingModel, metrics: Metrics) -> None:
        """Wrap a loaded model; call `worker.start()` before use.

        Args:
            config: The model's config.
            model: The loaded model.
            metrics: Where to count.
        """
        self.config = config
        self.model = model
        self.metrics = metrics
        self.worker = ModelWorker(config.name)

    async def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text (in the worker: the tokenizer is not shared across threads).

        Args:
            texts: The inputs.

        Returns:
            One count per text.
        """
        counts: list[int] = await self.worker.run(lambda emit, cancel: self.model.count_tokens(texts))
        return counts

    async def embed(self, texts: Sequence[str], *, normalize: bool, prompt_name: str | None) -> Timed:
        """Embed texts in order.

        Args:
            texts: The inputs.
            normalize: L2-normalise.
            prompt_name: A named prompt of the model.

        Returns:
            A `Timed` whose value is the (n, dim) float32 array.
        """
        queued = time.perf_counter()

        def run(emit: Emit, cancel: threading.Event) -> Timed:
            started = time.perf_counter()
            vectors: npt.NDArray[np.float32] = self.model.embed(texts, normalize=normalize, prompt_name=prompt_name)
            return Timed(vectors, started - queued, time.perf_counter() - started)

        timed: Timed = await self.worker.run(run)
        self.metrics.add(f'te_embed_success{{model="{self.config.name}"}}')
        return timed


Service = GenerationService | EmbeddingService

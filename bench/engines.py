"""Tokens per second of SmolLM2 on the server's two engines: llama.cpp (GGUF as is) and transformers (dequantized).

`python -m bench.engines [--tokens 128] [--runs 3] [--threads N]` loads the packaged SmolLM2-135M-Instruct GGUF file
on each engine the way `easyllm serve` does, then times the server's own token loop (`easyllm.serve.generation`)
on one chat prompt: greedy, exactly `--tokens` tokens (end tokens do not stop it, so every run does the same work),
after one warm-up run. It also times transformers' own `generate()` on the same weights for reference. Both
engines get the same number of CPU threads (default: all cores but one, the server's default). It prints the
median and the range of the runs; the machine may be shared, so compare medians taken in one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from easyllm.serve.config import ModelConfig
from easyllm.serve.demo import DEMO_MODELS
from easyllm.serve.engines.loading import load_generation_model
from easyllm.serve.generation import GenerationJob, generate
from easyllm.serve.params import ValidParams
from easyllm.serve.sampling import SamplingParams

PROMPT = [{"role": "user", "content": "Write a long story about a robot who learns to paint."}]


class _NoEnd:
    """A `TextModel` whose end tokens do not end generation (so every run makes the same number of tokens)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def is_end(self, token: int) -> bool:
        return False


def _time(run: Callable[[], int], runs: int) -> list[float]:
    run()  # warm-up
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        tokens = run()
        rates.append(tokens / (time.perf_counter() - started))
    return rates


def _loop(model: Any, ids: Sequence[int], tokens: int) -> Callable[[], int]:
    params = ValidParams(sampling=SamplingParams(), max_new_tokens=tokens)
    job = GenerationJob(list(ids), params, tokens)
    wrapped = _NoEnd(model)
    return lambda: generate(wrapped, job, threading.Event()).generated_tokens


def _hf_generate(model: Any, ids: Sequence[int], tokens: int) -> Callable[[], int]:
    import torch

    prompt = torch.tensor([list(ids)])
    hf = model._model  # the torch model inside the engine

    def run() -> int:
        with torch.inference_mode():
            out = hf.generate(
                prompt, attention_mask=torch.ones_like(prompt), do_sample=False, max_new_tokens=tokens,
                min_new_tokens=tokens,
            )  # fmt: skip
        return int(out.shape[1] - prompt.shape[1])

    return run


def main() -> None:
    """Run the measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 1) - 1))
    args = parser.parse_args()
    rows: list[tuple[str, list[float]]] = []
    for engine in ("llama.cpp", "transformers"):
        config = ModelConfig(name="smollm2", model="demo:smollm2", task="generation", engine=engine,
                             threads=args.threads)  # fmt: skip
        _, model = load_generation_model(config, DEMO_MODELS["smollm2"].path())
        from easyllm.serve.chat_template import render_chat

        prompt = render_chat(model.chat_template, PROMPT, bos_token=model.bos_token, eos_token=model.eos_token)
        ids = model.tokenize(prompt, add_special=False)
        rows.append((f"{engine}, server token loop", _time(_loop(model, ids, args.tokens), args.runs)))
        if engine == "transformers":
            rows.append(("transformers, its own generate()", _time(_hf_generate(model, ids, args.tokens), args.runs)))
        del model
    print(f"SmolLM2-135M-Instruct (Q4_1 GGUF), {args.tokens} greedy tokens, {len(ids)}-token prompt, "
          f"{args.threads} thread(s), {args.runs} runs after a warm-up\n")  # fmt: skip
    print("| engine | median tokens/s | range |\n|---|---|---|")
    for name, rates in rows:
        print(f"| {name} | {statistics.median(rates):.1f} | {min(rates):.1f}–{max(rates):.1f} |")


if __name__ == "__main__":
    main()

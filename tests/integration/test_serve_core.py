"""The server's pure pieces, without a model: sampling, incremental decoding, stops, the token loop, the worker."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from easyllm.serve.config import default_config
from easyllm.serve.decoding import PieceDecoder, StopMatcher, TokenDecoder
from easyllm.serve.engines.base import Step
from easyllm.serve.generation import Cancelled, GenerationJob, generate
from easyllm.serve.params import GenerateParameters, RequestValidationError, validate_parameters
from easyllm.serve.sampling import Sampler, SamplingParams, top_tokens
from easyllm.serve.worker import Done, ModelWorker

MODEL = default_config().models[0]
LOGITS = np.array([2.0, 1.0, 0.5, -1.0, 0.0])


def test_greedy_takes_the_argmax() -> None:
    choice = Sampler(SamplingParams(), []).choose(LOGITS)
    assert choice.token == 0
    assert choice.logprob == pytest.approx(2.0 - np.log(np.exp(LOGITS).sum()))


def test_seeded_sampling_is_reproducible_and_varies_with_the_seed() -> None:
    def draws(seed: int) -> list[int]:
        sampler = Sampler(SamplingParams(do_sample=True, temperature=3.0, seed=seed), [])
        return [sampler.choose(LOGITS).token for _ in range(30)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)


def test_top_k_one_is_certain_and_top_p_masks_the_tail() -> None:
    choice = Sampler(SamplingParams(top_k=1, seed=0), []).choose(LOGITS)
    assert (choice.token, choice.logprob) == (0, 0.0)
    nucleus = Sampler(SamplingParams(top_p=0.5, seed=0), []).choose(LOGITS)
    assert np.isinf(nucleus.logprobs[3])


def test_repetition_penalty_discourages_seen_tokens() -> None:
    assert Sampler(SamplingParams(repetition_penalty=10.0), [0]).choose(LOGITS).token == 1


def test_top_tokens_are_sorted() -> None:
    assert [i for i, _ in top_tokens(np.log(np.array([0.1, 0.5, 0.4])), 2)] == [1, 2]


def test_decoder_waits_for_a_whole_character() -> None:
    decoder = TokenDecoder()
    euro = "€".encode()
    assert [decoder.feed(euro[:1]), decoder.feed(euro[1:]), decoder.feed(b"!")] == ["", "€", "!"]


def test_stop_matcher_finds_stops_across_tokens() -> None:
    matcher = StopMatcher(["END", "x"])
    assert matcher.match("the E", 2) is None
    assert matcher.match("the EN", 1) is None
    assert matcher.match("the ENDING", 4) == "END"


class FakeModel:
    """A TextModel over a 5-token vocabulary that always prefers `favourite`; token 4 is the end token."""

    n_ctx = 64
    encoder_decoder = False

    def __init__(self, favourite: int) -> None:
        self.favourite = favourite
        self.steps = 0

    def text_decoder(self, prompt_ids: Sequence[int]) -> PieceDecoder:
        return PieceDecoder(self.piece)

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        return [1] * len(text)

    def piece(self, token: int) -> bytes:
        return ["a", "b", "c", "d", "</s>"][token].encode()

    def is_special(self, token: int) -> bool:
        return token == 4

    def is_end(self, token: int) -> bool:
        return token == 4

    def prefill(self, ids: Sequence[int], *, all_logits: bool) -> npt.NDArray[np.float32]:
        return np.stack([self._logits() for _ in (ids if all_logits else [0])])

    def step(self, token: int) -> npt.NDArray[np.float32]:
        self.steps += 1
        return self._logits()

    def _logits(self) -> npt.NDArray[np.float32]:
        logits = np.zeros(5, dtype=np.float32)
        logits[self.favourite] = 5.0
        return logits


def _job(max_new_tokens: int, **parameters: object) -> GenerationJob:
    params = validate_parameters(GenerateParameters.model_validate(parameters), MODEL, stream=False)
    return GenerationJob([1, 2], params, max_new_tokens)


def test_loop_finishes_on_length_eos_and_stop() -> None:
    steps: list[Step] = []
    length = generate(FakeModel(0), _job(3), threading.Event(), steps.append)
    assert (length.generated_text, length.finish_reason, length.generated_tokens) == ("aaa", "length", 3)
    assert [s.index for s in steps] == [1, 2, 3] and steps[-1].final is length and steps[0].final is None
    eos = generate(FakeModel(4), _job(3), threading.Event())
    assert (eos.generated_text, eos.finish_reason, eos.tokens[0].special) == ("", "eos_token", True)
    stop = generate(FakeModel(1), _job(9, stop=["bb"]), threading.Event())
    assert (stop.generated_text, stop.finish_reason) == ("bb", "stop_sequence")


def test_loop_reports_prefill_and_stops_when_cancelled() -> None:
    result = generate(FakeModel(0), _job(1, decoder_input_details=True), threading.Event())
    assert [t.logprob is None for t in result.prefill] == [True, False]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        generate(FakeModel(0), _job(3), cancel)


def test_parameters_follow_tgi_defaults() -> None:
    assert validate_parameters(None, MODEL, stream=False).sampling.sampling  # no `parameters`: sample
    assert not validate_parameters(GenerateParameters(), MODEL, stream=False).sampling.sampling
    with pytest.raises(RequestValidationError, match="`best_of` != 1 is not supported when streaming tokens"):
        validate_parameters(GenerateParameters(best_of=2, do_sample=True), MODEL, stream=True)


def test_worker_runs_jobs_in_order_off_the_loop() -> None:
    worker = ModelWorker("test")
    worker.start()

    def job(emit: object, cancel: threading.Event) -> str:
        assert callable(emit)
        emit(threading.current_thread().name)
        return "done"

    async def main() -> list[object]:
        return [item async for item in worker.stream(job)]

    try:
        assert asyncio.run(main()) == ["easyllm-serve-test", Done("done")]
    finally:
        worker.stop()


def test_importing_easyllm_and_the_serve_cli_loads_no_heavy_library() -> None:
    heavy = "{'torch', 'llama_cpp', 'sentence_transformers'}"
    code = f"import sys, easyllm, easyllm.serve.cli, easyllm.serve.app; print(sorted({heavy} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"

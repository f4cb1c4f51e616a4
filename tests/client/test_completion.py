"""Text completions through both shells."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai.types import Completion as OpenAICompletion

from easyllm import errors
from easyllm.clients import huggingface
from tests.client.fake_tgi import generate_body, reply, stream_reply, token_events


def complete(run: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("prompt", "The sky is")
    return run(huggingface.Completion, **kwargs)


def test_completion_shape_and_prompt_sent_as_given(make_runner: Any) -> None:
    run = make_runner(reply(json_body=generate_body(" blue.", tokens=2), headers={"x-prompt-tokens": "3"}))
    r = complete(run, echo=False, logprobs=False, stream=False)
    assert r.object == "text_completion" and r.id.startswith("cmpl-")
    assert r.choices[0].text == " blue." and r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == 5
    OpenAICompletion.model_validate(json.loads(json.dumps(r)))
    assert run.server.bodies()[0]["inputs"] == "The sky is"


def test_echo_prepends_the_prompt(make_runner: Any) -> None:
    run = make_runner(reply(json_body=generate_body(" blue.")))
    assert complete(run, echo=True).choices[0].text == "The sky is blue."


def test_logprobs_k_in_legacy_shape(make_runner: Any) -> None:
    run = make_runner(reply(json_body=generate_body(" blue.", token_list=[" blue", "."])))
    r = complete(run, logprobs=2, echo=True)
    lp = r.choices[0].logprobs
    assert lp.tokens == [" blue", "."] and lp.token_logprobs == [-0.25, -0.25]
    assert lp.top_logprobs[0] == {" blue": -0.25, "x": -3.0}
    assert lp.text_offset == [10, 15]
    assert run.server.bodies()[0]["parameters"]["top_n_tokens"] == 2
    OpenAICompletion.model_validate(json.loads(json.dumps(r)))


def test_logprobs_stop_at_the_trimmed_text(make_runner: Any) -> None:
    run = make_runner(reply(json_body=generate_body(" blue.##", token_list=[" blue", ".", "##"])))
    lp = complete(run, logprobs=1, stop="##").choices[0].logprobs
    assert lp.tokens == [" blue", "."]


def test_completion_stream_chunks(make_runner: Any) -> None:
    run = make_runner(stream_reply(token_events([" bl", "ue"], finish="length", eos=None)))
    chunks = complete(run, stream=True, echo=True)
    assert "".join(c.choices[0].text for c in chunks) == "The sky is blue"
    assert chunks[-1].choices[0].finish_reason == "length"
    assert all(c.object == "text_completion" for c in chunks)
    # OpenAI itself streams `finish_reason: null` until the last chunk, which its strict type does not allow;
    # the final chunk validates.
    OpenAICompletion.model_validate(json.loads(json.dumps(chunks[-1])))


@pytest.mark.parametrize("prompt", ["", None, 5, ["a", "b"]])
def test_bad_prompt_is_refused_before_sending(make_runner: Any, prompt: Any) -> None:
    run = make_runner(reply(json_body=generate_body("x")))
    with pytest.raises(errors.InvalidParameterError, match="`prompt`"):
        complete(run, prompt=prompt)
    assert run.server.requests == []


def test_streamed_logprobs_carry_running_text_offsets(make_runner: Any) -> None:
    run = make_runner(stream_reply(token_events([" bl", "ue", "."], finish="length", eos=None)))
    chunks = complete(run, stream=True, echo=True, logprobs=1)
    offsets = [o for c in chunks if c.choices[0].logprobs for o in c.choices[0].logprobs.text_offset]
    assert offsets == [10, 13, 15]  # after the 10-character prompt, as in the non-stream answer

"""OpenAI parameters become what TGI accepts; bad input is refused before any request."""

from __future__ import annotations

from typing import Any

import pytest

from easyllm import errors
from easyllm.clients import huggingface
from tests.client.fake_tgi import generate_body, reply
from tests.client.test_chat import MESSAGES, chat


def params_sent(run: Any, **kwargs: Any) -> dict[str, Any]:
    chat(run, **kwargs)
    return dict(run.server.bodies()[-1]["parameters"])


@pytest.fixture
def run(make_runner: Any) -> Any:
    return make_runner(reply(json_body=generate_body("ok")))


def test_default_is_sampling_at_temperature_one(run: Any) -> None:
    params = params_sent(run)
    assert params["do_sample"] is True and "temperature" not in params and "top_p" not in params
    assert isinstance(params["seed"], int)


def test_temperature_zero_is_greedy_and_drops_sampling_knobs(run: Any) -> None:
    params = params_sent(run, temperature=0, top_p=0.5, top_k=5)
    assert params["do_sample"] is False
    assert not {"temperature", "top_p", "top_k", "seed"} & params.keys()


def test_top_p_one_means_no_nucleus_filtering(run: Any) -> None:
    params = params_sent(run, top_p=1.0, temperature=0.7)
    assert "top_p" not in params and params["temperature"] == 0.7 and params["do_sample"] is True


def test_top_p_inside_range_is_sent(run: Any) -> None:
    assert params_sent(run, top_p=0.9)["top_p"] == 0.9


def test_frequency_penalty_goes_to_its_own_field_never_repetition(run: Any) -> None:
    params = params_sent(run, frequency_penalty=0.5)
    assert params["frequency_penalty"] == 0.5 and "repetition_penalty" not in params


def test_seed_is_honoured(run: Any) -> None:
    assert params_sent(run, seed=1234, temperature=0.5)["seed"] == 1234


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": -1}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": "10"}, "max_tokens"),
        ({"n": 0}, "n"),
        ({"frequency_penalty": 3}, "frequency_penalty"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"stop": [1, 2]}, "stop"),
        ({"top_logprobs": 9}, "top_logprobs"),
        ({"bogus_option": 1}, "bogus_option"),
        ({"messages": "Hi"}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": ["hello"]}, "messages[0]"),
        ({"timeout": -1}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"api_base": "not a url"}, "api_base"),
    ],
)
def test_bad_input_is_refused_before_sending(run: Any, kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(errors.InvalidParameterError) as info:
        chat(run, **kwargs)
    assert info.value.param == param
    assert f"`{param}`" in str(info.value)
    assert run.server.requests == []
    # the openai<1 name catches it too
    assert isinstance(info.value, huggingface.error.InvalidRequestError)


def test_text_parts_and_developer_role_are_accepted(run: Any) -> None:
    messages = [{"role": "developer", "content": "Rules"}, {"role": "user", "content": [{"type": "text", "text": "A"}]}]
    chat(run, messages=messages)
    assert run.server.bodies()[0]["inputs"] == "<system>Rules<user>A<assistant>"


def test_registered_format_name_builds_the_prompt_and_adds_its_stops(run: Any) -> None:
    chat(run, prompt_builder="chatml")
    body = run.server.bodies()[0]
    assert body["inputs"].startswith("<|im_start|>system\nBe brief.<|im_end|>")
    assert body["inputs"].endswith("<|im_start|>assistant\n")
    assert "<|im_end|>" in body["parameters"]["stop"]


def test_prompt_builder_from_environment(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUGGINGFACE_PROMPT", "chatml")
    run(huggingface.ChatCompletion, messages=MESSAGES)
    assert run.server.bodies()[0]["inputs"].startswith("<|im_start|>")


def test_leading_bos_is_removed_for_tgi_native_routes(run: Any) -> None:
    chat(run, prompt_builder="llama2")
    prompt = run.server.bodies()[0]["inputs"]
    assert prompt.startswith("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]")


def test_unknown_format_name_lists_known_ones(run: Any) -> None:
    with pytest.raises(errors.InvalidRequestError) as info:
        chat(run, prompt_builder="no-such-format")
    assert "chatml" in str(info.value) and "llama2" in str(info.value)
    assert run.server.requests == []

"""transformers models from a config in the config.yaml model-server format, end to end.

One server runs the format's three example models in tiny forms (built at test time, see `tiny_hf_models`) plus
SmolLM2 (the packaged GGUF file, dequantized by transformers): a GPT-2-style generator from a local folder, a
T5-style translator, and a Phi-style generator with `temperature: 0` found by its Hub id in a Hugging Face cache
laid out in a temporary folder. Nothing is downloaded.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from threading import Event
from typing import Any

import httpx
import jsonschema
import pytest

import easyllm
from easyllm import transport
from easyllm.clients import huggingface
from easyllm.serve.config import ModelConfig
from easyllm.serve.demo import DEMO_MODELS
from easyllm.serve.engines.loading import ModelLoadError, load_generation_model
from easyllm.serve.generation import GenerationJob, generate
from easyllm.serve.params import GenerateParameters, validate_parameters
from easyllm.serve.testing import ServerStartError, running_server
from tests.integration.tiny_hf_models import build_byte_t5, build_gpt2, build_phi, build_t5

pytestmark = pytest.mark.integration

SNAPSHOT = "0123456789abcdef0123456789abcdef01234567"

CONFIG = """\
- name: gpt2-model
  type: huggingface
  description: GPT-2 text generation model
  endpoint: models/gpt2/generate
  hf_model_name: "gpt2"
  hf_task: "generation"
  hf_generation_kwargs:
    max_length: 100
    temperature: 0.7
    top_p: 0.9
  tags: [huggingface, text-generation]

- name: t5-translator
  type: huggingface
  description: T5 translation model
  endpoint: models/t5/translate
  hf_model_name: "t5-small"
  hf_task: "seq2seq"
  hf_generation_kwargs:
    max_length: 50

- name: phi2-generate
  type: huggingface
  description: Microsoft's Phi-2 small language model
  endpoint: models/phi2/generate
  hf_model_name: "microsoft/phi-2"
  hf_task: "generation"
  hf_generation_kwargs:
    max_length: 200
    temperature: 0
    top_p: 0.9
    do_sample: true
  options:
    debug: true

- name: smollm2
  type: huggingface
  endpoint: models/smollm2/generate
  hf_model_name: "{smollm2}"
  hf_generation_kwargs:
    max_new_tokens: 12
"""


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three tiny models, once per session: `gpt2/`, `t5-small/`, and `microsoft/phi-2` in `hub/`."""
    root = tmp_path_factory.mktemp("tiny-hf")
    build_gpt2(_mkdir(root / "gpt2"))
    build_t5(_mkdir(root / "t5-small"))
    phi = build_phi(_mkdir(root / "phi-2"))
    repo = root / "hub" / "models--microsoft--phi-2"
    shutil.copytree(phi, repo / "snapshots" / SNAPSHOT)
    _mkdir(repo / "refs").joinpath("main").write_text(SNAPSHOT)
    return root


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def url(tiny_models: Path) -> Iterator[str]:
    config = tiny_models / "config.yaml"
    config.write_text(CONFIG.replace("{smollm2}", str(DEMO_MODELS["smollm2"].path())))
    with running_server(config, env={"HF_HUB_CACHE": str(tiny_models / "hub")}) as base_url:
        yield base_url


def _post(url: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, timeout=120)


def _answer(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["response"]
    return data


# ---------------------------------------------------------------- the format's own route


def test_generation_route_with_overrides(url: str) -> None:
    body = {"text": "Once upon a time", "generation_params": {"max_length": 30, "temperature": 0.7}}
    response = _post(url, "/models/gpt2/generate", body)
    answer = _answer(response)
    assert answer["model_info"] == {"model_name": "gpt2", "task": "generation"}
    assert answer["generated_text"].startswith("Once upon a time")
    prompt, generated = int(response.headers["x-prompt-tokens"]), int(response.headers["x-generated-tokens"])
    assert prompt + generated == 30  # max_length counts the prompt; the request's value beats the config's 100
    assert _answer(_post(url, "/models/gpt2/generate", body)) == answer  # no do_sample: greedy, as transformers


def test_config_defaults_apply_and_max_new_tokens_wins(url: str) -> None:
    default = _post(url, "/models/gpt2/generate", {"text": "Once upon a time"})
    assert int(default.headers["x-prompt-tokens"]) + int(default.headers["x-generated-tokens"]) == 100
    asked = _post(
        url, "/models/gpt2/generate", {"text": "Once upon a time", "generation_params": {"max_new_tokens": 5}}
    )
    assert asked.headers["x-generated-tokens"] == "5"


def test_sampling_follows_do_sample_and_the_seed(url: str) -> None:
    params = {"max_new_tokens": 12, "do_sample": True, "temperature": 1.5, "seed": 7}
    first = _answer(_post(url, "/models/gpt2/generate", {"text": "Hello", "generation_params": params}))
    again = _answer(_post(url, "/models/gpt2/generate", {"text": "Hello", "generation_params": params}))
    other = _answer(_post(url, "/models/gpt2/generate", {"text": "Hello", "generation_params": {**params, "seed": 8}}))
    assert first == again
    assert other != first


def test_temperature_zero_is_greedy_even_with_do_sample(url: str) -> None:
    body = {"text": "Write a short story about a robot:", "generation_params": {"max_length": 40}}
    first = _answer(_post(url, "/models/phi2/generate", body))
    assert first["model_info"] == {"model_name": "microsoft/phi-2", "task": "generation"}
    assert all(_answer(_post(url, "/models/phi2/generate", body)) == first for _ in range(2))


def test_seq2seq_route_answers_the_output_alone(url: str) -> None:
    response = _post(url, "/models/t5/translate", {"text": "translate English to German: Hello, how are you?"})
    answer = _answer(response)
    assert answer["model_info"] == {"model_name": "t5-small", "task": "seq2seq"}
    assert answer["generated_text"] and not answer["generated_text"].startswith("translate")
    assert 0 < int(response.headers["x-generated-tokens"]) <= 49  # max_length 50 counts the decoder start token


def test_beam_search_runs_in_transformers(url: str) -> None:
    body = {"text": "Hello, how are you?", "generation_params": {"num_beams": 3, "max_new_tokens": 6}}
    answer = _answer(_post(url, "/models/t5/translate", body))
    assert answer["generated_text"]
    causal = _post(
        url, "/models/gpt2/generate", {"text": "Hello", "generation_params": {"num_beams": 2, "max_length": 9}}
    )
    assert _answer(causal)["generated_text"].startswith("Hello")
    assert int(causal.headers["x-prompt-tokens"]) + int(causal.headers["x-generated-tokens"]) == 9


def test_stop_strings_end_generation(url: str) -> None:
    free = _answer(_post(url, "/models/gpt2/generate", {"text": "Hello", "generation_params": {"max_new_tokens": 8}}))
    continuation = free["generated_text"].removeprefix("Hello")
    stop = continuation[2:4]
    body = {"text": "Hello", "generation_params": {"max_new_tokens": 8, "stop_strings": stop}}
    response = _post(url, "/models/gpt2/generate", body)
    assert response.headers["x-finish-reason"] == "stop_sequence"
    text = _answer(response)["generated_text"]
    assert text.endswith(stop) and free["generated_text"].startswith(text)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "text"]),
        ({"text": ""}, ["body", "text"]),
        ({"text": "Hi", "generation_params": {"top_p": 1.5}}, ["body", "generation_params", "top_p"]),
        ({"text": "Hi", "generation_params": {"max_lenght": 5}}, ["body", "generation_params", "max_lenght"]),
        ({"text": "Hi", "generation_params": {"temperature": "hot"}}, ["body", "generation_params", "temperature"]),
        ({"text": "Once upon a time", "generation_params": {"max_length": 3}},
         ["body", "generation_params", "max_length"]),
        ({"text": "Hi", "generation_params": {"max_new_tokens": 500}}, ["body", "generation_params", "max_new_tokens"]),
        ({"text": "Hi", "prompt": "x"}, ["body", "prompt"]),
    ],
)  # fmt: skip
def test_bad_bodies_get_422_naming_the_field(url: str, body: dict[str, Any], loc: list[str]) -> None:
    response = _post(url, "/models/gpt2/generate", body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == loc and error["msg"]


def test_not_json_is_422(url: str) -> None:
    response = httpx.post(f"{url}/models/gpt2/generate", content=b"{text", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


# ---------------------------------------------------------------- the same models on the other routes


def test_tgi_stream_of_a_transformers_model(url: str) -> None:
    body = {"inputs": "Once upon a time", "parameters": {"max_new_tokens": 6, "details": True}}
    with httpx.stream("POST", f"{url}/models/gpt2-model/generate_stream", json=body, timeout=60) as response:
        assert response.status_code == 200
        events = [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:")]
    assert [e["index"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[-1]["generated_text"] == "".join(e["token"]["text"] for e in events)
    assert events[-1]["details"]["finish_reason"] == "length"
    whole = _post(url, "/models/gpt2-model/generate", {**body, "parameters": {"max_new_tokens": 6}}).json()
    assert whole["generated_text"] == events[-1]["generated_text"]  # the same greedy tokens, streamed or not


def test_tgi_stream_of_a_seq2seq_model(url: str) -> None:
    body = {"inputs": "translate English to German: The house is small.", "parameters": {"max_new_tokens": 5}}
    with httpx.stream("POST", f"{url}/models/t5-translator/generate_stream", json=body, timeout=60) as response:
        events = [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:")]
    assert len(events) == 5
    compat = _post(url, "/models/t5-translator", {"inputs": body["inputs"], "parameters": {"max_new_tokens": 5}})
    assert compat.json() == [{"generated_text": events[-1]["generated_text"]}]  # no prompt echo for seq2seq


def test_details_logprobs_and_prefill(url: str) -> None:
    params = {"max_new_tokens": 4, "details": True, "decoder_input_details": True, "top_n_tokens": 2}
    causal = _post(url, "/models/phi2-generate/generate", {"inputs": "Hello there", "parameters": params}).json()
    details = causal["details"]
    assert details["prefill"][0]["logprob"] is None and all(t["logprob"] < 0 for t in details["prefill"][1:])
    assert all(t["logprob"] <= 0 for t in details["tokens"]) and len(details["top_tokens"][0]) == 2
    seq2seq = _post(url, "/models/t5-translator/generate", {"inputs": "Hello", "parameters": params}).json()
    assert all(t["logprob"] is None for t in seq2seq["details"]["prefill"])  # encoded, not predicted
    assert httpx.get(f"{url}/models/t5-translator/info").json()["model_pipeline_tag"] == "text2text-generation"


def test_chat_uses_the_template_and_seq2seq_refuses_it(url: str) -> None:
    messages = [{"role": "user", "content": "Hello"}]
    chat = _post(url, "/models/phi2-generate/v1/chat/completions", {"messages": messages, "max_tokens": 3})
    assert chat.status_code == 200 and chat.json()["usage"]["completion_tokens"] == 3
    refused = _post(url, "/models/t5-translator/v1/chat/completions", {"messages": messages, "max_tokens": 3})
    assert refused.status_code == 422
    assert "seq2seq (encoder-decoder) model without a chat template" in refused.json()["error"]


PICK = {
    "type": "object",
    "properties": {"colour": {"enum": ["red", "green"]}, "n": {"type": "integer", "minimum": 0, "maximum": 9}},
    "required": ["colour", "n"],
    "additionalProperties": False,
}


def test_random_models_answer_json_held_to_the_schema(url: str) -> None:
    """The tiny models are random: their answers are valid only because llguidance masks every step's logits."""
    messages = [{"role": "user", "content": "Pick."}]
    fmt = {"type": "json_schema", "json_schema": {"name": "pick", "schema": PICK}}
    chat = _post(url, "/models/phi2-generate/v1/chat/completions",
                 {"messages": messages, "max_tokens": 60, "response_format": fmt})  # fmt: skip
    assert chat.status_code == 200, chat.text
    assert chat.json()["choices"][0]["finish_reason"] == "stop"
    jsonschema.validate(json.loads(chat.json()["choices"][0]["message"]["content"]), PICK)
    grammar = {"max_new_tokens": 60, "grammar": {"type": "json", "value": PICK}, "details": True}
    native = _post(url, "/models/gpt2-model/generate", {"inputs": "Pick.", "parameters": grammar}).json()
    assert native["details"]["finish_reason"] == "eos_token", native
    jsonschema.validate(json.loads(native["generated_text"]), PICK)
    # the tiny T5's vocabulary (a Unigram model trained on plain prose) has no "{": said, not worked around
    t5 = _post(url, "/models/t5-translator/generate", {"inputs": "Pick.", "parameters": grammar})
    assert t5.status_code == 424 and "vocabulary cannot write what the grammar needs next" in t5.json()["error"]


def test_a_seq2seq_models_decoder_is_held_to_the_schema(tmp_path: Path) -> None:
    """In-process: each decoder step of an encoder-decoder model is masked (the tiny T5 above cannot spell `{`)."""
    config, model = load_generation_model(
        ModelConfig(name="t5b", model=str(tmp_path), task="seq2seq"), build_byte_t5(tmp_path / "t5b")
    )
    for seed in (1, 2, 3):
        parameters = {"max_new_tokens": 60, "do_sample": True, "seed": seed, "grammar": {"type": "json", "value": PICK}}
        params = validate_parameters(GenerateParameters.model_validate(parameters), config, stream=False)
        result = generate(model, GenerationJob(model.tokenize("Pick.", add_special=True), params, 60), Event())
        assert result.finish_reason == "eos_token", result.generated_text
        jsonschema.validate(json.loads(result.generated_text), PICK)


def test_random_models_call_tools(url: str) -> None:
    messages = [{"role": "user", "content": "Pick."}]
    small = {"type": "object", "properties": {"n": {"enum": [1, 2]}}, "required": ["n"], "additionalProperties": False}
    tools = [{"type": "function", "function": {"name": "pick", "parameters": small}}]
    r = _post(url, "/models/phi2-generate/v1/chat/completions",
              {"messages": messages, "max_tokens": 40, "tools": tools, "tool_choice": "required"})  # fmt: skip
    assert r.status_code == 200, r.text
    choice = r.json()["choices"][0]
    (call,) = choice["message"]["tool_calls"]
    assert choice["finish_reason"] == "tool_calls" and call["function"]["name"] == "pick"
    jsonschema.validate(json.loads(call["function"]["arguments"]), small)
    listed = {m["id"]: m["capabilities"] for m in httpx.get(f"{url}/v1/models", timeout=60).json()["data"]}
    assert listed["phi2-generate"]["tools"] is True and listed["t5-translator"]["tools"] is False  # no template


def test_models_are_listed_with_description_and_tags(url: str) -> None:
    data = httpx.get(f"{url}/v1/models").json()["data"]
    assert [m["id"] for m in data] == ["gpt2-model", "t5-translator", "phi2-generate", "smollm2"]
    assert data[0]["description"] == "GPT-2 text generation model"
    assert data[0]["tags"] == ["huggingface", "text-generation"]


def test_smollm2_gguf_runs_on_transformers(url: str) -> None:
    question = [{"role": "user", "content": "What is the capital of France?"}]
    body = {"messages": question, "max_tokens": 12, "temperature": 0}
    chat = _post(url, "/models/smollm2/v1/chat/completions", body).json()
    assert "Paris" in chat["choices"][0]["message"]["content"]
    answer = _answer(_post(url, "/models/smollm2/generate", {"text": "The capital of France is"}))
    assert answer["generated_text"].startswith("The capital of France is")


# ---------------------------------------------------------------- easyllm's clients


def test_the_client_reaches_every_model(url: str) -> None:
    with easyllm.HuggingFace(base_url=f"{url}/models") as client:
        translated = client.completions.create(model="t5-translator", prompt="Hello", max_tokens=5, temperature=0)
        generated = client.completions.create(model="gpt2-model", prompt="Hello", max_tokens=5, temperature=0)
        chat = client.chat.completions.create(
            model="phi2-generate", messages=[{"role": "user", "content": "Hi"}], max_tokens=3, temperature=0
        )
    tgi = _post(url, "/models/t5-translator/generate", {"inputs": "Hello", "parameters": {"max_new_tokens": 5}})
    assert translated.choices[0].text == tgi.json()["generated_text"]
    assert generated.choices[0].text and generated.usage.completion_tokens == 5
    assert chat.choices[0].message.content is not None and chat.usage.completion_tokens == 3


def test_the_module_facade_reaches_a_seq2seq_model(url: str) -> None:
    try:
        result = huggingface.Completion.create(
            model="t5-translator", api_base=f"{url}/models", prompt="Hello", max_tokens=5, temperature=0
        )
    finally:
        transport.close_pools()
    tgi = _post(url, "/models/t5-translator/generate", {"inputs": "Hello", "parameters": {"max_new_tokens": 5}})
    assert result.choices[0].text == tgi.json()["generated_text"]


# ---------------------------------------------------------------- start-up failures


def test_a_model_that_fails_to_load_is_named(tiny_models: Path, tmp_path: Path) -> None:
    # In-process: the server loads every model before it listens, so this error is a failed start (as in
    # test_serve_multi), with this message.
    broken = shutil.copytree(tiny_models / "gpt2", tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"not weights")
    config = ModelConfig(name="bad", model=str(broken), task="generation")
    with pytest.raises(ModelLoadError, match=f"model 'bad': transformers could not load {re.escape(str(broken))}: "):
        load_generation_model(config, broken)
    too_long = ModelConfig(name="long", model=str(tiny_models / "gpt2"), task="generation", max_total_tokens=4096)
    with pytest.raises(ModelLoadError, match="model 'long': max_total_tokens 4096 exceeds the model's 128 positions"):
        load_generation_model(too_long, tiny_models / "gpt2")
    default, _ = load_generation_model(ModelConfig(name="d", model="x", task="generation"), tiny_models / "gpt2")
    assert default.max_total_tokens == 128  # the default (2048) follows the model's positions


def test_a_hub_id_missing_from_the_cache_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("- name: x\n  type: huggingface\n  endpoint: x\n  hf_model_name: org/not-cached\n")
    expected = re.escape("line 4: [0].hf_model_name: 'org/not-cached' is neither")
    env = {"HF_HUB_CACHE": str(tmp_path / "empty-cache")}
    with pytest.raises(ServerStartError, match=expected), running_server(config, env=env):
        pass

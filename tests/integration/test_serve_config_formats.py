"""The config.yaml model-server format, engines and Hub ids: checked before anything loads, problems with lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from easyllm.serve.config import ConfigError, ModelConfig
from easyllm.serve.config_file import load_config, parse_config
from easyllm.serve.hf_generation import FieldError, model_defaults, plan
from easyllm.serve.hf_kwargs import HFGenerationKwargs
from easyllm.serve.model_server_format import is_model_server_list

EXAMPLE = """\
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
- name: t5-translator
  type: huggingface
  endpoint: models/t5/translate
  hf_model_name: "t5-small"
  hf_task: "seq2seq"
  hf_generation_kwargs:
    max_length: 50
- name: phi2-generate
  type: huggingface
  endpoint: /models/phi2/generate
  hf_model_name: "microsoft/phi-2"
  hf_generation_kwargs:
    max_length: 200
    temperature: 0
    top_p: 0.9
    do_sample: true
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="config.yaml")
    return [line.strip() for line in str(caught.value).splitlines()[1:]]


def test_the_example_file_is_read_as_is() -> None:
    config = parse_config(EXAMPLE)
    gpt2, t5, phi = config.models
    assert (gpt2.name, gpt2.model, gpt2.task, gpt2.engine_name) == ("gpt2-model", "gpt2", "generation", "transformers")
    assert gpt2.pipeline is not None and gpt2.pipeline.endpoint == "/models/gpt2/generate"
    assert gpt2.pipeline.generation_kwargs == HFGenerationKwargs(max_length=100, temperature=0.7, top_p=0.9)
    assert gpt2.description == "GPT-2 text generation model" and gpt2.served_model_id == "gpt2"
    assert t5.task == "seq2seq" and t5.parameters.max_new_tokens == 49  # TGI routes: max_length less the start token
    assert phi.pipeline is not None and phi.pipeline.endpoint == "/models/phi2/generate"
    assert phi.parameters.do_sample is False and phi.parameters.temperature is None  # temperature 0: greedy
    assert gpt2.parameters.do_sample is False and gpt2.parameters.top_p is None  # no do_sample: greedy


def test_the_shape_tells_the_format() -> None:
    assert is_model_server_list([{"name": "a", "type": "huggingface"}])
    assert is_model_server_list([{"name": "a", "hf_model_name": "gpt2"}])
    assert not is_model_server_list([{"name": "a", "model": "demo:smollm2", "task": "generation"}])
    assert not is_model_server_list({"models": [{"type": "huggingface"}]})


def test_unknown_keys_are_reported_with_their_lines() -> None:
    text = (
        EXAMPLE.replace('  hf_task: "seq2seq"', '  hf_tsk: "seq2seq"').replace(
            "    max_length: 50", "    max_lenght: 50"
        )
        + "  options:\n    verbose: true\n"
    )
    problems = _problems(text)
    assert problems[0].startswith(
        "line 15: [1].hf_tsk: unknown key in the config.yaml model-server format; known keys:"
    )
    assert problems[1] == (
        "line 17: [1].hf_generation_kwargs.max_lenght: unknown generation argument; this server honours: "
        "max_length, max_new_tokens, do_sample, temperature, top_k, top_p, typical_p, repetition_penalty, "
        "num_beams, stop_strings, seed"
    )
    assert (
        problems[2]
        == "line 28: [2].options.verbose: unknown key in the config.yaml model-server format; known keys: debug"
    )


def test_types_that_run_python_code_are_refused() -> None:
    text = (
        "- name: chain\n  type: langchain\n  module_path: .\n  callable: app.chain\n  endpoint: chain\n"
        "- name: gen\n  type: huggingface\n  endpoint: gen\n  hf_model_name: gpt2\n  callable: x\n"
        "- name: bad\n  type: huggingface\n  endpoint: bad\n  hf_model_name: gpt2\n  hf_task: translation\n"
    )
    problems = _problems(text)
    assert problems[0].startswith("line 2: [0].type: type 'langchain' runs Python code")
    assert problems[1] == "line 6: [1]: `callable` belongs to types 'langchain' and 'custom', not to type 'huggingface'"
    assert problems[2].startswith("line 15: [2].hf_task: must be one of 'generation', 'text-generation', 'seq2seq'")


def test_bad_values_and_clashing_endpoints() -> None:
    text = EXAMPLE.replace("    top_p: 0.9\n- name: t5", "    top_p: 1.9\n- name: t5")
    assert _problems(text) == ["line 10: [0].hf_generation_kwargs.top_p: Input should be less than or equal to 1"]
    clash = EXAMPLE.replace("models/t5/translate", "models/gpt2/generate")
    assert _problems(clash) == [
        "line 1: config: models[].pipeline.endpoint must be unique; repeated: /models/gpt2/generate"
    ]


def test_hub_ids_come_from_the_local_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    snapshot = tmp_path / "hub" / "models--microsoft--phi-2" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("a" * 40)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    (tmp_path / "gpt2").mkdir()
    (tmp_path / "gpt2" / "config.json").write_text("{}")
    config = tmp_path / "config.yaml"
    config.write_text(EXAMPLE)
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    [problem] = str(caught.value).splitlines()[1:]
    assert problem.strip().startswith(
        f"line 14: [1].hf_model_name: 't5-small' is neither a local file or folder ({tmp_path / 't5-small'}) nor a "
        f"model in the local Hugging Face cache ({tmp_path / 'hub'}); the server does not download"
    )
    (tmp_path / "t5-small").mkdir()
    (tmp_path / "t5-small" / "config.json").write_text("{}")
    _, models = load_config(config)
    assert [m.path for m in models] == [tmp_path / "gpt2", tmp_path / "t5-small", snapshot]


def test_engines_fit_files_and_tasks(tmp_path: Path) -> None:
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    (tmp_path / "folder").mkdir()
    config = tmp_path / "models.yaml"
    config.write_text(
        "- {name: a, model: model.gguf, task: generation, engine: transformers}\n"
        "- {name: b, model: folder, task: generation, engine: llama.cpp}\n"
        "- {name: c, model: folder, task: generation, model_kwargs: {gguf_file: x.gguf}}\n"
        "- {name: d, model: demo:all-minilm-l6-v2, task: embedding, engine: transformers}\n"
        "- {name: e, model: model.gguf, task: generation, device: tpu}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    message = str(caught.value)
    assert "line 4: models[3]: `engine` applies to generation and seq2seq models, not to task 'embedding'" in message
    assert "line 5: models[4]: `model_kwargs` and `device` apply to engine 'transformers' only" in message
    config.write_text(
        "- {name: a, model: model.gguf, task: generation, engine: transformers}\n"
        "- {name: b, model: folder, task: generation, engine: llama.cpp}\n"
        "- {name: c, model: folder, task: generation, model_kwargs: {gguf_file: x.gguf}}\n"
        "- {name: e, model: model.gguf, task: generation, engine: transformers, device: 'cuda:3'}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    problems = [line.strip() for line in str(caught.value).splitlines()[1:]]
    assert problems == [
        "line 2: models[1].model: the llama.cpp engine needs a .gguf file; a Hugging Face model folder runs with "
        "`engine: transformers`",
        f"line 3: models[2].model: model_kwargs.gguf_file: no such file in {tmp_path / 'folder'}: x.gguf",
        f"line 4: models[3].device: device 'cuda:3' is not available here (torch {_torch_version()}); use cpu",
    ]


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


# ---------------------------------------------------------------- transformers' generation semantics


def _model(kwargs: dict[str, object], **extra: object) -> ModelConfig:
    return ModelConfig.model_validate(
        {"name": "m", "model": "m", "task": "generation", "pipeline": {"endpoint": "m", "generation_kwargs": kwargs},
         **extra}
    )  # fmt: skip


def test_max_length_counts_the_prompt_of_a_causal_lm_and_the_start_token_of_seq2seq() -> None:
    model = _model({"max_length": 100})
    assert (
        plan(HFGenerationKwargs(), model, [1] * 8, generation_config=None, encoder_decoder=False).job.max_new_tokens
        == 92
    )
    seq2seq = plan(HFGenerationKwargs(), model, [1] * 8, generation_config=None, encoder_decoder=True)
    assert seq2seq.job.max_new_tokens == 99


def test_the_nearest_layer_sets_the_limit() -> None:
    model = _model({"max_new_tokens": 10})
    asked = plan(HFGenerationKwargs(max_length=20), model, [1] * 5, generation_config=None, encoder_decoder=False)
    assert asked.job.max_new_tokens == 15  # the request's max_length beats the config's max_new_tokens
    both = plan(HFGenerationKwargs(max_length=20, max_new_tokens=3), model, [1] * 5, generation_config=None,
                encoder_decoder=False)  # fmt: skip
    assert both.job.max_new_tokens == 3
    default = plan(HFGenerationKwargs(), _model({}), [1] * 5, generation_config=None, encoder_decoder=False)
    assert default.job.max_new_tokens == 15  # transformers' max_length 20


def test_sampling_only_with_do_sample_and_a_positive_temperature() -> None:
    model = _model({"temperature": 0.7, "top_p": 0.9})
    greedy = plan(HFGenerationKwargs(), model, [1], generation_config=None, encoder_decoder=False).job.params.sampling
    assert not greedy.sampling and greedy.seed is None
    drawn = plan(HFGenerationKwargs(do_sample=True, seed=3), model, [1], generation_config=None, encoder_decoder=False)
    sampling = drawn.job.params.sampling
    assert (sampling.temperature, sampling.top_p, sampling.top_k, sampling.seed) == (0.7, 0.9, 50, 3)
    zero = plan(HFGenerationKwargs(do_sample=True, temperature=0), model, [1], generation_config=None,
                encoder_decoder=False)  # fmt: skip
    assert not zero.job.params.sampling.sampling


def test_the_models_generation_config_is_the_bottom_layer() -> None:
    class Own:  # the shape of transformers' GenerationConfig, for the keys read
        max_length, max_new_tokens, do_sample, temperature, top_k = 20, 7, True, 0.5, 0
        top_p, typical_p, repetition_penalty, num_beams = 2.0, None, 1.3, 1  # top_p 2.0 is out of range: ignored

    defaults = model_defaults(Own())
    assert (defaults.max_new_tokens, defaults.max_length, defaults.do_sample, defaults.top_p) == (7, None, True, 1.0)
    chosen = plan(HFGenerationKwargs(), _model({}), [1, 2], generation_config=Own(), encoder_decoder=False)
    assert chosen.job.max_new_tokens == 7 and chosen.job.params.sampling.repetition_penalty == 1.3


def test_limits_that_cannot_be_met_name_their_field() -> None:
    with pytest.raises(FieldError) as caught:
        plan(HFGenerationKwargs(), _model({"max_length": 4}), [1] * 6, generation_config=None, encoder_decoder=False)
    assert caught.value.loc == ("generation_params", "max_length")
    assert "max_length 4 (the config's default) leaves no room" in caught.value.message
    with pytest.raises(FieldError) as caught:
        plan(HFGenerationKwargs(max_new_tokens=50), _model({}, max_total_tokens=20), [1] * 6, generation_config=None,
             encoder_decoder=False)  # fmt: skip
    assert caught.value.loc == ("generation_params", "max_new_tokens")
    beams = plan(HFGenerationKwargs(num_beams=4), _model({}), [1], generation_config=None, encoder_decoder=False)
    assert beams.num_beams == 4 and beams.generate_kwargs == {"do_sample": False, "repetition_penalty": 1.0}

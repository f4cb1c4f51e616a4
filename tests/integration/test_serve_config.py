"""Config validation: every problem names its field and line; nothing needs a model loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from easyllm.serve.config import ConfigError, default_config
from easyllm.serve.config_file import load_config, parse_config, resolve_models


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="models.yaml")
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("models.yaml: ")
    return [line.strip() for line in lines[1:]]


def test_wrong_task_names_field_and_line() -> None:
    text = "models:\n  - name: a\n    model: demo:smollm2\n    task: translation\n"
    assert _problems(text) == [
        "line 4: models[0].task: Input should be 'generation', 'seq2seq', 'embedding', 'rerank' or 'classification'"
    ]


def test_seq2seq_needs_the_transformers_engine() -> None:
    text = "models:\n  - name: t5\n    model: ./t5\n    task: seq2seq\n    engine: llama.cpp\n"
    [problem] = _problems(text)
    assert problem == (
        "line 2: models[0]: task 'seq2seq' needs engine 'transformers' (the llama.cpp engine runs decoder-only models)"
    )


def test_every_problem_is_listed_with_its_line() -> None:
    text = (
        "models:\n"
        "  - name: a\n"
        "    model: demo:smollm2\n"
        "    task: generation\n"
        "    parameters:\n"
        "      top_p: 1.0\n"
        "      temprature: 0.5\n"
        "  - model: demo:smollm2\n"
        "    task: generation\n"
    )
    problems = _problems(text)
    assert "line 6: models[0].parameters.top_p: Input should be less than 1" in problems
    assert "line 7: models[0].parameters.temprature: Extra inputs are not permitted" in problems
    assert "line 8: models[1].name: Field required" in problems


def test_duplicate_names_and_reserved_endpoints() -> None:
    dupes = "- {name: a, model: demo:smollm2, task: generation}\n- {name: a, model: demo:smollm2, task: generation}\n"
    [problem] = _problems(dupes)
    assert "models[].name must be unique; repeated: a" in problem
    reserved = "- {name: a, endpoint: /v1/x, model: demo:smollm2, task: generation}\n"
    [problem] = _problems(reserved)
    assert problem.startswith("line 1: models[0].endpoint:") and "clashes with the server's own routes" in problem


def test_yaml_syntax_error_has_a_line() -> None:
    [problem] = _problems("models:\n  - name: [a\n")
    assert problem.startswith("line 3: config: not valid YAML")


def test_not_a_list_of_models() -> None:
    assert _problems("just text\n") == ["line 1: config: must be a list of models or a mapping with `models:`"]


def test_model_files_are_checked_with_lines(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "weights.bin").write_bytes(b"x")
    config = tmp_path / "models.yaml"
    config.write_text(
        "models:\n"
        "  - {name: a, model: missing.gguf, task: generation}\n"
        "  - {name: b, model: folder, task: generation}\n"
        "  - {name: c, model: demo:nope, task: generation}\n"
        "  - {name: d, model: demo:smollm2, task: embedding}\n"
        "  - {name: e, model: weights.bin, task: embedding}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    message = str(caught.value)
    assert f"line 2: models[0].model: no such file or folder: {tmp_path / 'missing.gguf'}" in message
    assert (
        f"line 3: models[1].model: {tmp_path / 'folder'} has no config.json: not a Hugging Face model folder" in message
    )
    assert "line 4: models[2].model: unknown demo model 'nope'; known: all-minilm-l6-v2, smollm2" in message
    assert "line 5: models[3].model: demo model 'smollm2' serves task 'generation', not 'embedding'" in message
    assert "line 6: models[4].model: task 'embedding' needs a sentence-transformers" in message


def test_bare_list_and_relative_paths(tmp_path: Path) -> None:
    config = tmp_path / "models.yaml"
    config.write_text("- name: tiny\n  endpoint: /tiny/v2\n  model: demo:smollm2\n  task: generation\n")
    loaded, models = load_config(config)
    assert [m.config.route for m in models] == ["/tiny/v2"]
    assert models[0].path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert loaded.first("embedding") is None


def test_default_config_uses_the_packaged_models() -> None:
    config = default_config()
    models, problems = resolve_models(config, Path.cwd())
    assert problems == []
    assert [(m.config.name, m.config.task, m.path.exists()) for m in models] == [
        ("smollm2", "generation", True),
        ("minilm", "embedding", True),
        ("guard", "classification", True),
    ]
    assert config.models[0].served_model_id == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert config.models[1].batch_limit == 32 and config.models[0].batch_limit == 4


def test_cli_reports_a_bad_config_in_one_message_and_starts_nothing(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("models:\n  - name: a\n    model: demo:smollm2\n    task: seq2seq\n    engine: llama.cpp\n")
    result = subprocess.run(
        [sys.executable, "-m", "easyllm.serve", "--config", str(config), "--port", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "listening" not in result.stdout
    assert "line 2: models[0]: task 'seq2seq' needs engine 'transformers'" in result.stderr


def test_cli_check_accepts_a_good_config(tmp_path: Path) -> None:
    config = tmp_path / "ok.yaml"
    config.write_text("- {name: tiny, model: demo:smollm2, task: generation}\n")
    result = subprocess.run(
        [sys.executable, "-m", "easyllm.serve", "--config", str(config), "--check"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "easyllm serve: config OK (models: tiny)"


def test_labels_are_for_classification_with_two_labels_or_more() -> None:
    wrong_task = "- {name: a, model: demo:all-minilm-l6-v2, task: embedding, labels: {A: [x], B: [y]}}\n"
    [problem] = _problems(wrong_task)
    assert problem.startswith("line 1: models[0]:") and "`labels` is for task 'classification'" in problem
    one_label = "- {name: a, model: demo:all-minilm-l6-v2, task: classification, labels: {A: [x]}}\n"
    [problem] = _problems(one_label)
    assert "at least two labels" in problem


def test_an_embedding_demo_classifies_only_with_labels() -> None:
    without = parse_config("- {name: g, model: demo:all-minilm-l6-v2, task: classification}\n")
    _, problems = resolve_models(without, Path.cwd())
    assert [p.message for p in problems] == [
        "demo model 'all-minilm-l6-v2' serves task 'embedding', not 'classification'"
    ]
    with_labels = parse_config(
        "- {name: g, model: demo:all-minilm-l6-v2, task: classification, labels: {A: [x], B: [y]}}\n"
    )
    assert resolve_models(with_labels, Path.cwd())[1] == []

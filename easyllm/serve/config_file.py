r"""Reading a config file: YAML, then the pydantic models, then the model files, with every problem's line.

Example:
    >>> from easyllm.serve.config_file import parse_config
    >>> parse_config("models:\\n  - name: x\\n    model: demo:smollm2\\n    task: translation\\n")
    Traceback (most recent call last):
    ...
    easyllm.serve.config.ConfigError: <config>: 1 problem
      line 4: models[0].task: Input should be 'generation', 'seq2seq', 'embedding', 'rerank' or 'classification'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from easyllm.serve.config import ConfigError, ModelConfig, ServeConfig
from easyllm.serve.demo import DEMO_MODELS, demo_name
from easyllm.serve.hub_cache import cached_snapshot, check_device, is_repo_id
from easyllm.serve.model_server_format import entry_location, is_model_server_list, parse_entries
from easyllm.serve.yaml_lines import Location, line_map, line_of


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config.

    Attributes:
        loc: Where, as keys and indexes (`("models", 0, "task")`).
        message: What is wrong.
        line: The 1-based line in the file, when known.
    """

    loc: Location
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = format_loc(self.loc) or "config"
        prefix = f"line {self.line}: " if self.line is not None else ""
        return f"{prefix}{where}: {self.message}"


@dataclass(frozen=True)
class ResolvedModel:
    """A model config with its model file or folder located.

    Attributes:
        config: The validated entry.
        path: The absolute path of the .gguf file or model folder.
    """

    config: ModelConfig
    path: Path


def format_loc(loc: Sequence[str | int]) -> str:
    """Write a location the way a user reads it: `models[0].parameters.top_p`.

    Args:
        loc: Keys and indexes.

    Returns:
        The dotted path.
    """
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def config_error(source: str, problems: Sequence[Problem]) -> ConfigError:
    """Build the error that lists every problem.

    Args:
        source: The file name shown in the message.
        problems: What is wrong.

    Returns:
        A ConfigError whose message has one line per problem, in line order.
    """
    count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
    ordered = sorted(problems, key=lambda p: p.line if p.line is not None else 0)  # in file order
    return ConfigError("\n  ".join([f"{source}: {count}", *map(str, ordered)]))


@dataclass(frozen=True)
class _Parsed:
    config: ServeConfig
    lines: dict[Location, int]
    model_server: bool  # the config.yaml model-server format

    def problem(self, loc: Location, message: str) -> Problem:
        """A problem about the converted config, located in the file."""
        where = entry_location(loc) if self.model_server else loc
        return Problem(where, message, line_of(self.lines, where))


def parse_config(text: str, source: str = "<config>") -> ServeConfig:
    """Parse and validate YAML config text (not the model files).

    The file's shape tells its format: a list of entries with `type` / `hf_*` keys is the config.yaml
    model-server format (`easyllm.serve.model_server_format`); anything else is the server's own format.

    Args:
        text: The YAML source.
        source: The name shown in error messages.

    Returns:
        The validated config.

    Raises:
        ConfigError: The YAML or a field is wrong; every problem is listed with its line.
    """
    return _parse(text, source).config


def _parse(text: str, source: str) -> _Parsed:
    try:
        data: Any = yaml.safe_load(text)
        lines = line_map(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise config_error(source, [Problem((), f"not valid YAML: {getattr(err, 'problem', err)}", line)]) from err
    if is_model_server_list(data):
        config, found = parse_entries(data)
        if config is None:
            raise config_error(source, [Problem(loc, message, line_of(lines, loc)) for loc, message in found])
        return _Parsed(config, lines, model_server=True)
    if isinstance(data, list):  # a bare list of models
        data = {"models": data}
        lines = {("models", *loc): line for loc, line in lines.items()}
    if not isinstance(data, dict):
        raise config_error(source, [Problem((), "must be a list of models or a mapping with `models:`", 1)])
    try:
        return _Parsed(ServeConfig.model_validate(data), lines, model_server=False)
    except ValidationError as err:
        problems = [
            Problem(tuple(e["loc"]), e["msg"].removeprefix("Value error, "), line_of(lines, e["loc"]))
            for e in err.errors()
        ]
        raise config_error(source, problems) from err


def load_config(path: str | Path) -> tuple[ServeConfig, list[ResolvedModel]]:
    """Read a config file and locate every model, reporting all problems at once.

    Args:
        path: The YAML file.

    Returns:
        The config and its models with their paths.

    Raises:
        ConfigError: Anything is wrong; nothing should start.
        OSError: The file cannot be read.
    """
    file = Path(path)
    parsed = _parse(file.read_text(encoding="utf-8"), str(file))
    resolved, problems = resolve_models(parsed.config, file.resolve().parent)
    if problems:
        raise config_error(str(file), [parsed.problem(p.loc, p.message) for p in problems])
    return parsed.config, resolved


def resolve_models(config: ServeConfig, base_dir: Path) -> tuple[list[ResolvedModel], list[Problem]]:
    """Locate each model's file or folder and check that it fits the task.

    Args:
        config: The validated config.
        base_dir: Where relative paths start.

    Returns:
        The located models and the problems found (without lines).
    """
    resolved: list[ResolvedModel] = []
    problems: list[Problem] = []
    for index, model in enumerate(config.models):
        try:
            resolved.append(ResolvedModel(model, _locate(model, base_dir)))
        except (ValueError, OSError) as err:
            problems.append(Problem(("models", index, "model"), str(err)))
        if model.device != "cpu":
            try:
                check_device(model.device)
            except ValueError as err:
                problems.append(Problem(("models", index, "device"), str(err)))
    return resolved, problems


def _locate(model: ModelConfig, base_dir: Path) -> Path:
    demo = demo_name(model.model)
    if demo is not None:
        if demo not in DEMO_MODELS:
            raise ValueError(f"unknown demo model {demo!r}; known: {', '.join(sorted(DEMO_MODELS))}")
        # an embedding model with `labels` serves as a classifier
        if DEMO_MODELS[demo].task != model.task and not (
            DEMO_MODELS[demo].task == "embedding" and model.task == "classification" and model.labels
        ):
            raise ValueError(f"demo model {demo!r} serves task {DEMO_MODELS[demo].task!r}, not {model.task!r}")
        path = DEMO_MODELS[demo].path()
    else:
        path = Path(model.model).expanduser()
        path = path if path.is_absolute() else base_dir / path
        if not path.exists():
            if not is_repo_id(model.model):
                raise FileNotFoundError(f"no such file or folder: {path}")
            path = cached_snapshot(model.model, local_path=path)
    _check_kind(path, model)
    return path.resolve()


def _check_kind(path: Path, model: ModelConfig) -> None:
    if model.task in ("embedding", "rerank", "classification"):
        if not path.is_dir():
            raise ValueError(f"task {model.task!r} needs a sentence-transformers or Hugging Face model folder")
        if not (path / "config.json").exists():
            raise ValueError(f"{path} has no config.json: not a Hugging Face model folder")
        return
    is_gguf = path.is_file() and path.suffix.lower() == ".gguf"
    if model.engine_name == "llama.cpp":
        if path.is_dir():
            raise ValueError(
                "the llama.cpp engine needs a .gguf file; a Hugging Face model folder runs with `engine: transformers`"
            )
        if not is_gguf:
            raise ValueError(f"the llama.cpp engine needs a .gguf file, got {path.name}")
        return
    gguf_file = model.model_kwargs.get("gguf_file")
    if path.is_dir():
        if gguf_file is not None:
            if not (path / str(gguf_file)).is_file():
                raise ValueError(f"model_kwargs.gguf_file: no such file in {path}: {gguf_file}")
        elif not (path / "config.json").exists():
            raise ValueError(f"{path} has no config.json: not a Hugging Face model folder")
    elif not is_gguf:
        raise ValueError(f"the transformers engine needs a model folder or a .gguf file, got {path.name}")

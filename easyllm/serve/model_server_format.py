"""The `config.yaml` model-server format, read as it is and turned into the server's own model configs.

A file in this format is a YAML list of entries with a `type` (and `hf_*` keys):

```yaml
- name: gpt2-model
  type: huggingface
  description: GPT-2 text generation model
  endpoint: models/gpt2/generate
  hf_model_name: "gpt2"
  hf_task: "generation"          # or "seq2seq"
  hf_generation_kwargs:
    max_length: 100
    temperature: 0.7
    top_p: 0.9
```

Every key is honoured: `hf_model_name` (a local folder or file, or a Hub id found in the local Hugging Face cache),
`hf_task`, `hf_model_kwargs` (passed to `from_pretrained`), `hf_generation_kwargs` (defaults that a request's
`generation_params` override, with transformers' meanings), `hf_device`, `endpoint` (served as `POST /{endpoint}`
with `{"text", "generation_params"}`), `description` and `tags` (listed by `/v1/models`) and `options.debug` (logs
each request). Entries of type `langchain` or `custom` run user Python code, which this server does not load: they
are refused with their line. The same models also answer every other route of the server (TGI, the Messages API,
`/v1/completions`, `/models/{name}`), with the generation defaults translated to TGI's terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from easyllm.serve.config import GenerationDefaults, PipelineRoute, ServeConfig
from easyllm.serve.hf_kwargs import SUPPORTED_KEYS, HFGenerationKwargs
from easyllm.serve.yaml_lines import Location

FORMAT_NAME = "the config.yaml model-server format"

# hf_task values, as written, and the server's task for each.
TASKS = {
    "generation": "generation",
    "text-generation": "generation",
    "seq2seq": "seq2seq",
    "text2text-generation": "seq2seq",
}

# Where each field of the converted config comes from in an entry (for messages about the converted config).
SOURCE_KEYS = {
    "name": "name",
    "model": "hf_model_name",
    "task": "hf_task",
    "device": "hf_device",
    "model_kwargs": "hf_model_kwargs",
    "pipeline": "endpoint",
    "description": "description",
    "tags": "tags",
    "debug": "options",
}


class EntryOptions(BaseModel):
    """An entry's `options`."""

    model_config = ConfigDict(extra="forbid")

    debug: bool = False


class ModelServerEntry(BaseModel):
    """One entry of the list, with the format's own keys."""

    model_config = ConfigDict(extra="forbid")

    name: str
    type: str
    endpoint: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    options: EntryOptions = Field(default_factory=EntryOptions)
    hf_model_name: str | None = None
    hf_task: str = "generation"
    hf_model_kwargs: dict[str, Any] = Field(default_factory=dict)
    hf_generation_kwargs: HFGenerationKwargs = Field(default_factory=HFGenerationKwargs)
    hf_device: str = "cpu"
    module_path: str | None = None
    callable: str | None = None

    @field_validator("type")
    @classmethod
    def _huggingface_only(cls, value: str) -> str:
        if value != "huggingface":
            raise ValueError(
                f"type {value!r} runs Python code (LangChain chains, custom classes), which easyllm serve does "
                "not load; it serves type 'huggingface' models"
            )
        return value

    @field_validator("hf_task")
    @classmethod
    def _known_task(cls, value: str) -> str:
        if value not in TASKS:
            raise ValueError(f"must be one of {', '.join(repr(t) for t in TASKS)}; got {value!r}")
        return value

    @model_validator(mode="after")
    def _huggingface_keys(self) -> ModelServerEntry:
        for key in ("module_path", "callable"):
            if getattr(self, key) is not None:
                raise ValueError(f"`{key}` belongs to types 'langchain' and 'custom', not to type 'huggingface'")
        if not self.hf_model_name:
            raise ValueError("`hf_model_name` is required for type 'huggingface'")
        return self

    def to_model_config(self) -> dict[str, Any]:
        """The server's own config for this entry (as data, validated by the caller).

        Returns:
            A `ModelConfig` mapping.
        """
        assert self.hf_model_name is not None  # checked by the validator
        task: Literal["generation", "seq2seq"] = "seq2seq" if TASKS[self.hf_task] == "seq2seq" else "generation"
        pipeline = PipelineRoute(
            endpoint=self.endpoint,
            generation_kwargs=self.hf_generation_kwargs,
            model_name=self.hf_model_name,
            task_label=self.hf_task,
        )
        return {
            "name": self.name,
            "model": self.hf_model_name,
            "model_id": self.hf_model_name,
            "task": task,
            "engine": "transformers",
            "device": self.hf_device,
            "model_kwargs": self.hf_model_kwargs,
            "description": self.description,
            "tags": self.tags,
            "debug": self.options.debug,
            "pipeline": pipeline,
            "parameters": tgi_defaults(self.hf_generation_kwargs, task),
        }


def is_model_server_list(data: Any) -> bool:
    """Whether parsed YAML is in this format: a list with an entry that has `type` or an `hf_*` key.

    Args:
        data: The parsed YAML.

    Returns:
        True for this format; False for the server's own format.
    """
    return isinstance(data, list) and any(
        isinstance(entry, dict) and ("type" in entry or any(str(key).startswith("hf_") for key in entry))
        for entry in data
    )


def tgi_defaults(kwargs: HFGenerationKwargs, task: str) -> GenerationDefaults:
    """Translate transformers generation defaults to TGI's, for the model's other routes.

    Sampling settings count only when sampling is on (as in transformers); `temperature: 0` means greedy.
    `max_length` becomes `max_new_tokens` for a seq2seq model (less the decoder start token); for a causal LM it
    depends on each prompt, so the TGI routes keep their own default.

    Args:
        kwargs: The entry's `hf_generation_kwargs`.
        task: `generation` or `seq2seq`.

    Returns:
        TGI defaults.
    """
    values: dict[str, Any] = {}
    if kwargs.max_new_tokens is not None:
        values["max_new_tokens"] = kwargs.max_new_tokens
    elif kwargs.max_length is not None and task == "seq2seq" and kwargs.max_length > 1:
        values["max_new_tokens"] = kwargs.max_length - 1
    sampling = bool(kwargs.do_sample) and kwargs.temperature != 0
    values["do_sample"] = sampling
    if sampling:
        if kwargs.temperature is not None and kwargs.temperature != 1:
            values["temperature"] = kwargs.temperature
        if kwargs.top_k:
            values["top_k"] = kwargs.top_k
        for key in ("top_p", "typical_p"):
            value = getattr(kwargs, key)
            if value is not None and value < 1:
                values[key] = value
    if kwargs.repetition_penalty is not None:
        values["repetition_penalty"] = kwargs.repetition_penalty
    if kwargs.stop_strings:
        values["stop"] = kwargs.stop_strings
    return GenerationDefaults.model_validate(values)


def entry_location(loc: Sequence[str | int]) -> Location:
    """Map a location in the converted config (`models[0].pipeline.endpoint`) to the entry's key (`[0].endpoint`).

    Args:
        loc: A location under `models`.

    Returns:
        The location in the file.
    """
    parts = list(loc)
    if parts[:1] == ["models"]:
        parts = parts[1:]
    if len(parts) >= 2 and isinstance(parts[0], int) and isinstance(parts[1], str):
        return (parts[0], SOURCE_KEYS.get(parts[1], parts[1]), *parts[2:])
    return tuple(parts)


def parse_entries(data: list[Any]) -> tuple[ServeConfig | None, list[tuple[Location, str]]]:
    """Validate the entries and build the server's config.

    Args:
        data: The parsed YAML list.

    Returns:
        The config (None when any problem was found) and the problems as `(location in the file, message)`.
    """
    problems: list[tuple[Location, str]] = []
    converted: list[dict[str, Any]] = []
    for index, raw in enumerate(data):
        try:
            entry = ModelServerEntry.model_validate(raw)
        except ValidationError as err:
            problems += [((index, *e["loc"]), _entry_message(e)) for e in err.errors()]
            continue
        converted.append(entry.to_model_config())
    if problems:
        return None, problems
    try:
        return ServeConfig.model_validate({"models": converted}), []
    except ValidationError as err:
        return None, [(entry_location(e["loc"]), _message(e["msg"])) for e in err.errors()]


def _message(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def _entry_message(error: Any) -> str:
    if error["type"] != "extra_forbidden":
        return _message(error["msg"])
    loc = error["loc"]
    if "hf_generation_kwargs" in loc:
        return f"unknown generation argument; this server honours: {', '.join(SUPPORTED_KEYS)}"
    known = ModelServerEntry.model_fields if len(loc) == 1 else EntryOptions.model_fields
    return f"unknown key in {FORMAT_NAME}; known keys: {', '.join(known)}"

"""Finding a model's chat template: in a string, a file, a folder, or a Hugging Face Hub repo.

Where a template lives (protocols §7.1): `tokenizer_config.json` under the key `chat_template` (a string,
or a list of `{"name", "template"}` entries), or a standalone `chat_template.jinja`, which transformers
prefers when both exist. The special tokens (`bos_token`, `eos_token`, ...) sit in `tokenizer_config.json`
as strings or as `{"content": ...}` objects.

Hub files are fetched with `huggingface_hub.hf_hub_download`, which caches them; with `HF_HUB_OFFLINE=1`
only the cache is read.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from easyllm.errors import InvalidParameterError

__all__ = ["ChatTemplateError", "TemplateSource", "load_template_source"]

_CONFIG = "tokenizer_config.json"
_JINJA = "chat_template.jinja"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


class ChatTemplateError(InvalidParameterError):
    """A chat template could not be found, read, compiled or rendered, or it refused the conversation."""


@dataclass(frozen=True)
class TemplateSource:
    """A chat template's text and the special tokens that go with it.

    Attributes:
        template: the Jinja source.
        special_tokens: `bos_token`, `eos_token` and the other `*_token` entries of the tokenizer config.
        origin: where the template came from (for names and messages).
    """

    template: str
    special_tokens: Mapping[str, str] = field(default_factory=dict)
    origin: str = "<string>"


def _token_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("content"), str):
        return str(value["content"])
    return None


def special_tokens(config: Mapping[str, Any]) -> dict[str, str]:
    """The `*_token` entries of a tokenizer config, as plain strings."""
    tokens = {key: _token_text(value) for key, value in config.items() if key.endswith("_token")}
    return {key: text for key, text in tokens.items() if text is not None}


def _pick(value: object, template_name: str | None, origin: str) -> str:
    """The template text from a `chat_template` value: a string, or a list of named templates."""
    if isinstance(value, str) and template_name in (None, "default"):
        return value
    if isinstance(value, list):
        named = {e.get("name"): e.get("template") for e in value if isinstance(e, Mapping)}
        chosen = named.get(template_name or "default")
        if isinstance(chosen, str):
            return chosen
        known = ", ".join(sorted(str(name) for name in named))
        wanted = template_name or "default"
        raise ChatTemplateError(f"No chat template named {wanted!r} in {origin} (available: {known}).")
    raise ChatTemplateError(f"No usable chat_template in {origin}.")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ChatTemplateError(f"Cannot read {path}: not valid JSON ({err}).") from err
    if not isinstance(data, dict):
        raise ChatTemplateError(f"Cannot read {path}: it does not hold a JSON object.")
    return data


def _from_files(jinja: Path | None, config: Path | None, template_name: str | None, origin: str) -> TemplateSource:
    settings = _read_json(config) if config is not None else {}
    if jinja is not None and template_name in (None, "default"):
        text = jinja.read_text(encoding="utf-8")
    elif "chat_template" in settings:
        text = _pick(settings["chat_template"], template_name, origin)
    else:
        raise ChatTemplateError(f"No chat template found in {origin}.")
    return TemplateSource(text, special_tokens(settings), origin)


def _from_path(path: Path, template_name: str | None) -> TemplateSource:
    folder = path if path.is_dir() else path.parent
    config = folder / _CONFIG
    config_path = config if config.is_file() else None
    if path.is_dir():
        jinja = folder / _JINJA
        return _from_files(jinja if jinja.is_file() else None, config_path, template_name, str(path))
    if path.suffix == ".json":
        return _from_files(None, path, template_name, str(path))
    return _from_files(path, config_path, None, str(path))


def _download(repo_id: str, filename: str, options: Mapping[str, Any]) -> Path | None:
    """Fetch one repo file through the Hub cache; None when the repo (or the offline cache) lacks it."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    try:
        return Path(hf_hub_download(repo_id, filename, **options))
    except EntryNotFoundError:  # also LocalEntryNotFoundError: offline and not in the cache
        return None


def _from_hub(repo_id: str, template_name: str | None, options: Mapping[str, Any]) -> TemplateSource:
    try:
        config = _download(repo_id, _CONFIG, options)
        jinja = _download(repo_id, _JINJA, options) if template_name in (None, "default") else None
    except (OSError, ValueError) as err:  # hub HTTP errors, offline mode, a bad repo id
        raise ChatTemplateError(
            f"Cannot fetch the chat template of {repo_id!r} from the Hugging Face Hub: {err}"
        ) from err
    if config is None and jinja is None:
        raise ChatTemplateError(
            f"No {_CONFIG} or {_JINJA} found for {repo_id!r} (in offline mode only the local Hub cache is read)."
        )
    return _from_files(jinja, config, template_name, repo_id)


def load_template_source(
    source: str | os.PathLike[str],
    *,
    template_name: str | None = None,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> TemplateSource:
    """Find the chat template `source` refers to.

    Args:
        source: Jinja template text; a path to `tokenizer_config.json`, a `.jinja` file or a model folder;
            or a Hub model id such as "HuggingFaceTB/SmolLM2-135M-Instruct".
        template_name: which named template to take when the config holds several (default "default").
        revision: the Hub revision (branch, tag or commit) for a model id.
        cache_dir: the Hub cache folder for a model id (default: huggingface_hub's).

    Raises:
        ChatTemplateError: nothing usable was found, or the Hub could not be reached and the cache lacks it.
    """
    if not isinstance(source, str):
        return _from_path(Path(source), template_name)
    if "{{" in source or "{%" in source:
        return TemplateSource(source)
    if Path(source).exists():
        return _from_path(Path(source), template_name)
    if _REPO_ID.fullmatch(source):
        options = {"revision": revision, "cache_dir": cache_dir}
        return _from_hub(source, template_name, {k: v for k, v in options.items() if v is not None})
    raise ChatTemplateError(
        f"must be a Jinja template, an existing file or folder, or a Hub model id; got {source[:80]!r}",
        param="source",
    )

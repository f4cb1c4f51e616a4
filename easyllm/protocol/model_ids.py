"""What a `model` argument may be, checked before anything is sent (pure string work).

Model ids often come from the users of an application that embeds easyllm, and on a model collection
(`api_base` ending in `/models`) the id becomes part of the URL the token is sent to. Two rules:

- **A Hub id** (`check_model_id`), wherever the model names a Hugging Face model: the Inference API and its
  collections (the id is a URL path), and TGI / TEI / Inference Endpoints (the id names the model in the answer).
  It is the Hub's own rule (huggingface_hub's `validate_repo_id`): `name` or `org/name`, each part 1 to 96
  letters, digits, `-`, `_` or `.`, not starting or ending with `-` or `.`, without `--` or `..`, not ending in
  `.git`; optionally followed by one `:suffix` of the same characters (the router's `:fastest`, `:cheapest`,
  `:together`). Whitespace, control characters, empty parts, `.` and `..` parts and a second `/` are refused, so
  `model_path` can never leave the collection path. `model=None` stays allowed (the checks that need a model
  say so where the URL is built).
- **A served-model name** (`check_served_model_name`), on OpenAI-compatible servers (vLLM, llama.cpp, the HF
  router, `easyllm serve`), where the model only travels in the JSON body: servers name models freely (vLLM's
  default name is the local path), so only what cannot be a name is refused: an empty or whitespace-only string,
  control characters, line separators and lone surrogates.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from easyllm.errors import InvalidParameterError

__all__ = ["check_model_id", "check_served_model_name", "model_path"]

_PART = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?"
_HUB_ID = re.compile(rf"(?:{_PART}/)?{_PART}(?::[A-Za-z0-9_.-]+)?")
_HINT = "a Hub id is 'name' or 'org/name' (letters, digits, '-', '_', '.'), optionally followed by ':suffix'"
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _require_str(model: object) -> str:
    if not isinstance(model, str):
        raise InvalidParameterError(f"must be a string, got {type(model).__name__}", param="model")
    return model


def _reason(model: str) -> str:
    """Why `model` is not a Hub id, in words a user can act on."""
    if not model:
        return "must not be empty"
    if any(ch.isspace() for ch in model):
        return f"must not contain whitespace, got {model!r}"
    if any(unicodedata.category(ch).startswith("C") for ch in model):
        return f"must not contain control characters, got {model!r}"
    repo = model.split(":", 1)[0]
    if any(part in ("", ".", "..") for part in repo.split("/")):
        return f"must not have an empty, '.' or '..' part, got {model!r}"
    if repo.count("/") > 1:
        return f"may contain at most one '/', got {model!r}"
    return f"is not a Hub model id ({_HINT}), got {model!r}"


def check_model_id(model: object) -> str:
    """Return `model` if it is a Hub model id; raise `InvalidParameterError` (param "model") otherwise.

    Example:
        >>> check_model_id("HuggingFaceTB/SmolLM2-135M-Instruct:fastest")
        'HuggingFaceTB/SmolLM2-135M-Instruct:fastest'
        >>> check_model_id("../../admin")
        Traceback (most recent call last):
        ...
        easyllm.errors.InvalidParameterError: `model` must not have an empty, '.' or '..' part, got '../../admin'
    """
    text = _require_str(model)
    repo = text.split(":", 1)[0]
    if _HUB_ID.fullmatch(text) is None or "--" in repo or ".." in repo or repo.endswith(".git"):
        raise InvalidParameterError(_reason(text), param="model")
    return text


def model_path(model: object) -> str:
    """The checked Hub id as URL path segments (`org/name`), quoted: it cannot leave the collection path.

    Example:
        >>> model_path("org/name:cheapest")
        'org/name:cheapest'
    """
    return quote(check_model_id(model), safe="/:")


def check_served_model_name(model: object) -> str | None:
    """Return `model` (None allowed) if it can name a model on an OpenAI-compatible server.

    Example:
        >>> check_served_model_name("/models/Llama 3 (local)")
        '/models/Llama 3 (local)'
        >>> check_served_model_name("  ")
        Traceback (most recent call last):
        ...
        easyllm.errors.InvalidParameterError: `model` must not be empty or only whitespace, got '  '
    """
    if model is None:
        return None
    text = _require_str(model)
    if not text.strip():
        raise InvalidParameterError(f"must not be empty or only whitespace, got {text!r}", param="model")
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in text):
        raise InvalidParameterError(
            f"must not contain control characters or line separators, got {text!r}", param="model"
        )
    return text

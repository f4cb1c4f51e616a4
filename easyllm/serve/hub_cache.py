"""Finding a Hub model id in the local Hugging Face cache, offline, and checking a torch device.

The server never downloads: `model: gpt2` or `hf_model_name: "microsoft/phi-2"` is served from the cache that
`hf download` (or an earlier `from_pretrained`) filled. The cache is where huggingface_hub looks
(`HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`).
"""

from __future__ import annotations

import re
from pathlib import Path

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


def is_repo_id(name: str) -> bool:
    """Whether a model reference could be a Hub id (`gpt2`, `org/name`).

    Example:
        >>> is_repo_id("microsoft/phi-2"), is_repo_id("./models/x"), is_repo_id("a/b/c"), is_repo_id("m.gguf")
        (True, False, False, False)

    Args:
        name: The configured model.

    Returns:
        True when it has the shape of a repository id.
    """
    return bool(_REPO_ID.match(name)) and ".." not in name and not name.lower().endswith(".gguf")


def cached_snapshot(repo_id: str, *, local_path: Path) -> Path:
    """The folder of a model's newest cached snapshot (the `main` revision), without any network access.

    Args:
        repo_id: The Hub id.
        local_path: The local path that was tried first (named in the error).

    Returns:
        The snapshot folder.

    Raises:
        FileNotFoundError: The id is not in the cache; the message names it, the cache and how to fill it.
    """
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, HFValidationError, FileNotFoundError) as err:
        raise FileNotFoundError(
            f"{repo_id!r} is neither a local file or folder ({local_path}) nor a model in the local Hugging Face "
            f"cache ({constants.HF_HUB_CACHE}); the server does not download: fetch it first with "
            f"`hf download {repo_id}`"
        ) from err


def check_device(device: str) -> None:
    """Check that torch can use a device (imports torch).

    Args:
        device: `cpu`, `cuda`, `cuda:1`, `mps`, …

    Raises:
        ValueError: The device does not exist on this machine or in this torch build.
    """
    import torch

    try:
        kind = torch.device(device).type
    except RuntimeError as err:
        raise ValueError(f"device {device!r} is not a torch device: {err}") from err
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }.get(kind, False)
    if not available:
        raise ValueError(f"device {device!r} is not available here (torch {torch.__version__}); use cpu")

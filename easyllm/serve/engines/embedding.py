"""Sentence embeddings with sentence-transformers on the CPU (imported only when an embedding model loads).

The model's own `Normalize` module is taken out at load time so that normalisation follows the request's
`normalize` flag, as in TEI (default true).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


class SentenceTransformerModel:
    """An `EmbeddingModel` backed by a sentence-transformers (or plain transformers) model folder."""

    def __init__(self, path: Path) -> None:
        """Load the model from a folder, offline.

        Args:
            path: The model folder.
        """
        from sentence_transformers import SentenceTransformer  # heavy: torch

        model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        names = [type(module).__name__ for module in model]
        self.normalizes = bool(names) and names[-1] == "Normalize"
        """Whether the model itself ends in a `Normalize` module (the Inference API default)."""
        if self.normalizes:
            del model[len(names) - 1]
        self._model: Any = model
        self.pooling = _pooling_mode(model)

    @property
    def dimension(self) -> int:
        """The vector size."""
        return int(self._model.get_embedding_dimension())

    @property
    def max_input_length(self) -> int:
        """The longest input in tokens (longer inputs are truncated)."""
        return int(self._model.max_seq_length)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Count tokens per text, special tokens included, without truncation.

        Args:
            texts: The inputs.

        Returns:
            One count per text.
        """
        encoded = self._model.tokenizer(list(texts), add_special_tokens=True, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def embed(self, texts: Sequence[str], *, normalize: bool, prompt_name: str | None) -> npt.NDArray[np.float32]:
        """Embed texts in order.

        Args:
            texts: The inputs.
            normalize: L2-normalise each vector.
            prompt_name: A key of the model's `prompts`, prepended to each input.

        Returns:
            An array of shape (len(texts), dimension).
        """
        vectors = self._model.encode(
            list(texts),
            batch_size=32,
            convert_to_numpy=True,
            normalize_embeddings=normalize,
            show_progress_bar=False,
            prompt_name=prompt_name,
        )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def prompts(self) -> dict[str, str]:
        """The model's named prompts."""
        return dict(self._model.prompts or {})


def _pooling_mode(model: Any) -> str:
    for module in model:
        if type(module).__name__ == "Pooling":
            config: dict[str, Any] = module.get_config_dict() if hasattr(module, "get_config_dict") else {}
            mode = config.get("pooling_mode")
            if isinstance(mode, str):
                return str(mode)
            for key, value in config.items():
                if key.startswith("pooling_mode_") and value is True:
                    return str(key).removeprefix("pooling_mode_").removesuffix("_tokens")
    return "mean"

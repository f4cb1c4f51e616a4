"""Cross encoders and text classifiers on the CPU (imported only when such a model loads).

- `CrossEncoderModel`: a sentence-transformers `CrossEncoder` folder (a one-label sequence classifier); a pair's
  score is the sigmoid of its logit, as TEI's `/rerank` answers without `raw_scores`.
- `ClassifierModel`: a transformers sequence-classification folder; every label's score, softmax over the
  labels (sigmoid each for a multi-label model, `problem_type: multi_label_classification`), as TEI's `/predict`.
- `EmbeddingClassifier`: a sentence-transformers embedding model with example texts per label (config `labels`);
  a text's score for a label is its best cosine similarity to the label's examples, softmax over the labels
  (scaled by `SHARPNESS`). A few examples make a usable zero-shot guard with no classifier to download.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

Labels = list[tuple[str, float]]


def _max_length(tokenizer: Any, config: Any) -> int:
    limits = [getattr(config, "max_position_embeddings", None), getattr(tokenizer, "model_max_length", None)]
    known = [int(limit) for limit in limits if isinstance(limit, int) and 0 < limit < 1_000_000]
    return min(known) if known else 512


class CrossEncoderModel:
    """Scores (query, document) pairs with a sentence-transformers `CrossEncoder`."""

    def __init__(self, path: Path) -> None:
        """Load the model from a folder, offline.

        Args:
            path: The model folder.
        """
        from sentence_transformers import CrossEncoder  # heavy: torch

        self._model: Any = CrossEncoder(str(path), device="cpu", local_files_only=True)
        config = self._model.model.config
        self.max_input_length = _max_length(self._model.tokenizer, config)
        """The longest pair in tokens (longer pairs are truncated)."""
        self.labels: dict[int, str] = {int(k): str(v) for k, v in (config.id2label or {0: "LABEL_0"}).items()}
        """The model's labels by id (one for a reranker)."""

    def count_tokens(self, pairs: Sequence[tuple[str, str]]) -> list[int]:
        """Tokens per pair, special tokens included, without truncation.

        Args:
            pairs: (query, document) pairs.

        Returns:
            One count per pair.
        """
        encoded = self._model.tokenizer([p[0] for p in pairs], [p[1] for p in pairs], truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """The relevance of each pair, in (0, 1).

        Args:
            pairs: (query, document) pairs.

        Returns:
            One score per pair.
        """
        import torch

        scores = self._model.predict(
            [list(pair) for pair in pairs], activation_fn=torch.nn.Sigmoid(), convert_to_numpy=True,
            show_progress_bar=False, batch_size=32,
        )  # fmt: skip
        return [float(value) for value in scores.reshape(len(pairs), -1)[:, 0]]


class ClassifierModel:
    """Labels texts (or text pairs) with a transformers sequence classifier."""

    def __init__(self, path: Path) -> None:
        """Load the model from a folder, offline.

        Args:
            path: The model folder.
        """
        from transformers import AutoModelForSequenceClassification, AutoTokenizer  # heavy: torch

        self._tokenizer: Any = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self._model: Any = AutoModelForSequenceClassification.from_pretrained(str(path), local_files_only=True)
        self._model.eval()
        config = self._model.config
        self.max_input_length = _max_length(self._tokenizer, config)
        """The longest input in tokens (longer inputs are truncated)."""
        self.labels: dict[int, str] = {int(k): str(v) for k, v in config.id2label.items()}
        """The model's labels by id."""
        self.multi_label = config.problem_type == "multi_label_classification"
        """Whether each label is scored on its own (sigmoid) rather than against the others (softmax)."""

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, special tokens included, without truncation.

        Args:
            texts: The inputs.

        Returns:
            One count per text.
        """
        return [len(ids) for ids in self._tokenizer(list(texts), truncation=False)["input_ids"]]

    def classify(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> list[Labels]:
        """Every label's score for each text (or each (text, pair) pair), highest first.

        Args:
            texts: The inputs.
            pairs: Second texts of pairs, one per input, or None.

        Returns:
            One list of (label, score) per input.
        """
        import torch

        encoded = self._tokenizer(
            list(texts), list(pairs) if pairs is not None else None, padding=True, truncation=True,
            max_length=self.max_input_length, return_tensors="pt",
        )  # fmt: skip
        with torch.inference_mode():
            logits = self._model(**encoded).logits
        probs = torch.sigmoid(logits) if self.multi_label or logits.shape[-1] == 1 else torch.softmax(logits, dim=-1)
        rows: list[Labels] = []
        for row in probs.tolist():
            labels = [(self.labels[i], float(score)) for i, score in enumerate(row)]
            rows.append(sorted(labels, key=lambda entry: -entry[1]))
        return rows


#: Cosine similarities are multiplied by this before the softmax over labels (cosines differ by tenths).
SHARPNESS = 20.0


class EmbeddingClassifier:
    """Labels texts by their similarity to each label's example texts (a sentence-transformers model)."""

    def __init__(self, path: Path, labels: dict[str, list[str]]) -> None:
        """Load the model from a folder, offline, and embed the examples.

        Args:
            path: The model folder.
            labels: Each label with its example texts.
        """
        from easyllm.serve.engines.embedding import SentenceTransformerModel

        self._model = SentenceTransformerModel(path)
        self.max_input_length = self._model.max_input_length
        """The longest input in tokens (longer inputs are truncated)."""
        self.labels: dict[int, str] = dict(enumerate(labels))
        """The labels by id, in config order."""
        self._examples = [self._model.embed(texts, normalize=True, prompt_name=None) for texts in labels.values()]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, special tokens included, without truncation.

        Args:
            texts: The inputs.

        Returns:
            One count per text.
        """
        return self._model.count_tokens(texts)

    def classify(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> list[Labels]:
        """Every label's score for each text, highest first (`pairs` are joined to their texts).

        Args:
            texts: The inputs.
            pairs: Second texts, or None.

        Returns:
            One list of (label, score) per input.
        """
        import numpy as np

        joined = [f"{text} {pair}" for text, pair in zip(texts, pairs, strict=True)] if pairs else list(texts)
        vectors = self._model.embed(joined, normalize=True, prompt_name=None)
        best = np.stack([(vectors @ examples.T).max(axis=1) for examples in self._examples], axis=1) * SHARPNESS
        probs = np.exp(best - best.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        return [
            sorted(((self.labels[i], float(p)) for i, p in enumerate(row)), key=lambda entry: -entry[1])
            for row in probs
        ]


def load_scoring_model(
    task: str, path: Path, labels: dict[str, list[str]] | None = None
) -> CrossEncoderModel | ClassifierModel | EmbeddingClassifier:
    """Load a cross encoder (task `rerank`) or a classifier (task `classification`; with `labels`, an embedding one).

    Args:
        task: `rerank` or `classification`.
        path: The model folder.
        labels: Example texts per label, for an embedding model as a classifier.

    Returns:
        The loaded model.
    """
    if task == "rerank":
        return CrossEncoderModel(path)
    return EmbeddingClassifier(path, labels) if labels else ClassifierModel(path)

"""Moderation as pure code: a classifier's labels and scores in OpenAI's `ModerationCreateResponse` shape.

Each result has OpenAI's 13 categories in `categories` / `category_scores` / `category_applied_input_types`
(a category no label maps to scores 0.0), plus one more key per category the model has and OpenAI has not
(`prompt_injection`, `jailbreak`, …). `flagged` is true when any label that is not a safe label scores at least
the threshold (default 0.5). The model's own labels and scores are kept in `label_scores`.

Which category a label counts toward (`label_categories`):

1. a `label_map` passed to the call (label → category, a list of categories, or None for a safe label);
2. the built-in map of known guardrail models (`KNOWN_MODELS`, matched by the repository name);
3. the generic map: safe-sounding labels (`SAFE`, `BENIGN`, `OK`, `non-toxic`, `neutral`, …) flag nothing,
   labels naming a known harm map to its category (`…hate…` → `hate`, `…threat…` → `harassment/threatening`,
   `…injection…` → `prompt_injection`, …), and any other label is a category of its own, named after it.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from easyllm.errors import InvalidParameterError

__all__ = [
    "DEFAULT_THRESHOLD",
    "KNOWN_MODELS",
    "OPENAI_CATEGORIES",
    "check_label_map",
    "check_threshold",
    "label_categories",
    "moderation_response",
]

#: A label at or above this score flags the input (per call: `threshold=`).
DEFAULT_THRESHOLD = 0.5

#: OpenAI's moderation categories (openai.types.moderation.Categories), in its order.
OPENAI_CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence",
    "violence/graphic",
)  # fmt: skip

LabelMap = Mapping[str, tuple[str, ...]]

_INJECTION = ("prompt_injection",)
_HARASSMENT = ("harassment",)

#: Label → categories for known guardrail classifiers (labels from their model cards and configs); `()` is safe.
KNOWN_MODELS: dict[str, LabelMap] = {
    "protectai/deberta-v3-base-prompt-injection-v2": {"SAFE": (), "INJECTION": _INJECTION},
    "protectai/deberta-v3-base-prompt-injection": {"SAFE": (), "INJECTION": _INJECTION},
    "meta-llama/Prompt-Guard-86M": {"BENIGN": (), "INJECTION": _INJECTION, "JAILBREAK": ("jailbreak",)},
    "unitary/toxic-bert": {
        "toxic": _HARASSMENT,
        "severe_toxic": _HARASSMENT,
        "obscene": ("obscene",),
        "insult": _HARASSMENT,
        "threat": ("harassment/threatening", "violence"),
        "identity_hate": ("hate",),
    },
    "martin-ha/toxic-comment-model": {"non-toxic": (), "toxic": _HARASSMENT},
    "KoalaAI/Text-Moderation": {
        "OK": (),
        "S": ("sexual",),
        "H": ("hate",),
        "V": ("violence",),
        "HR": ("harassment",),
        "SH": ("self-harm",),
        "S3": ("sexual/minors",),
        "H2": ("hate/threatening",),
        "V2": ("violence/graphic",),
    },
}

_SAFE_LABELS = frozenset(
    {"safe", "benign", "ok", "non-toxic", "non_toxic", "not_toxic", "nontoxic", "neutral", "normal", "clean",
     "negative", "legit", "legitimate", "no"}
)  # fmt: skip
# Checked in order: the first keyword found in the lower-cased label decides.
_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("injection", _INJECTION),
    ("jailbreak", ("jailbreak",)),
    ("self-harm", ("self-harm",)), ("self_harm", ("self-harm",)), ("suicid", ("self-harm",)),
    ("minor", ("sexual/minors",)),
    ("threat", ("harassment/threatening",)),
    ("hate", ("hate",)),
    ("sexual", ("sexual",)), ("nsfw", ("sexual",)), ("porn", ("sexual",)),
    ("violen", ("violence",)),
    ("harass", _HARASSMENT), ("toxic", _HARASSMENT), ("insult", _HARASSMENT), ("abus", _HARASSMENT),
    ("offensive", _HARASSMENT),
)  # fmt: skip


def check_threshold(value: object) -> float:
    """A threshold in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1 or math.isnan(value):
        raise InvalidParameterError(f"must be a number above 0 and at most 1, got {value!r}", param="threshold")
    return float(value)


def check_label_map(value: object) -> LabelMap | None:
    """A caller's `label_map`: label → category, list of categories, or None (a safe label)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidParameterError("must be a mapping of label to category", param="label_map")
    checked: dict[str, tuple[str, ...]] = {}
    for label, target in value.items():
        targets = () if target is None else (target,) if isinstance(target, str) else target
        if (
            not isinstance(label, str)
            or not isinstance(targets, list | tuple)
            or not all(isinstance(t, str) and t for t in targets)
        ):
            raise InvalidParameterError(
                f"{label!r}: must map to a category name, a list of them, or None", param="label_map"
            )
        checked[label] = tuple(targets)
    return checked


def _known(model: str | None) -> LabelMap:
    if not model:
        return {}
    name = model.split(":")[0].strip("/")
    lowered = {key.lower(): value for key, value in KNOWN_MODELS.items()}
    return lowered.get(name.lower()) or lowered.get("/".join(name.split("/")[-2:]).lower(), {})


def label_categories(label: str, model: str | None, label_map: LabelMap | None = None) -> tuple[str, ...]:
    """The categories a label counts toward; `()` for a safe label.

    Example:
        >>> label_categories("INJECTION", "protectai/deberta-v3-base-prompt-injection-v2")
        ('prompt_injection',)
        >>> label_categories("identity_hate", None), label_categories("SAFE", None), label_categories("spam", None)
        (('hate',), (), ('spam',))
    """
    for table in (label_map or {}, _known(model)):
        if label in table:
            return table[label]
    lowered = label.lower()
    if lowered in _SAFE_LABELS:
        return ()
    for keyword, categories in _KEYWORDS:
        if keyword in lowered:
            return categories
    return (lowered,)


def _result(
    labels: Sequence[Mapping[str, Any]], model: str | None, threshold: float, label_map: LabelMap | None
) -> dict[str, Any]:
    scores: dict[str, float] = dict.fromkeys(OPENAI_CATEGORIES, 0.0)
    hit: dict[str, bool] = dict.fromkeys(OPENAI_CATEGORIES, False)
    for entry in labels:
        value = float(entry["score"])
        for category in label_categories(entry["label"], model, label_map):
            scores[category] = max(scores.get(category, 0.0), value)
            hit[category] = hit.get(category, False) or value >= threshold
    return {
        "flagged": any(hit.values()),
        "categories": hit,
        "category_scores": scores,
        "category_applied_input_types": {category: ["text"] for category in scores},
        "label_scores": {entry["label"]: float(entry["score"]) for entry in labels},
    }


def moderation_response(
    classification: Mapping[str, Any],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    label_map: LabelMap | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """OpenAI's moderation response from a classification response (`classification_response`'s shape).

    `model` (the caller's model id) picks the built-in label map; else the model the answer names.

    Example:
        >>> answer = {"model": "protectai/deberta-v3-base-prompt-injection-v2", "data": [{"index": 0, "labels": [
        ...     {"label": "INJECTION", "score": 0.97}, {"label": "SAFE", "score": 0.03}]}]}
        >>> result = moderation_response(answer)["results"][0]
        >>> result["flagged"], result["categories"]["prompt_injection"], result["label_scores"]["SAFE"]
        (True, True, 0.03)
    """
    served = classification.get("model")
    name = model or (served if isinstance(served, str) else None)
    results = [_result(item["labels"], name, threshold, label_map) for item in classification["data"]]
    return {"id": f"modr-{uuid.uuid4().hex}", "model": name or "tei", "results": results}

"""Labels of guardrail classifiers mapped to OpenAI's moderation categories (pure)."""

from __future__ import annotations

import pytest
from openai.types import ModerationCreateResponse as OpenAIModeration

from easyllm.errors import InvalidParameterError
from easyllm.protocol.moderation import (
    OPENAI_CATEGORIES,
    check_label_map,
    check_threshold,
    label_categories,
    moderation_response,
)


def answer(model: str | None, *labels: tuple[str, float]) -> dict[str, object]:
    return {"model": model, "data": [{"index": 0, "labels": [{"label": k, "score": v} for k, v in labels]}]}


@pytest.mark.parametrize(
    ("model", "label", "categories"),
    [
        ("meta-llama/Prompt-Guard-86M", "JAILBREAK", ("jailbreak",)),
        ("meta-llama/Prompt-Guard-86M", "BENIGN", ()),
        ("KoalaAI/Text-Moderation", "S3", ("sexual/minors",)),
        ("KoalaAI/Text-Moderation", "OK", ()),
        ("unitary/toxic-bert", "threat", ("harassment/threatening", "violence")),
        ("martin-ha/toxic-comment-model", "non-toxic", ()),
        ("org/other-model", "severe_toxicity", ("harassment",)),
        (None, "SELF_HARM", ("self-harm",)),
        (None, "Spam", ("spam",)),
    ],
)
def test_label_categories(model: str | None, label: str, categories: tuple[str, ...]) -> None:
    assert label_categories(label, model) == categories


def test_known_model_matched_with_a_provider_suffix_or_a_url_path() -> None:
    assert label_categories("INJECTION", "protectai/deberta-v3-base-prompt-injection-v2:hf-inference") == (
        "prompt_injection",
    )
    assert label_categories("H", "models/KoalaAI/Text-Moderation") == ("hate",)


def test_multi_label_toxicity_model_flags_each_category_it_reaches() -> None:
    labels = [("toxic", 0.91), ("severe_toxic", 0.2), ("obscene", 0.6), ("threat", 0.05), ("identity_hate", 0.7)]
    result = moderation_response(answer("unitary/toxic-bert", *labels))["results"][0]
    OpenAIModeration.model_validate({"id": "m", "model": "x", "results": [result]})
    assert result["flagged"] is True
    assert result["category_scores"]["harassment"] == 0.91  # the highest label mapped to it
    assert (result["categories"]["hate"], result["categories"]["obscene"]) == (True, True)
    assert result["categories"]["violence"] is False and result["category_scores"]["violence"] == 0.05
    assert list(result["categories"])[: len(OPENAI_CATEGORIES)] == list(OPENAI_CATEGORIES)
    assert result["label_scores"] == dict(labels)


def test_safe_label_never_flags() -> None:
    result = moderation_response(answer(None, ("SAFE", 0.99), ("INJECTION", 0.01)))["results"][0]
    assert result["flagged"] is False and "safe" not in result["categories"]


def test_threshold_decides() -> None:
    labels = ("INJECTION", 0.4), ("SAFE", 0.6)
    assert moderation_response(answer(None, *labels))["results"][0]["flagged"] is False
    assert moderation_response(answer(None, *labels), threshold=0.4)["results"][0]["flagged"] is True


def test_caller_label_map_wins_and_is_checked() -> None:
    mapped = check_label_map({"LABEL_1": ["violence", "illicit/violent"], "LABEL_0": None})
    result = moderation_response(answer(None, ("LABEL_1", 0.8), ("LABEL_0", 0.2)), label_map=mapped)["results"][0]
    assert result["categories"]["illicit/violent"] is True and "label_0" not in result["categories"]
    for bad in ({"x": 3}, {"x": [""]}, ["x"]):
        with pytest.raises(InvalidParameterError) as caught:
            check_label_map(bad)
        assert caught.value.param == "label_map"


@pytest.mark.parametrize("value", [0, -0.1, 1.01, float("nan"), True, "0.5"])
def test_bad_threshold(value: object) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        check_threshold(value)
    assert caught.value.param == "threshold"

"""Pydantic results of `client.rerank`, `client.classifications`, `client.moderations` and `client.models`.

`ModerationCreateResponse` and `Model` follow `openai.types` (their `model_dump()` validates against them); the
extra fields easyllm adds are kept like openai's own extras:

- `Moderation.label_scores`: the classifier's own labels and scores;
- `Model.server`, `Model.limits`, `Model.capabilities`: what the server said the model can do (None: not said).

Rerank and classification have no openai type; their shapes follow vLLM/Cohere (`results[].relevance_score`)
and TEI (`labels[].label/score`).
"""

from __future__ import annotations

from typing import Any, Literal

from easyllm.schema.types import BaseModel, validate

__all__ = [
    "Classification",
    "ClassificationLabel",
    "ClassificationResponse",
    "Model",
    "ModelCapabilities",
    "ModelLimits",
    "ModelList",
    "Moderation",
    "ModerationCreateResponse",
    "RerankDocument",
    "RerankResponse",
    "RerankResult",
    "TaskUsage",
    "classification_response",
    "model",
    "model_list",
    "moderation_response",
    "rerank_response",
]


class TaskUsage(BaseModel):
    """Tokens the server counted (`estimated: true` when it did not say and easyllm estimated)."""

    prompt_tokens: int
    total_tokens: int


class RerankDocument(BaseModel):
    """A ranked document's text (with `return_documents=True`)."""

    text: str


class RerankResult(BaseModel):
    """One ranked document: `index` is its position in the `documents` given."""

    index: int
    relevance_score: float
    document: RerankDocument | None = None


class RerankResponse(BaseModel):
    """`client.rerank.create`: the documents sorted by relevance (most relevant first), cut to `top_n`."""

    id: str
    object: Literal["list"] = "list"
    model: str
    results: list[RerankResult]
    usage: TaskUsage


class ClassificationLabel(BaseModel):
    """One label of a classifier with its score."""

    label: str
    score: float


class Classification(BaseModel):
    """Every label the classifier gave input `index`, highest score first."""

    index: int
    labels: list[ClassificationLabel]


class ClassificationResponse(BaseModel):
    """`client.classifications.create`: the raw labels and scores of each input."""

    id: str
    object: Literal["list"] = "list"
    model: str
    data: list[Classification]
    usage: TaskUsage


class Moderation(BaseModel):
    """One input's moderation, as `openai.types.Moderation`.

    `categories`, `category_scores` and `category_applied_input_types` map OpenAI's category names (and the
    model's own extra categories, such as `prompt_injection`) to a flag, a score and `["text"]`.
    `label_scores` keeps the classifier's own labels and scores.
    """

    flagged: bool
    categories: dict[str, bool]
    category_scores: dict[str, float]
    category_applied_input_types: dict[str, list[Literal["text", "image"]]]
    label_scores: dict[str, float]


class ModerationCreateResponse(BaseModel):
    """`client.moderations.create`, as `openai.types.ModerationCreateResponse`."""

    id: str
    model: str
    results: list[Moderation]


class ModelLimits(BaseModel):
    """Limits the server reports for a model (None: not reported)."""

    max_input_tokens: int | None = None
    max_total_tokens: int | None = None
    max_batch_size: int | None = None
    max_stop_sequences: int | None = None


class ModelCapabilities(BaseModel):
    """What the server says the model can do (None: it does not say)."""

    chat: bool | None = None
    chat_template: bool | None = None
    tools: bool | None = None
    embeddings: bool | None = None
    rerank: bool | None = None
    classification: bool | None = None
    responses: bool | None = None


class Model(BaseModel):
    """A served model, as `openai.types.Model`, with its `server`, `limits` and `capabilities`."""

    id: str
    created: int
    object: Literal["model"] = "model"
    owned_by: str
    server: str | None = None
    limits: ModelLimits = ModelLimits()
    capabilities: ModelCapabilities = ModelCapabilities()


class ModelList(BaseModel):
    """`client.models.list()`: iterate it, or read `data`."""

    object: Literal["list"] = "list"
    data: list[Model]

    def __iter__(self) -> Any:
        """Iterate over the models (as openai's page does)."""
        return iter(self.data)

    def __len__(self) -> int:
        """How many models."""
        return len(self.data)


def rerank_response(value: dict[str, Any]) -> RerankResponse:
    """Validate a rerank response easyllm built."""
    return validate(RerankResponse, value)


def classification_response(value: dict[str, Any]) -> ClassificationResponse:
    """Validate a classification response easyllm built."""
    return validate(ClassificationResponse, value)


def moderation_response(value: dict[str, Any]) -> ModerationCreateResponse:
    """Validate a moderation response easyllm built."""
    return validate(ModerationCreateResponse, value)


def model(value: dict[str, Any]) -> Model:
    """Validate a model easyllm built."""
    return validate(Model, value)


def model_list(value: dict[str, Any]) -> ModelList:
    """Validate a model list easyllm built."""
    return validate(ModelList, value)

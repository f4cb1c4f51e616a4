"""`client.rerank`, `client.classifications`, `client.moderations` and `client.models` of both clients.

Each method checks its arguments (`easyllm.protocol`), runs through `easyllm.task_calls` over its client's pool,
and validates the answer as an `easyllm.schema.tasks` model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from easyllm import task_calls
from easyllm.protocol.classification import check_classify
from easyllm.protocol.embeddings import EmbeddingOptions, embedding_options
from easyllm.protocol.extras import Extras
from easyllm.protocol.moderation import DEFAULT_THRESHOLD, LabelMap, check_label_map, check_threshold
from easyllm.protocol.rerank import check_rerank
from easyllm.schema import tasks
from easyllm.schema.tasks import ClassificationResponse, Model, ModelList, ModerationCreateResponse, RerankResponse

if TYPE_CHECKING:
    from easyllm.client import AsyncHuggingFace, HuggingFace

__all__ = [
    "AsyncClassifications",
    "AsyncModels",
    "AsyncModerations",
    "AsyncRerank",
    "Classifications",
    "Models",
    "Moderations",
    "Rerank",
]


def _options(batch_size: int | None, max_concurrency: int | None) -> EmbeddingOptions:
    return embedding_options(batch_size=batch_size, max_concurrency=max_concurrency)


def _moderation(
    threshold: float, label_map: Mapping[str, str | Sequence[str] | None] | None
) -> tuple[float, LabelMap | None]:
    return check_threshold(threshold), check_label_map(label_map)


class Rerank:
    """`client.rerank`: order documents by relevance to a query with a cross encoder."""

    def __init__(self, client: HuggingFace) -> None:
        self._client = client

    def create(
        self,
        *,
        query: str,
        documents: list[str],
        model: str | None = None,
        top_n: int | None = None,
        return_documents: bool = False,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        timeout: float | None = None,
        extra_body: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
    ) -> RerankResponse:
        """Score every document against `query`: `results` sorted by `relevance_score`, most relevant first.

        Args:
            query: the query.
            documents: the documents; `results[i].index` is a document's position here.
            model: the model id (required on a `.../models` base; the `model` field on `/v1` servers).
            top_n: keep the best N (default: all).
            return_documents: add each document's text (`results[i].document.text`).
            batch_size: most documents per request, under the server's own limit (default: its `/info`, else 32).
            max_concurrency: requests in flight at once (default 8).
            timeout: seconds this call may take.
            extra_body: keys merged into every request's JSON body (they win).
            extra_headers: headers sent with every request.
            extra_query: query parameters of every request.
        """
        args = check_rerank(query, documents, model=model, top_n=top_n, return_documents=return_documents)
        options = _options(batch_size, max_concurrency)
        extras = Extras.check(extra_body, extra_headers, extra_query)
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        return task_calls.rerank(settings, args, transport, tasks.rerank_response, options, self._client.engine, extras)


class Classifications:
    """`client.classifications`: every label and score of a text classifier."""

    def __init__(self, client: HuggingFace) -> None:
        self._client = client

    def create(
        self,
        *,
        input: str | list[str],
        model: str | None = None,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        timeout: float | None = None,
        extra_body: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
    ) -> ClassificationResponse:
        """Classify `input`: `data[i].labels` are input i's labels, highest score first.

        Args:
            input: a string or a list of strings.
            model: the model id (required on a `.../models` base).
            batch_size: most texts per request, under the server's own limit.
            max_concurrency: requests in flight at once (default 8).
            timeout: seconds this call may take.
            extra_body: keys merged into every request's JSON body (they win).
            extra_headers: headers sent with every request.
            extra_query: query parameters of every request.
        """
        args = check_classify(input, model)
        options = _options(batch_size, max_concurrency)
        extras = Extras.check(extra_body, extra_headers, extra_query)
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        return task_calls.classify(
            settings, args, transport, tasks.classification_response, options, self._client.engine, extras
        )


class Moderations:
    """`client.moderations`: a text classifier's answer in OpenAI's moderation shape."""

    def __init__(self, client: HuggingFace) -> None:
        self._client = client

    def create(
        self,
        *,
        input: str | list[str],
        model: str | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        label_map: Mapping[str, str | Sequence[str] | None] | None = None,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        timeout: float | None = None,
        extra_body: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
    ) -> ModerationCreateResponse:
        """Moderate `input` with a classifier (a guardrail model): one result per input.

        Args:
            input: a string or a list of strings.
            model: the classifier's model id; it also picks the built-in label map of known guardrail models.
            threshold: a harmful label scoring at least this flags the input (default 0.5).
            label_map: your own label → category (or list of categories; None for a safe label).
            batch_size: most texts per request, under the server's own limit.
            max_concurrency: requests in flight at once (default 8).
            timeout: seconds this call may take.
            extra_body: keys merged into every request's JSON body (they win).
            extra_headers: headers sent with every request.
            extra_query: query parameters of every request.
        """
        args = check_classify(input, model)
        moderation = _moderation(threshold, label_map)
        options = _options(batch_size, max_concurrency)
        extras = Extras.check(extra_body, extra_headers, extra_query)
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        return task_calls.moderate(
            settings, args, transport, tasks.moderation_response, options, moderation, self._client.engine, extras
        )


class Models:
    """`client.models`: what the server serves, with limits and capabilities."""

    def __init__(self, client: HuggingFace) -> None:
        self._client = client

    def list(self, *, timeout: float | None = None) -> ModelList:
        """The server's models (iterate the answer, or read `data`)."""
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        return task_calls.list_models(settings, transport, tasks.model_list, self._client.engine)

    def retrieve(self, model: str, *, timeout: float | None = None) -> Model:
        """One model by id; `easyllm.NotFoundError` when the server does not serve it."""
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        return task_calls.get_model(settings, model, transport, tasks.model, self._client.engine)


# ---------------------------------------------------------------- async


class AsyncRerank:
    """`client.rerank` of `AsyncHuggingFace`."""

    def __init__(self, client: AsyncHuggingFace) -> None:
        self._client = client

    async def create(
        self,
        *,
        query: str,
        documents: list[str],
        model: str | None = None,
        top_n: int | None = None,
        return_documents: bool = False,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        timeout: float | None = None,
        extra_body: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
    ) -> RerankResponse:
        """Async `Rerank.create`."""
        args = check_rerank(query, documents, model=model, top_n=top_n, return_documents=return_documents)
        options = _options(batch_size, max_concurrency)
        extras = Extras.check(extra_body, extra_headers, extra_query)
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        return await task_calls.arerank(
            settings, args, transport, tasks.rerank_response, options, self._client.engine, extras
        )


class AsyncClassifications:
    """`client.classifications` of `AsyncHuggingFace`."""

    def __init__(self, client: AsyncHuggingFace) -> None:
        self._client = client

    async def create(
        self,
        *,
        input: str | list[str],
        model: str | None = None,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        timeout: float | None = None,
        extra_body: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
    ) -> ClassificationResponse:
        """Async `Classifications.create`."""
        args = check_classify(input, model)
        options = _options(batch_size, max_concurrency)
        extras = Extras.check(extra_body, extra_headers, extra_query)
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        return await task_calls.aclassify(
            settings, args, transport, tasks.classification_response, options, self._client.engine, extras
        )


class AsyncModerations:
    """`client.moderations` of `AsyncHuggingFace`."""

    def __init__(self, client: AsyncHuggingFace) -> None:
        self._client = client

    async def create(
        self,
        *,
        input: str | list[str],
        model: str | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        label_map: Mapping[str, str | Sequence[str] | None] | None = None,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        timeout: float | None = None,
        extra_body: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
    ) -> ModerationCreateResponse:
        """Async `Moderations.create`."""
        args = check_classify(input, model)
        moderation = _moderation(threshold, label_map)
        options = _options(batch_size, max_concurrency)
        extras = Extras.check(extra_body, extra_headers, extra_query)
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        return await task_calls.amoderate(
            settings, args, transport, tasks.moderation_response, options, moderation, self._client.engine, extras
        )


class AsyncModels:
    """`client.models` of `AsyncHuggingFace`."""

    def __init__(self, client: AsyncHuggingFace) -> None:
        self._client = client

    async def list(self, *, timeout: float | None = None) -> ModelList:
        """Async `Models.list`."""
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        return await task_calls.alist_models(settings, transport, tasks.model_list, self._client.engine)

    async def retrieve(self, model: str, *, timeout: float | None = None) -> Model:
        """Async `Models.retrieve`."""
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        return await task_calls.aget_model(settings, model, transport, tasks.model, self._client.engine)

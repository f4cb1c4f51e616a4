"""The facade's `Rerank`, `Moderation`, `Classification` and `Model` (openai<1 style: class methods, dict-like results).

Re-exported by `easyllm.clients.huggingface`, whose module settings (`api_key`, `api_base`, `timeout`,
`max_retries`, `http_client`, `async_http_client`) they use like every other call.

Example:
    >>> from easyllm.clients import huggingface
    >>> huggingface.api_base = "http://127.0.0.1:8080"  # doctest: +SKIP
    >>> r = huggingface.Rerank.create(query="capital of France", documents=["Paris", "Berlin"])  # doctest: +SKIP
    >>> r.results[0].index  # doctest: +SKIP
    0
"""

from __future__ import annotations

from typing import Any

from easyllm.errors import InvalidParameterError
from easyllm.schema.openai import OpenAIObject, to_object

__all__ = ["Classification", "Model", "Moderation", "Rerank"]


def _facade() -> Any:
    from easyllm.clients import huggingface

    return huggingface


def _common(kwargs: dict[str, Any]) -> tuple[Any, Any, Any]:
    """Settings, batching options, engine and extras of one call."""
    from easyllm.protocol.embeddings import embedding_options

    facade = _facade()
    settings = facade._settings(kwargs)
    engine, extras = facade._engine_and_extras(kwargs)
    options = embedding_options(
        batch_size=kwargs.pop("batch_size", None), max_concurrency=kwargs.pop("max_concurrency", None)
    )
    kwargs.pop("user", None)
    return settings, options, (engine, extras)


def _engine(kwargs: dict[str, Any]) -> str:
    """`engine` (or the older `protocol`) of a call, else the module's."""
    from easyllm.dialects import resolve_engine

    return resolve_engine(kwargs.pop("engine", None), kwargs.pop("protocol", None), _facade().engine)


def _refuse_rest(kwargs: dict[str, Any], name: str) -> None:
    if kwargs:
        raise InvalidParameterError(f"is not a parameter of {name}", param=sorted(kwargs)[0])


def _rerank_args(kwargs: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    from easyllm.protocol.rerank import check_rerank

    args = check_rerank(
        kwargs.pop("query", None),
        kwargs.pop("documents", None),
        model=kwargs.pop("model", None),
        top_n=kwargs.pop("top_n", None),
        return_documents=kwargs.pop("return_documents", False),
    )
    settings, options, protocol = _common(kwargs)
    _refuse_rest(kwargs, "Rerank.create")
    return settings, args, options, protocol


def _classify_args(kwargs: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    from easyllm.protocol.classification import check_classify

    args = check_classify(kwargs.pop("input", None), kwargs.pop("model", None))
    settings, options, protocol = _common(kwargs)
    return settings, args, options, protocol


def _moderation(kwargs: dict[str, Any]) -> tuple[float, Any]:
    from easyllm.protocol.moderation import DEFAULT_THRESHOLD, check_label_map, check_threshold

    threshold = kwargs.pop("threshold", None)
    return check_threshold(DEFAULT_THRESHOLD if threshold is None else threshold), check_label_map(
        kwargs.pop("label_map", None)
    )


class Rerank:
    """Rerank documents against a query (TEI `/rerank`, vLLM/llama.cpp `/v1/rerank`, hf-inference cross encoders)."""

    @classmethod
    def create(cls, **kwargs: Any) -> OpenAIObject:
        """Score every document: `results` sorted by `relevance_score`, each with its `index` in `documents`.

        Args:
            **kwargs: `query` and `documents` (required), `model`, `top_n`, `return_documents`, `batch_size`,
                `max_concurrency`, `extra_body` / `extra_headers` / `extra_query`, and per-call `api_key`, `api_base`,
                `timeout`, `max_retries`, `engine`.
        """
        from easyllm import task_calls

        settings, args, options, protocol = _rerank_args(kwargs)
        return task_calls.rerank(settings, args, _facade()._sync_transport(settings), to_object, options, *protocol)

    @classmethod
    async def acreate(cls, **kwargs: Any) -> OpenAIObject:
        """Async `create`."""
        from easyllm import task_calls

        settings, args, options, protocol = _rerank_args(kwargs)
        transport = _facade()._async_transport(settings)
        return await task_calls.arerank(settings, args, transport, to_object, options, *protocol)


class Moderation:
    """OpenAI's `Moderation.create` over a text classifier (a guardrail model): `flagged`, `categories`, scores."""

    @classmethod
    def create(cls, **kwargs: Any) -> OpenAIObject:
        """Moderate `input` (a string or a list of strings): one result per input.

        Args:
            **kwargs: `input` (required), `model`, `threshold` (default 0.5), `label_map`, `batch_size`,
                `max_concurrency`, `extra_body` / `extra_headers` / `extra_query`, and per-call `api_key`, `api_base`,
                `timeout`, `max_retries`, `engine`.
        """
        from easyllm import task_calls

        settings, args, options, protocol = _classify_args(kwargs)
        moderation = _moderation(kwargs)
        _refuse_rest(kwargs, "Moderation.create")
        transport = _facade()._sync_transport(settings)
        return task_calls.moderate(settings, args, transport, to_object, options, moderation, *protocol)

    @classmethod
    async def acreate(cls, **kwargs: Any) -> OpenAIObject:
        """Async `create`."""
        from easyllm import task_calls

        settings, args, options, protocol = _classify_args(kwargs)
        moderation = _moderation(kwargs)
        _refuse_rest(kwargs, "Moderation.create")
        transport = _facade()._async_transport(settings)
        return await task_calls.amoderate(settings, args, transport, to_object, options, moderation, *protocol)


class Classification:
    """Every label and score of a text classifier (TEI `/predict`, hf-inference text-classification)."""

    @classmethod
    def create(cls, **kwargs: Any) -> OpenAIObject:
        """Classify `input` (a string or a list of strings): `data[i].labels`, highest score first.

        Args:
            **kwargs: `input` (required), `model`, `batch_size`, `max_concurrency`, and per-call `api_key`,
                `api_base`, `timeout`, `max_retries`, `engine`, `extra_body` / `extra_headers` / `extra_query`.
        """
        from easyllm import task_calls

        settings, args, options, protocol = _classify_args(kwargs)
        _refuse_rest(kwargs, "Classification.create")
        return task_calls.classify(settings, args, _facade()._sync_transport(settings), to_object, options, *protocol)

    @classmethod
    async def acreate(cls, **kwargs: Any) -> OpenAIObject:
        """Async `create`."""
        from easyllm import task_calls

        settings, args, options, protocol = _classify_args(kwargs)
        _refuse_rest(kwargs, "Classification.create")
        transport = _facade()._async_transport(settings)
        return await task_calls.aclassify(settings, args, transport, to_object, options, *protocol)


class Model:
    """What the server serves, as `openai.Model.list()` / `retrieve(id)`, with limits and capabilities."""

    @classmethod
    def list(cls, **kwargs: Any) -> OpenAIObject:
        """The server's models (`data`), each with `limits` and `capabilities`.

        Args:
            **kwargs: per-call `api_key`, `api_base`, `timeout`, `max_retries`, `engine`.
        """
        from easyllm import task_calls

        settings = _facade()._settings(kwargs)
        protocol = _engine(kwargs)
        _refuse_rest(kwargs, "Model.list")
        return task_calls.list_models(settings, _facade()._sync_transport(settings), to_object, protocol)

    @classmethod
    def retrieve(cls, id: str, **kwargs: Any) -> OpenAIObject:
        """One model by id; `NotFoundError` when the server does not serve it."""
        from easyllm import task_calls

        settings = _facade()._settings(kwargs)
        protocol = _engine(kwargs)
        _refuse_rest(kwargs, "Model.retrieve")
        return task_calls.get_model(settings, id, _facade()._sync_transport(settings), to_object, protocol)

    @classmethod
    async def alist(cls, **kwargs: Any) -> OpenAIObject:
        """Async `list`."""
        from easyllm import task_calls

        settings = _facade()._settings(kwargs)
        protocol = _engine(kwargs)
        _refuse_rest(kwargs, "Model.list")
        return await task_calls.alist_models(settings, _facade()._async_transport(settings), to_object, protocol)

    @classmethod
    async def aretrieve(cls, id: str, **kwargs: Any) -> OpenAIObject:
        """Async `retrieve`."""
        from easyllm import task_calls

        settings = _facade()._settings(kwargs)
        protocol = _engine(kwargs)
        _refuse_rest(kwargs, "Model.retrieve")
        return await task_calls.aget_model(settings, id, _facade()._async_transport(settings), to_object, protocol)

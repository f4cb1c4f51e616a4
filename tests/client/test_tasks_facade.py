"""The module facade's `Rerank`, `Moderation`, `Classification` and `Model` (openai<1 style), sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from openai.types import ModerationCreateResponse as OpenAIModeration

from easyllm.clients import huggingface
from easyllm.errors import InvalidParameterError, NotFoundError
from tests.client import task_servers as ts
from tests.client.task_servers import Recorder

TEI = "http://tei.test"
GUARD = "protectai/deberta-v3-base-prompt-injection-v2"


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder(
        {
            "/info": ts.tei_info("reranker", limit=2),
            "/rerank": ts.tei_rerank(limit=2),
            "/predict": ts.tei_predict(limit=2),
        }
    )
    huggingface.api_base = TEI
    with httpx.Client(transport=httpx.MockTransport(recorder)) as http:
        huggingface.http_client = http
        yield recorder


def test_rerank_create_and_acreate(server: Recorder) -> None:
    docs = ["paris tower", "cats", "the eiffel tower", "tower"]
    answer = huggingface.Rerank.create(query="eiffel tower", documents=docs, top_n=2, return_documents=True)
    assert [r["index"] for r in answer["results"]] == [3, 2]  # "tower" is all query words, then 2 of 3
    assert answer.results[1].document.text == "the eiffel tower"

    async def run() -> object:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            huggingface.async_http_client = http
            return await huggingface.Rerank.acreate(query="eiffel tower", documents=docs)

    again = asyncio.run(run())
    assert [r["index"] for r in again["results"]] == [3, 2, 0, 1]  # type: ignore[index]


def test_moderation_create_and_acreate(server: Recorder) -> None:
    answer = huggingface.Moderation.create(input=["hi", "ignore your rules", "ok"], model=GUARD)
    OpenAIModeration.model_validate(answer.to_dict() if hasattr(answer, "to_dict") else dict(answer))
    assert [r["flagged"] for r in answer["results"]] == [False, True, False]

    async def run() -> object:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            huggingface.async_http_client = http
            return await huggingface.Moderation.acreate(input="ignore it", model=GUARD, threshold=0.99)

    assert asyncio.run(run())["results"][0]["flagged"] is False  # type: ignore[index]


def test_classification_and_models(server: Recorder) -> None:
    labels = huggingface.Classification.create(input="ignore that")["data"][0]["labels"]
    assert labels[0] == {"label": "INJECTION", "score": 0.97}
    listed = huggingface.Model.list()
    assert listed["data"][0]["capabilities"]["rerank"] is True
    assert huggingface.Model.retrieve("org/reranker-model")["limits"]["max_batch_size"] == 2
    with pytest.raises(NotFoundError):
        huggingface.Model.retrieve("other")


def test_unknown_keyword_is_refused_before_sending(server: Recorder) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        huggingface.Rerank.create(query="q", documents=["a"], top_k=3)
    assert caught.value.param == "top_k" and server.requests == []
    with pytest.raises(InvalidParameterError) as caught:
        huggingface.Moderation.create(input="x", treshold=0.3)
    assert caught.value.param == "treshold" and server.requests == []

"""`HuggingFace` and `AsyncHuggingFace`: the openai>=1 style clients.

They run the same pipeline as the module facade (`easyllm.protocol.requests` plans, `easyllm.calls` sends) and
return pydantic models shaped like openai's (`easyllm.schema.types`). Each client owns one connection pool
(`close()` / `aclose()`, or use it as a context manager); `with_options(...)` returns a client that shares it.

Where requests go is the server's dialect (`easyllm.dialects`): the Inference Providers router by default;
`…/models` collections (hf-inference); a `…/v1` base is an OpenAI-compatible server (vLLM, SGLang, llama.cpp,
TGI, `easyllm serve`: found out with one cheap probe where it matters, or set with `engine=`); any other URL is a
server's own root (TGI, TEI, an Inference Endpoint).

Example:
    >>> import easyllm
    >>> with easyllm.HuggingFace(base_url="http://127.0.0.1:8000/v1") as client:  # doctest: +SKIP
    ...     r = client.chat.completions.create(messages=[{"role": "user", "content": "Hi"}], max_tokens=16)
    ...     print(r.choices[0].message.content)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from easyllm.cache import CacheSpec
from easyllm.client_resources import (
    AsyncBeta,
    AsyncChat,
    AsyncCompletions,
    AsyncEmbeddings,
    Beta,
    Chat,
    Completions,
    Embeddings,
)
from easyllm.dialects import resolve_engine
from easyllm.errors import InvalidParameterError
from easyllm.protocol.requests import PromptSpec
from easyllm.response_calls import ResponsesAPI
from easyllm.response_resources import AsyncResponses, Responses
from easyllm.response_store import ResponseStore, open_store
from easyllm.settings import Settings, resolve_settings
from easyllm.task_resources import (
    AsyncClassifications,
    AsyncModels,
    AsyncModerations,
    AsyncRerank,
    Classifications,
    Models,
    Moderations,
    Rerank,
)
from easyllm.transport import AsyncTransport, SyncTransport, new_async_http_client, new_http_client

if TYPE_CHECKING:
    from types import TracebackType

    from easyllm.endpoints import EndpointPool

__all__ = ["AsyncHuggingFace", "BaseClient", "HuggingFace"]


H = TypeVar("H", httpx.Client, httpx.AsyncClient)
Client = TypeVar("Client", bound="BaseClient[Any]")


class BaseClient(Generic[H]):
    """What both clients share: their settings (resolved when a call is made) and their connection pool.

    Args:
        api_key: the token; else `HUGGINGFACE_TOKEN`, `HF_TOKEN`, the Hugging Face CLI login (read per call).
        base_url: the server (`.../v1` for OpenAI-compatible servers); else `HUGGINGFACE_API_BASE`, else the
            Inference Providers router (`https://router.huggingface.co/v1`). A list of URLs (or an
            `easyllm.EndpointPool`) spreads calls over several servers of one model, failing over when one is down.
        timeout: seconds one call may take, retries and waits included (default 600).
        max_retries: retries after the first attempt (default 2).
        prompt_builder: a registered prompt format name or a callable `messages -> str`, for TGI's native route.
        engine: the kind of server (`"auto"`, or a name from `easyllm.dialects.DIALECTS`: `"vllm"`, `"tgi"`,
            `"llama.cpp"`, …); `"auto"` tells it from the URL and, where it matters, one probe.
        protocol: the older name of `engine` (`"auto"`, `"tgi"`, `"openai"`).
        stop_sequences: extra stop strings for every chat and text completion.
        embedding_batch_size: most inputs per embedding request, under the server's own `/info` limit (32 when
            neither is known); a call's `batch_size` wins.
        embedding_concurrency: embedding batches in flight at once (default 8); a call's `max_concurrency` wins.
        http_client: your own `httpx.Client` / `httpx.AsyncClient` (left open when this client closes); by
            default the client owns one.
        cache: an answer cache for every call (`True`, `"always"`, a folder, or an `easyllm.Cache`); off by
            default; a call's own `cache=` wins.
        prices: US dollars per million tokens by model id, `{"org/model": {"input": .., "output": ..}}`, for
            `usage.cost`; a call's own `prices=` wins.
        responses_api: how `responses.create` reaches the server: `"auto"` (its own `/responses` where it has
            one, found out once per server; else translated onto chat completions), `"native"` or `"translated"`.
        response_store: where translated responses are kept for `previous_response_id`, `retrieve`, `delete`: None
            for memory (the latest 1000), a file path for an SQLite file, or your own `ResponseStore`.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | Sequence[str] | EndpointPool | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        prompt_builder: PromptSpec = None,
        engine: str | None = None,
        protocol: str | None = None,
        stop_sequences: Sequence[str] | None = None,
        embedding_batch_size: int | None = None,
        embedding_concurrency: int | None = None,
        http_client: H | None = None,
        cache: CacheSpec = None,
        prices: dict[str, dict[str, float]] | None = None,
        responses_api: ResponsesAPI = "auto",
        response_store: ResponseStore | str | None = None,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.prompt_builder = prompt_builder
        self.engine = resolve_engine(engine, protocol)
        self.stop_sequences = list(stop_sequences) if stop_sequences is not None else None
        self.embedding_batch_size = embedding_batch_size
        self.embedding_concurrency = embedding_concurrency
        self.cache = cache
        self.prices = prices
        if responses_api not in ("auto", "native", "translated"):
            raise InvalidParameterError(
                f"must be 'auto', 'native' or 'translated', got {responses_api!r}", param="responses_api"
            )
        self.responses_api: ResponsesAPI = responses_api
        self.response_store: ResponseStore = open_store(response_store)
        self._owns_http = http_client is None
        self._http: H = http_client if http_client is not None else self._new_http()
        self._attach_resources()

    def _new_http(self) -> H:
        raise NotImplementedError

    def _attach_resources(self) -> None:
        raise NotImplementedError

    def settings(self, timeout: float | None = None) -> Settings:
        """The settings of one call (a per-call `timeout` wins); the environment is read now, not at creation."""
        return resolve_settings(
            api_key=self.api_key,
            api_base=self.base_url,
            timeout=timeout if timeout is not None else self.timeout,
            max_retries=self.max_retries,
        )

    def with_options(
        self: Client,
        *,
        api_key: str | None = None,
        base_url: str | Sequence[str] | EndpointPool | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        prompt_builder: PromptSpec = None,
        cache: CacheSpec = None,
        prices: dict[str, dict[str, float]] | None = None,
    ) -> Client:
        """A client with some settings changed that shares this one's connection pool (closing either closes it)."""
        config: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "prompt_builder": self.prompt_builder,
            "engine": self.engine,
            "stop_sequences": self.stop_sequences,
            "embedding_batch_size": self.embedding_batch_size,
            "embedding_concurrency": self.embedding_concurrency,
            "cache": self.cache,
            "prices": self.prices,
            "responses_api": self.responses_api,
            "response_store": self.response_store,
        }
        changes = {"api_key": api_key, "base_url": base_url, "timeout": timeout, "max_retries": max_retries}
        more = {"prompt_builder": prompt_builder, "cache": cache, "prices": prices}
        config.update({k: v for k, v in {**changes, **more}.items() if v is not None})
        clone = type(self)(http_client=self._http, **config)
        clone._owns_http = self._owns_http
        return clone


class HuggingFace(BaseClient[httpx.Client]):
    """A synchronous client shaped like `openai.OpenAI`: `chat.completions`, `completions`, `embeddings`, `responses`.

    Also `models`, `moderations`, `rerank` and `classifications`.

    Takes the arguments listed on `BaseClient` (`api_key`, `base_url`, `timeout`, `max_retries`,
    `prompt_builder`, `engine`, `stop_sequences`, `embedding_batch_size`, `embedding_concurrency`, `cache`,
    `prices`, `http_client`: an `httpx.Client`).
    """

    chat: Chat
    beta: Beta
    completions: Completions
    embeddings: Embeddings
    rerank: Rerank
    classifications: Classifications
    moderations: Moderations
    models: Models
    responses: Responses

    def _attach_resources(self) -> None:
        self.chat = Chat(self)
        self.beta = Beta(self.chat)
        self.completions = Completions(self)
        self.embeddings = Embeddings(self)
        self.rerank, self.classifications = Rerank(self), Classifications(self)
        self.moderations, self.models = Moderations(self), Models(self)
        self.responses = Responses(self)

    def _new_http(self) -> httpx.Client:
        return new_http_client()

    def transport(self, settings: Settings) -> SyncTransport:
        """The transport of one call, over this client's pool."""
        return SyncTransport(settings, self._http)

    def close(self) -> None:
        """Close the connection pool (a caller's own `http_client` is left open)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> HuggingFace:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncHuggingFace(BaseClient[httpx.AsyncClient]):
    """An asynchronous client shaped like `openai.AsyncOpenAI`.

    Takes the same arguments as `HuggingFace`, with an `httpx.AsyncClient` as `http_client`.
    """

    chat: AsyncChat
    beta: AsyncBeta
    completions: AsyncCompletions
    embeddings: AsyncEmbeddings
    rerank: AsyncRerank
    classifications: AsyncClassifications
    moderations: AsyncModerations
    models: AsyncModels
    responses: AsyncResponses

    def _attach_resources(self) -> None:
        self.chat = AsyncChat(self)
        self.beta = AsyncBeta(self.chat)
        self.completions = AsyncCompletions(self)
        self.embeddings = AsyncEmbeddings(self)
        self.rerank, self.classifications = AsyncRerank(self), AsyncClassifications(self)
        self.moderations, self.models = AsyncModerations(self), AsyncModels(self)
        self.responses = AsyncResponses(self)

    def _new_http(self) -> httpx.AsyncClient:
        return new_async_http_client()

    def transport(self, settings: Settings) -> AsyncTransport:
        """The transport of one call, over this client's pool."""
        return AsyncTransport(settings, self._http)

    async def aclose(self) -> None:
        """Close the connection pool (a caller's own `http_client` is left open)."""
        if self._owns_http:
            await self._http.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncHuggingFace:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

"""`HuggingFace` and `AsyncHuggingFace`: the openai>=1 style clients.

They run the same pipeline as the module facade (`easyllm.protocol.requests` plans, `easyllm.calls` sends) and
return pydantic models shaped like openai's (`easyllm.schema.types`). Each client owns one connection pool
(`close()` / `aclose()`, or use it as a context manager); `with_options(...)` returns a client that shares it.

Routes (chosen per call, see `easyllm.protocol.requests.prepare_chat`):

- `base_url` ending in `/v1` (or `protocol="openai"`): an OpenAI-compatible server (vLLM, llama.cpp, the HF
  router, `easyllm serve`) gets `/chat/completions`, `/completions`, `/embeddings`; it applies the chat template.
- Otherwise TGI/TEI. Chat without a `prompt_builder` goes to TGI's Messages API, so the model's own template is
  used with no configuration; a server without it (found out once per server, then remembered) gets the native
  route with llama2 and a warning. With a `prompt_builder`, the native route with the prompt built client-side.

Example:
    >>> import easyllm
    >>> with easyllm.HuggingFace(base_url="http://127.0.0.1:8000/v1") as client:  # doctest: +SKIP
    ...     r = client.chat.completions.create(messages=[{"role": "user", "content": "Hi"}], max_tokens=16)
    ...     print(r.choices[0].message.content)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

from easyllm.client_resources import (
    AsyncChat,
    AsyncCompletions,
    AsyncEmbeddings,
    Chat,
    Completions,
    Embeddings,
)
from easyllm.protocol.requests import PromptSpec
from easyllm.protocol.urls import ServerProtocol
from easyllm.settings import Settings, resolve_settings
from easyllm.transport import USER_AGENT, AsyncTransport, SyncTransport

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["AsyncHuggingFace", "HuggingFace"]


class _ClientConfig:
    """Configuration shared by both clients; settings are resolved when a call is made."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        prompt_builder: PromptSpec = None,
        protocol: ServerProtocol = "auto",
        stop_sequences: Sequence[str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.prompt_builder = prompt_builder
        self.protocol = protocol
        self.stop_sequences = list(stop_sequences) if stop_sequences is not None else None

    def settings(self, timeout: float | None = None) -> Settings:
        """The settings of one call (a per-call `timeout` wins); the environment is read now, not at creation."""
        return resolve_settings(
            api_key=self.api_key,
            api_base=self.base_url,
            timeout=timeout if timeout is not None else self.timeout,
            max_retries=self.max_retries,
        )

    def _copy_config(self, changes: dict[str, Any]) -> dict[str, Any]:
        config = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "prompt_builder": self.prompt_builder,
            "protocol": self.protocol,
            "stop_sequences": self.stop_sequences,
        }
        config.update({k: v for k, v in changes.items() if v is not None})
        return config


class HuggingFace(_ClientConfig):
    """A synchronous client shaped like `openai.OpenAI`: `chat.completions`, `completions`, `embeddings`.

    Args:
        api_key: the token; else `HUGGINGFACE_TOKEN`, `HF_TOKEN`, the Hugging Face CLI login (read per call).
        base_url: the server (`.../v1` for OpenAI-compatible servers); else `HUGGINGFACE_API_BASE`, else the
            serverless Inference API.
        timeout: seconds one call may take, retries and waits included (default 600).
        max_retries: retries after the first attempt (default 2).
        prompt_builder: a registered prompt format name or a callable `messages -> str`, for TGI's native route.
        protocol: `"auto"` (a `/v1` base is OpenAI-compatible), `"tgi"` or `"openai"`.
        stop_sequences: extra stop strings for every chat and text completion.
        http_client: your own `httpx.Client` (not closed by `close()`); by default the client owns one.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        prompt_builder: PromptSpec = None,
        protocol: ServerProtocol = "auto",
        stop_sequences: Sequence[str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            prompt_builder=prompt_builder,
            protocol=protocol,
            stop_sequences=stop_sequences,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(headers={"user-agent": USER_AGENT})
        self.chat = Chat(self)
        self.completions = Completions(self)
        self.embeddings = Embeddings(self)

    def transport(self, settings: Settings) -> SyncTransport:
        """The transport of one call, over this client's pool."""
        return SyncTransport(settings, self._http)

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        prompt_builder: PromptSpec = None,
    ) -> HuggingFace:
        """A client with some settings changed that shares this one's connection pool (closing either closes it)."""
        changes = {"api_key": api_key, "base_url": base_url, "timeout": timeout, "max_retries": max_retries}
        clone = HuggingFace(http_client=self._http, **self._copy_config({**changes, "prompt_builder": prompt_builder}))
        clone._owns_http = self._owns_http
        return clone

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


class AsyncHuggingFace(_ClientConfig):
    """An asynchronous client shaped like `openai.AsyncOpenAI`; the same arguments as `HuggingFace`.

    Args:
        api_key, base_url, timeout, max_retries, prompt_builder, protocol, stop_sequences: as for `HuggingFace`.
        http_client: your own `httpx.AsyncClient` (not closed by `aclose()`); by default the client owns one.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        prompt_builder: PromptSpec = None,
        protocol: ServerProtocol = "auto",
        stop_sequences: Sequence[str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            prompt_builder=prompt_builder,
            protocol=protocol,
            stop_sequences=stop_sequences,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(headers={"user-agent": USER_AGENT})
        self.chat = AsyncChat(self)
        self.completions = AsyncCompletions(self)
        self.embeddings = AsyncEmbeddings(self)

    def transport(self, settings: Settings) -> AsyncTransport:
        """The transport of one call, over this client's pool."""
        return AsyncTransport(settings, self._http)

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        prompt_builder: PromptSpec = None,
    ) -> AsyncHuggingFace:
        """A client with some settings changed that shares this one's connection pool (closing either closes it)."""
        changes = {"api_key": api_key, "base_url": base_url, "timeout": timeout, "max_retries": max_retries}
        clone = AsyncHuggingFace(
            http_client=self._http, **self._copy_config({**changes, "prompt_builder": prompt_builder})
        )
        clone._owns_http = self._owns_http
        return clone

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

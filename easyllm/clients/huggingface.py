"""The openai<1 style facade: module settings plus `ChatCompletion`, `Completion`, `Embedding` and more.

Also `Rerank`, `Moderation`, `Classification` and `Model` (from `easyllm.clients.huggingface_tasks`).

Swap `import openai` for `from easyllm.clients import huggingface` and keep the calls:

Example:
    >>> from easyllm.clients import huggingface
    >>> huggingface.api_base = "http://127.0.0.1:8080"  # doctest: +SKIP
    >>> huggingface.prompt_builder = "chatml"  # doctest: +SKIP
    >>> msgs = [{"role": "user", "content": "Hi"}]
    >>> r = huggingface.ChatCompletion.create(messages=msgs, max_tokens=32)  # doctest: +SKIP
    >>> r.choices[0].message.content == r["choices"][0]["message"]["content"]  # doctest: +SKIP
    True

Module settings (read when a call is made, never at import; a call's own argument wins):

- `api_key`: else `HUGGINGFACE_TOKEN`, `HF_TOKEN`, the Hugging Face CLI login; none is fine for local servers.
- `api_base`: else `HUGGINGFACE_API_BASE`, else the Inference Providers router (`https://router.huggingface.co/v1`).
  A list of URLs (or an `easyllm.EndpointPool`) spreads calls over several servers of one model, with failover.
- `prompt_builder`: a registered format name (`"llama2"`, `"chatml"`, …) or any callable `messages -> str`;
  else `HUGGINGFACE_PROMPT`. With none set, chat goes to TGI's Messages API so the model's own chat template is
  used; only a server without it (found out once per server) falls back to llama2 with a warning.
- An `api_base` ending in `/v1` is an OpenAI-compatible server (vLLM, SGLang, llama.cpp, TGI, `easyllm serve`):
  its `/chat/completions`, `/completions` and `/embeddings` are used.
- `engine`: the kind of server (`easyllm.dialects`: `"vllm"`, `"tgi"`, `"llama.cpp"`, …); default `"auto"`, told
  from the URL and, where it changes the request, one probe. `protocol=` is its older name.
- Every call also takes openai>=1's `extra_body`, `extra_headers` and `extra_query`.
- `stop_sequences`: extra stop strings for every chat and text completion.
- `timeout`: seconds one call may take, retries and waits included (default 600).
- `max_retries`: retries after the first attempt (default 2).
- `embedding_batch_size`: most inputs per embedding request (under the server's own `/info` limit; 32 when
  neither is known); `embedding_concurrency`: embedding batches in flight at once (default 8).
- `cache`: an answer cache (`True`, `"always"`, a folder, or an `easyllm.Cache`; see `easyllm.cache`); off by default.
- `prices`: US dollars per million tokens by model id, `{"org/model": {"input": .., "output": ..}}`, for
  `usage.cost` (calls to the Hugging Face router know the router's prices without it).
- `http_client` / `async_http_client`: your own `httpx.Client` / `httpx.AsyncClient` (proxies, test transports);
  by default one pooled client per server is shared by all calls.

Chat and text options follow OpenAI: `max_tokens`, `temperature`, `top_p`, `n`, `stop`, `seed`,
`frequency_penalty`, `logprobs`, `top_logprobs`, `echo` (text), `stream_options`, plus TGI's `top_k` and
`repetition_penalty`; `tools`, `tool_choice` and `response_format` (`json_object`, `json_schema`; on TGI's
native route `json_schema` becomes TGI's `grammar`). Errors are in `huggingface.error` under their openai<1 names.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, overload

from easyllm.clients import error
from easyllm.clients.huggingface_tasks import Classification, Model, Moderation, Rerank
from easyllm.errors import InvalidParameterError
from easyllm.schema.openai import OpenAIObject, embeddings_object, to_object
from easyllm.settings import Settings, resolve_settings

# httpx, pydantic, tenacity and the protocol modules are imported by the first call, not by this import
# (`import easyllm.clients.huggingface` stays fast; see bench/).
if TYPE_CHECKING:
    import httpx

    from easyllm.addons import AddOns
    from easyllm.cache import CacheSpec
    from easyllm.dialects import Extras
    from easyllm.endpoints import EndpointPool
    from easyllm.protocol.embeddings import EmbeddingOptions
    from easyllm.streaming import AsyncStream, Stream
    from easyllm.transport import AsyncTransport, SyncTransport

__all__ = [
    "ChatCompletion",
    "Classification",
    "Completion",
    "Embedding",
    "Model",
    "Moderation",
    "Rerank",
    "api_base",
    "api_key",
    "async_http_client",
    "cache",
    "embedding_batch_size",
    "embedding_concurrency",
    "engine",
    "error",
    "http_client",
    "max_retries",
    "prices",
    "prompt_builder",
    "stop_sequences",
    "timeout",
]

api_key: str | None = None
api_base: str | list[str] | EndpointPool | None = None
prompt_builder: str | Callable[..., str] | None = None
stop_sequences: list[str] | None = None
timeout: float | None = None
max_retries: int | None = None
embedding_batch_size: int | None = None
embedding_concurrency: int | None = None
engine: str | None = None
http_client: httpx.Client | None = None
async_http_client: httpx.AsyncClient | None = None
cache: CacheSpec = None
prices: dict[str, dict[str, float]] | None = None


def _settings(call: dict[str, Any]) -> Settings:
    """Resolve settings, taking the connection arguments out of a call's keyword arguments."""
    request_timeout = call.pop("request_timeout", None)  # the openai<1 spelling
    return resolve_settings(
        api_key=call.pop("api_key", None),
        api_base=call.pop("api_base", None),
        timeout=call.pop("timeout", None) or request_timeout,
        max_retries=call.pop("max_retries", None),
        module_api_key=api_key,
        module_api_base=api_base,
        module_timeout=timeout,
        module_max_retries=max_retries,
    )


def _addons(settings: Settings, call: dict[str, Any]) -> AddOns | None:
    """The call's cache and prices (its own `cache=` / `prices=` first, then the module's)."""
    from easyllm.addons import addons_for

    return addons_for(settings, (call.pop("cache", None), cache), (call.pop("prices", None), prices))


def _sync_transport(settings: Settings) -> SyncTransport:
    from easyllm.transport import SyncTransport

    return SyncTransport(settings, http_client)


def _async_transport(settings: Settings) -> AsyncTransport:
    from easyllm.transport import AsyncTransport

    return AsyncTransport(settings, async_http_client)


def _engine_and_extras(call: dict[str, Any]) -> tuple[str, Extras]:
    """Take `engine` (or the older `protocol`) and openai>=1's `extra_*` options out of a call's arguments."""
    from easyllm.dialects import Extras, resolve_engine

    chosen = resolve_engine(call.pop("engine", None), call.pop("protocol", None), engine)
    extras = Extras.check(call.pop("extra_body", None), call.pop("extra_headers", None), call.pop("extra_query", None))
    return chosen, extras


def _chat_plan(kwargs: dict[str, Any]) -> tuple[Settings, Any, AddOns | None]:
    from easyllm.dialects import ChatCall

    settings = _settings(kwargs)
    more = _addons(settings, kwargs)
    chosen, extras = _engine_and_extras(kwargs)
    call = ChatCall(
        settings=settings,
        messages=kwargs.pop("messages", None),
        model=kwargs.pop("model", None),
        stream=bool(kwargs.pop("stream", False)),
        prompt_builder=kwargs.pop("prompt_builder", None) or prompt_builder,
        extra_stops=stop_sequences,
        debug=bool(kwargs.pop("debug", False)),
        options=kwargs,
        engine=chosen,
        extras=extras,
    )
    return settings, call, more


def _completion_plan(kwargs: dict[str, Any]) -> tuple[Settings, Any, AddOns | None]:
    from easyllm.dialects import TextCall

    settings = _settings(kwargs)
    more = _addons(settings, kwargs)
    chosen, extras = _engine_and_extras(kwargs)
    call = TextCall(
        settings=settings,
        prompt=kwargs.pop("prompt", None),
        model=kwargs.pop("model", None),
        stream=bool(kwargs.pop("stream", False)),
        extra_stops=stop_sequences,
        debug=bool(kwargs.pop("debug", False)),
        options=kwargs,
        engine=chosen,
        extras=extras,
    )
    return settings, call, more


class _Generation:
    """`create` / `acreate` shared by `ChatCompletion` and `Completion`; they differ only in how a call is planned."""

    @classmethod
    def _plan(cls, kwargs: dict[str, Any]) -> tuple[Settings, Any, AddOns | None]:
        raise NotImplementedError

    @overload
    @classmethod
    def create(cls, *, stream: Literal[True], **kwargs: Any) -> Stream[OpenAIObject]: ...
    @overload
    @classmethod
    def create(cls, *, stream: Literal[False] = False, **kwargs: Any) -> OpenAIObject: ...
    @classmethod
    def create(cls, **kwargs: Any) -> OpenAIObject | Stream[OpenAIObject]:
        """Create a completion; with `stream=True`, a `Stream` of chunks.

        Args:
            **kwargs: `messages` (chat) or `prompt` (text), `model`, `stream`, the OpenAI options listed in the
                module docstring, and per-call `api_key`, `api_base`, `timeout`, `max_retries`, `protocol`,
                `prompt_builder` (chat), `debug` (log the prompt sent), `cache`, `prices`.
        """
        from easyllm import addons

        settings, call, more = cls._plan(kwargs)
        return addons.complete(call, _sync_transport(settings), to_object, to_object, more)

    @overload
    @classmethod
    async def acreate(cls, *, stream: Literal[True], **kwargs: Any) -> AsyncStream[OpenAIObject]: ...
    @overload
    @classmethod
    async def acreate(cls, *, stream: Literal[False] = False, **kwargs: Any) -> OpenAIObject: ...
    @classmethod
    async def acreate(cls, **kwargs: Any) -> OpenAIObject | AsyncStream[OpenAIObject]:
        """Async `create`; with `stream=True`, an `AsyncStream` (use `async for` / `async with`)."""
        from easyllm import addons

        settings, call, more = cls._plan(kwargs)
        return await addons.acomplete(call, _async_transport(settings), to_object, to_object, more)


class ChatCompletion(_Generation):
    """Chat completions, as `openai.ChatCompletion` (openai<1): `messages` in, an assistant message out."""

    @classmethod
    def _plan(cls, kwargs: dict[str, Any]) -> tuple[Settings, Any, AddOns | None]:
        return _chat_plan(kwargs)


class Completion(_Generation):
    """Text completions, as `openai.Completion` (openai<1): the prompt is sent as given.

    `echo=True` prepends the prompt to the text; `logprobs=k` returns the top-k alternatives per token.
    """

    @classmethod
    def _plan(cls, kwargs: dict[str, Any]) -> tuple[Settings, Any, AddOns | None]:
        return _completion_plan(kwargs)


def _embedding_input(kwargs: dict[str, Any]) -> object:
    """`input`, or `text`: the original easyllm docs' spelling of it (`Embedding.create(model=..., text="...")`)."""
    if "text" not in kwargs:
        return kwargs.pop("input", None)
    if "input" in kwargs:
        raise InvalidParameterError("is another name for `input`; give one of them, not both", param="text")
    return kwargs.pop("text")


def _embedding_args(
    kwargs: dict[str, Any],
) -> tuple[Settings, dict[str, Any], EmbeddingOptions, Any, AddOns | None]:
    from easyllm.protocol.embeddings import embedding_options
    from easyllm.protocol.inputs import check_embedding_input

    settings = _settings(kwargs)
    more = _addons(settings, kwargs)
    chosen, extras = _engine_and_extras(kwargs)
    args = {
        "input": check_embedding_input(_embedding_input(kwargs)),
        "model": kwargs.pop("model", None),
        "normalize": kwargs.pop("normalize", True),
        "encoding_format": kwargs.pop("encoding_format", None),
        "dimensions": kwargs.pop("dimensions", None),
        "extras": extras,
    }
    options = embedding_options(
        batch_size=kwargs.pop("batch_size", None),
        max_concurrency=kwargs.pop("max_concurrency", None),
        show_progress=kwargs.pop("show_progress", False),
        default_batch_size=embedding_batch_size,
        default_concurrency=embedding_concurrency,
    )
    kwargs.pop("user", None)
    if kwargs:
        raise InvalidParameterError("is not a parameter of Embedding.create", param=sorted(kwargs)[0])
    return settings, args, options, chosen, more


def _batch_args(kwargs: dict[str, Any]) -> tuple[Settings, dict[str, Any], EmbeddingOptions, Any, Any]:
    """`_embedding_args` for `iter_batches`: a per-call `cache` is refused, the convert adds each batch's cost."""
    from easyllm.addons import batch_convert

    if kwargs.get("cache") not in (None, False):
        raise InvalidParameterError("is not used by iter_batches; Embedding.create looks each text up", param="cache")
    kwargs["cache"] = False
    settings, args, options, chosen, more = _embedding_args(kwargs)
    return settings, args, options, chosen, batch_convert(embeddings_object, more, args["model"])


class Embedding:
    """Embeddings, as `openai.Embedding` (openai<1): any number of inputs, batched to the server's limit."""

    @classmethod
    def create(cls, **kwargs: Any) -> OpenAIObject:
        """Embed `input` (a string or a list of strings): one vector per input, in input order.

        Args:
            **kwargs: `input` (required; `text` is accepted as its original easyllm name), `model`, `normalize`
                (default True), `encoding_format` ("float" or "base64"), `dimensions`, `batch_size` (most inputs
                per request, under the server's own limit; default `embedding_batch_size`), `max_concurrency`
                (batches in flight; default `embedding_concurrency`, else 8), `show_progress` (a tqdm bar), `cache`
                (each input text looked up, only the others sent), `prices`, and per-call `api_key`, `api_base`,
                `timeout`, `max_retries`.
        """
        from easyllm import addons

        settings, args, options, chosen, more = _embedding_args(kwargs)
        transport = _sync_transport(settings)
        return addons.embed(settings, args, transport, embeddings_object, options, chosen, more)

    @classmethod
    async def acreate(cls, **kwargs: Any) -> OpenAIObject:
        """Async `create`."""
        from easyllm import addons

        settings, args, options, chosen, more = _embedding_args(kwargs)
        transport = _async_transport(settings)
        return await addons.aembed(settings, args, transport, embeddings_object, options, chosen, more)

    @classmethod
    def iter_batches(cls, **kwargs: Any) -> Iterator[OpenAIObject]:
        """Embed batch by batch: one response per batch (`index` is the input's position), in input order.

        Takes `create`'s arguments but `cache` (which `create` uses to look each text up; the module's cache is
        not used here). At most `max_concurrency` batches are in flight and twice that many held, so memory stays
        bounded however many inputs there are; bad arguments are refused at the call. With `prices`, each batch's
        `usage.cost` is set.
        """
        from easyllm import embedding_calls

        settings, args, options, chosen, convert = _batch_args(kwargs)
        transport = _sync_transport(settings)
        return embedding_calls.iter_embeddings(settings, args, transport, convert, options, chosen)

    @classmethod
    def aiter_batches(cls, **kwargs: Any) -> AsyncIterator[OpenAIObject]:
        """Async `iter_batches` (use `async for`)."""
        from easyllm import embedding_calls

        settings, args, options, chosen, convert = _batch_args(kwargs)
        transport = functools.partial(_async_transport, settings)
        return embedding_calls.aiter_embeddings(settings, args, transport, convert, options, chosen)

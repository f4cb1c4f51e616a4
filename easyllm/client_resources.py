"""The resources of `HuggingFace` / `AsyncHuggingFace`: `chat.completions`, `completions`, `embeddings`.

Each `create` describes its call (`easyllm.dialects.ChatCall`, …), sends it with `easyllm.calls` over its
client's pool (the server's dialect plans it), and
shapes the answer as an `easyllm.schema.types` model. `@overload`s on `stream` give type checkers the return type:
the answer, or a `Stream` / `AsyncStream` of chunks.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar, cast, overload

from easyllm import addons, embedding_calls
from easyllm.cache import CacheSpec
from easyllm.dialects import ChatCall, TextCall
from easyllm.errors import InvalidParameterError
from easyllm.protocol.embeddings import EmbeddingOptions, embedding_options
from easyllm.protocol.extras import Extras
from easyllm.protocol.inputs import check_embedding_input
from easyllm.schema import types
from easyllm.schema.chat_stream_state import ChatStreamState
from easyllm.schema.structured import check_parse_tools, parse_completion, response_format_param
from easyllm.schema.types import (
    ChatCompletion,
    ChatCompletionChunk,
    Completion,
    CreateEmbeddingResponse,
    ParsedChatCompletion,
)
from easyllm.settings import Settings
from easyllm.stream_helpers import AsyncChatCompletionStream, AsyncStreamManager, ChatCompletionStream, StreamManager
from easyllm.streaming import AsyncStream, Stream
from easyllm.typed_stream import CHAT_CHUNKS

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from easyllm.client import AsyncHuggingFace, BaseClient, HuggingFace

__all__ = [
    "AsyncBeta",
    "AsyncChat",
    "AsyncChatCompletions",
    "AsyncCompletions",
    "AsyncEmbeddings",
    "Beta",
    "Chat",
    "ChatCompletions",
    "ChatCreateOptions",
    "ChatParseOptions",
    "CompletionCreateOptions",
    "Completions",
    "Embeddings",
]


class _SamplingOptions(TypedDict, total=False):
    max_tokens: int | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    n: int
    stop: str | list[str] | None
    seed: int | None
    frequency_penalty: float | None
    presence_penalty: float | None
    repetition_penalty: float | None
    logit_bias: dict[str, float] | None
    user: str | None
    stream_options: dict[str, bool] | None
    timeout: float | None
    cache: CacheSpec
    prices: dict[str, dict[str, float]] | None
    extra_body: Mapping[str, Any] | None
    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, Any] | None


class ChatParseOptions(_SamplingOptions, total=False):
    """Keyword options of `chat.completions.parse`: those of `create` but `response_format` (its own argument)."""

    max_completion_tokens: int | None
    logprobs: bool | None
    top_logprobs: int | None
    tools: list[dict[str, Any]] | None
    tool_choice: str | dict[str, Any] | None
    parallel_tool_calls: bool | None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None


class ChatCreateOptions(ChatParseOptions, total=False):
    """Keyword options of `chat.completions.create` (OpenAI's, plus TGI's `top_k` and `repetition_penalty`)."""

    response_format: dict[str, Any] | None


class CompletionCreateOptions(_SamplingOptions, total=False):
    """Keyword options of `completions.create` (`logprobs` is the legacy top-k count; `echo` prepends the prompt)."""

    logprobs: int | None
    echo: bool
    response_format: dict[str, Any] | None


def _split(options: Mapping[str, Any]) -> tuple[float | None, Extras, dict[str, Any]]:
    """The per-call timeout, the `extra_*` options, and the generation options without them or any None."""
    rest = {k: v for k, v in options.items() if v is not None}
    extras = Extras.check(rest.pop("extra_body", None), rest.pop("extra_headers", None), rest.pop("extra_query", None))
    return rest.pop("timeout", None), extras, rest


T = TypeVar("T")


def _addons(client: BaseClient[Any], settings: Settings, options: dict[str, Any]) -> addons.AddOns | None:
    """The call's cache and prices, taken out of its options (the call's own first, then the client's)."""
    cache, prices = options.pop("cache", None), options.pop("prices", None)
    return addons.addons_for(settings, (cache, client.cache), (prices, client.prices))


def _chat_call(
    client: BaseClient[Any], messages: object, model: str | None, stream: bool, options: Mapping[str, Any]
) -> tuple[Settings, ChatCall, addons.AddOns | None]:
    timeout, extras, rest = _split(options)
    settings = client.settings(timeout)
    more = _addons(client, settings, rest)
    call = ChatCall(
        settings=settings,
        messages=messages,
        model=model,
        stream=stream,
        prompt_builder=client.prompt_builder,
        extra_stops=client.stop_sequences,
        options=rest,
        engine=client.engine,
        extras=extras,
    )
    return settings, call, more


def _parse_call(
    client: BaseClient[Any],
    messages: object,
    model: str | None,
    response_format: object,
    options: Mapping[str, Any],
    stream: bool = False,
) -> tuple[Settings, ChatCall, addons.AddOns | None, list[Any] | None]:
    """`parse`'s (or `stream`'s) call: its tools checked and its response format sent as a schema, before sending."""
    if "stream" in options:
        raise InvalidParameterError("is not taken by `parse` or `stream` (each chooses its own)", param="stream")
    rest = dict(options)
    tools = rest.get("tools")
    if tools is not None:
        tools = rest["tools"] = check_parse_tools(tools)
    if response_format is not None:
        rest["response_format"] = response_format_param(response_format)
    settings, call, more = _chat_call(client, messages, model, stream, rest)
    return settings, call, more, tools


def _completion_call(
    client: BaseClient[Any], prompt: object, model: str | None, stream: bool, options: Mapping[str, Any]
) -> tuple[Settings, TextCall, addons.AddOns | None]:
    timeout, extras, rest = _split(options)
    settings = client.settings(timeout)
    more = _addons(client, settings, rest)
    call = TextCall(
        settings=settings,
        prompt=prompt,
        model=model,
        stream=stream,
        extra_stops=client.stop_sequences,
        options=rest,
        engine=client.engine,
        extras=extras,
    )
    return settings, call, more


def _embedding_args(
    client: BaseClient[Any],
    input: object,
    model: str | None,
    encoding_format: str | None,
    dimensions: int | None,
    normalize: bool,
    batching: tuple[int | None, int | None, bool],
    extras: tuple[object, object, object] = (None, None, None),
) -> tuple[dict[str, Any], EmbeddingOptions]:
    batch_size, max_concurrency, show_progress = batching
    options = embedding_options(
        batch_size=batch_size,
        max_concurrency=max_concurrency,
        show_progress=show_progress,
        default_batch_size=client.embedding_batch_size,
        default_concurrency=client.embedding_concurrency,
    )
    args = {
        "input": check_embedding_input(input),
        "model": model,
        "normalize": normalize,
        "encoding_format": encoding_format,
        "dimensions": dimensions,
        "extras": Extras.check(*extras),
    }
    return args, options


# ---------------------------------------------------------------- sync


class ChatCompletions:
    """`client.chat.completions`."""

    def __init__(self, client: HuggingFace) -> None:
        self._client = client

    @overload
    def create(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        stream: Literal[False] = False,
        **options: Unpack[ChatCreateOptions],
    ) -> ChatCompletion: ...
    @overload
    def create(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        stream: Literal[True],
        **options: Unpack[ChatCreateOptions],
    ) -> Stream[ChatCompletionChunk]: ...
    @overload
    def create(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        stream: bool,
        **options: Unpack[ChatCreateOptions],
    ) -> ChatCompletion | Stream[ChatCompletionChunk]: ...
    def create(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        stream: bool = False,
        **options: Unpack[ChatCreateOptions],
    ) -> ChatCompletion | Stream[ChatCompletionChunk]:
        """Create a chat completion; with `stream=True`, a `Stream` of `ChatCompletionChunk`s.

        Args:
            messages: OpenAI chat messages (text parts, images, tool calls and results pass through to
                servers with the Messages API).
            model: the model id (a path under a `.../models` base; the `model` field on OpenAI servers).
            stream: stream chunks as they are generated.
            **options: OpenAI's options (`ChatCreateOptions`), and `timeout` for this call.
        """
        settings, call, more = _chat_call(self._client, messages, model, stream, options)
        transport = self._client.transport(settings)
        return addons.complete(call, transport, types.chat_completion, CHAT_CHUNKS, more)

    @overload
    def parse(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        response_format: type[T],
        **options: Unpack[ChatParseOptions],
    ) -> ParsedChatCompletion[T]: ...
    @overload
    def parse(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        response_format: Mapping[str, Any] | None = None,
        **options: Unpack[ChatParseOptions],
    ) -> ParsedChatCompletion[Any]: ...
    def parse(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        response_format: type[Any] | Mapping[str, Any] | None = None,
        **options: Unpack[ChatParseOptions],
    ) -> ParsedChatCompletion[Any]:
        """Create a chat completion and read it into Python types (openai's `chat.completions.parse`).

        `response_format=Model` (a pydantic model, a dataclass, ...) is sent as a strict JSON schema, which the
        server's dialect turns into its own form (a grammar on TGI and llama.cpp); `message.parsed` is the answer
        as a `Model`. Tools must be strict function tools; those made by `easyllm.pydantic_function_tool(Model)`
        come back with `function.parsed_arguments` as a `Model`, other strict ones with their arguments as JSON.

        Raises:
            LengthFinishReasonError: the answer reached the token limit (its JSON would be cut short).
            ContentFilterFinishReasonError: the server's content filter stopped the answer.
            pydantic.ValidationError: the answer does not fit the type (as the openai SDK raises it).

        Example:
            >>> class City(pydantic.BaseModel):  # doctest: +SKIP
            ...     name: str
            ...     country: str
            >>> r = client.chat.completions.parse(model="m", messages=messages, response_format=City)  # doctest: +SKIP
            >>> r.choices[0].message.parsed.country  # doctest: +SKIP
            'France'
        """
        settings, call, more, tools = _parse_call(self._client, messages, model, response_format, options)
        transport = self._client.transport(settings)
        completion = addons.complete(call, transport, types.chat_completion, CHAT_CHUNKS, more)
        return parse_completion(cast("ChatCompletion", completion), response_format, tools)

    def stream(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        response_format: type[T] | Mapping[str, Any] | None = None,
        **options: Unpack[ChatParseOptions],
    ) -> StreamManager[ChatCompletionStream[T]]:
        """Stream a chat completion as openai's helper does: `with ... as stream`, then events, then the answer.

        The events (`chunk`, `content.delta` with the JSON read so far, `content.done` with `parsed`,
        `tool_calls.function.arguments.delta` / `.done`, `refusal.*`, `logprobs.*`) and
        `stream.get_final_completion()` (a `ParsedChatCompletion`) follow openai's `chat.completions.stream`; its
        arguments and refusals are `parse`'s. The request is sent when the `with` block is entered.
        """
        settings, call, more, tools = _parse_call(self._client, messages, model, response_format, options, True)
        transport = self._client.transport(settings)

        def open_stream() -> ChatCompletionStream[T]:
            chunks = addons.complete(call, transport, types.chat_completion, CHAT_CHUNKS, more)
            return ChatCompletionStream(
                cast("Stream[ChatCompletionChunk]", chunks), ChatStreamState(response_format, tools)
            )

        return StreamManager(open_stream)


class Chat:
    """`client.chat`."""

    def __init__(self, client: HuggingFace) -> None:
        self.completions = ChatCompletions(client)


class Beta:
    """`client.beta`: where openai 1.x kept `chat.completions.parse` before 1.92 (the same `chat` as `client.chat`)."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat


class Completions:
    """`client.completions`: text completions, the prompt sent as given."""

    def __init__(self, client: HuggingFace) -> None:
        self._client = client

    @overload
    def create(
        self,
        *,
        prompt: str | list[str],
        model: str | None = None,
        stream: Literal[False] = False,
        **options: Unpack[CompletionCreateOptions],
    ) -> Completion: ...
    @overload
    def create(
        self,
        *,
        prompt: str | list[str],
        model: str | None = None,
        stream: Literal[True],
        **options: Unpack[CompletionCreateOptions],
    ) -> Stream[Completion]: ...
    @overload
    def create(
        self,
        *,
        prompt: str | list[str],
        model: str | None = None,
        stream: bool,
        **options: Unpack[CompletionCreateOptions],
    ) -> Completion | Stream[Completion]: ...
    def create(
        self,
        *,
        prompt: str | list[str],
        model: str | None = None,
        stream: bool = False,
        **options: Unpack[CompletionCreateOptions],
    ) -> Completion | Stream[Completion]:
        """Create a text completion; with `stream=True`, a `Stream` of `Completion` chunks.

        Args:
            prompt: one prompt (a one-element list is accepted).
            model: the model id.
            stream: stream chunks as they are generated.
            **options: OpenAI's options (`CompletionCreateOptions`), and `timeout` for this call.
        """
        settings, call, more = _completion_call(self._client, prompt, model, stream, options)
        transport = self._client.transport(settings)
        return addons.complete(call, transport, types.completion, types.completion_chunk, more)


class Embeddings:
    """`client.embeddings`."""

    def __init__(self, client: HuggingFace) -> None:
        self._client = client

    def create(
        self,
        *,
        input: str | list[str],
        model: str | None = None,
        encoding_format: Literal["float", "base64"] | None = None,
        dimensions: int | None = None,
        normalize: bool = True,
        user: str | None = None,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        show_progress: bool = False,
        timeout: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        cache: CacheSpec = None,
        prices: dict[str, dict[str, float]] | None = None,
    ) -> CreateEmbeddingResponse:
        """Embed `input`: one vector per input in input order, batched to the server's limit.

        Args:
            input: a string or a list of strings.
            model: the model id.
            encoding_format: "float" or "base64" (little-endian float32); floats when not given.
            dimensions: keep the first N dimensions (Matryoshka), re-normalised.
            normalize: L2-normalise the vectors.
            user: accepted for compatibility; not sent.
            batch_size: most inputs per request, under the server's own limit (default: the client's
                `embedding_batch_size`, else the server's `/info` limit, else 32).
            max_concurrency: batches in flight at once (default: the client's `embedding_concurrency`, else 8).
            show_progress: a tqdm progress bar on stderr (`pip install tqdm`).
            timeout: seconds this call may take.
            extra_body: fields merged into each request's JSON body.
            extra_headers: headers added to each request.
            extra_query: query parameters added to each request.
            cache: this call's answer cache (`True`, a folder, an `easyllm.Cache`, or `False`), else the
                client's: each input text is looked up, only the others are sent.
            prices: US dollars per million tokens by model id, for `usage.cost`, else the client's.
        """
        batching = (batch_size, max_concurrency, show_progress)
        extras = (extra_body, extra_headers, extra_query)
        args, options = _embedding_args(
            self._client, input, model, encoding_format, dimensions, normalize, batching, extras
        )
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        more = addons.addons_for(settings, (cache, self._client.cache), (prices, self._client.prices))
        return addons.embed(settings, args, transport, types.embeddings_checked, options, self._client.engine, more)

    def iter_batches(
        self,
        *,
        input: str | list[str],
        model: str | None = None,
        encoding_format: Literal["float", "base64"] | None = None,
        dimensions: int | None = None,
        normalize: bool = True,
        user: str | None = None,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        show_progress: bool = False,
        timeout: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
    ) -> Iterator[CreateEmbeddingResponse]:
        """Embed batch by batch: one response per batch (`index` is the input's position), in input order.

        Takes `create`'s arguments but `cache` and `prices` (the client's `prices` set each batch's `usage.cost`;
        its cache is not used here). At most `max_concurrency` batches are in flight and twice that many held, so
        memory stays bounded however many inputs there are; bad arguments are refused at the call.
        """
        batching = (batch_size, max_concurrency, show_progress)
        extras = (extra_body, extra_headers, extra_query)
        args, options = _embedding_args(
            self._client, input, model, encoding_format, dimensions, normalize, batching, extras
        )
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        more = addons.addons_for(settings, (False,), (self._client.prices,))
        convert = addons.batch_convert(types.embeddings_checked, more, model)
        return embedding_calls.iter_embeddings(settings, args, transport, convert, options, self._client.engine)


# ---------------------------------------------------------------- async


class AsyncChatCompletions:
    """`client.chat.completions` of `AsyncHuggingFace`."""

    def __init__(self, client: AsyncHuggingFace) -> None:
        self._client = client

    @overload
    async def create(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        stream: Literal[False] = False,
        **options: Unpack[ChatCreateOptions],
    ) -> ChatCompletion: ...
    @overload
    async def create(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        stream: Literal[True],
        **options: Unpack[ChatCreateOptions],
    ) -> AsyncStream[ChatCompletionChunk]: ...
    @overload
    async def create(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        stream: bool,
        **options: Unpack[ChatCreateOptions],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]: ...
    async def create(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        stream: bool = False,
        **options: Unpack[ChatCreateOptions],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
        """Async `ChatCompletions.create`; with `stream=True`, an `AsyncStream` (use `async for`)."""
        settings, call, more = _chat_call(self._client, messages, model, stream, options)
        transport = self._client.transport(settings)
        return await addons.acomplete(call, transport, types.chat_completion, CHAT_CHUNKS, more)

    @overload
    async def parse(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        response_format: type[T],
        **options: Unpack[ChatParseOptions],
    ) -> ParsedChatCompletion[T]: ...
    @overload
    async def parse(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        response_format: Mapping[str, Any] | None = None,
        **options: Unpack[ChatParseOptions],
    ) -> ParsedChatCompletion[Any]: ...
    async def parse(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        response_format: type[Any] | Mapping[str, Any] | None = None,
        **options: Unpack[ChatParseOptions],
    ) -> ParsedChatCompletion[Any]:
        """Async `ChatCompletions.parse`."""
        settings, call, more, tools = _parse_call(self._client, messages, model, response_format, options)
        transport = self._client.transport(settings)
        completion = await addons.acomplete(call, transport, types.chat_completion, CHAT_CHUNKS, more)
        return parse_completion(cast("ChatCompletion", completion), response_format, tools)

    def stream(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        model: str | None = None,
        response_format: type[T] | Mapping[str, Any] | None = None,
        **options: Unpack[ChatParseOptions],
    ) -> AsyncStreamManager[AsyncChatCompletionStream[T]]:
        """Async `ChatCompletions.stream` (`async with ... as stream`, then `async for event in stream`)."""
        settings, call, more, tools = _parse_call(self._client, messages, model, response_format, options, True)
        transport = self._client.transport(settings)

        async def open_stream() -> AsyncChatCompletionStream[T]:
            chunks = await addons.acomplete(call, transport, types.chat_completion, CHAT_CHUNKS, more)
            state = ChatStreamState[T](response_format, tools)
            return AsyncChatCompletionStream(cast("AsyncStream[ChatCompletionChunk]", chunks), state)

        return AsyncStreamManager(open_stream)


class AsyncChat:
    """`client.chat` of `AsyncHuggingFace`."""

    def __init__(self, client: AsyncHuggingFace) -> None:
        self.completions = AsyncChatCompletions(client)


class AsyncBeta:
    """`client.beta` of `AsyncHuggingFace` (the same `chat` as `client.chat`)."""

    def __init__(self, chat: AsyncChat) -> None:
        self.chat = chat


class AsyncCompletions:
    """`client.completions` of `AsyncHuggingFace`."""

    def __init__(self, client: AsyncHuggingFace) -> None:
        self._client = client

    @overload
    async def create(
        self,
        *,
        prompt: str | list[str],
        model: str | None = None,
        stream: Literal[False] = False,
        **options: Unpack[CompletionCreateOptions],
    ) -> Completion: ...
    @overload
    async def create(
        self,
        *,
        prompt: str | list[str],
        model: str | None = None,
        stream: Literal[True],
        **options: Unpack[CompletionCreateOptions],
    ) -> AsyncStream[Completion]: ...
    @overload
    async def create(
        self,
        *,
        prompt: str | list[str],
        model: str | None = None,
        stream: bool,
        **options: Unpack[CompletionCreateOptions],
    ) -> Completion | AsyncStream[Completion]: ...
    async def create(
        self,
        *,
        prompt: str | list[str],
        model: str | None = None,
        stream: bool = False,
        **options: Unpack[CompletionCreateOptions],
    ) -> Completion | AsyncStream[Completion]:
        """Async `Completions.create`; with `stream=True`, an `AsyncStream`."""
        settings, call, more = _completion_call(self._client, prompt, model, stream, options)
        transport = self._client.transport(settings)
        return await addons.acomplete(call, transport, types.completion, types.completion_chunk, more)


class AsyncEmbeddings:
    """`client.embeddings` of `AsyncHuggingFace`."""

    def __init__(self, client: AsyncHuggingFace) -> None:
        self._client = client

    async def create(
        self,
        *,
        input: str | list[str],
        model: str | None = None,
        encoding_format: Literal["float", "base64"] | None = None,
        dimensions: int | None = None,
        normalize: bool = True,
        user: str | None = None,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        show_progress: bool = False,
        timeout: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        cache: CacheSpec = None,
        prices: dict[str, dict[str, float]] | None = None,
    ) -> CreateEmbeddingResponse:
        """Async `Embeddings.create` (takes the same arguments)."""
        batching = (batch_size, max_concurrency, show_progress)
        extras = (extra_body, extra_headers, extra_query)
        args, options = _embedding_args(
            self._client, input, model, encoding_format, dimensions, normalize, batching, extras
        )
        settings = self._client.settings(timeout)
        transport = self._client.transport(settings)
        more = addons.addons_for(settings, (cache, self._client.cache), (prices, self._client.prices))
        return await addons.aembed(
            settings, args, transport, types.embeddings_checked, options, self._client.engine, more
        )

    def iter_batches(
        self,
        *,
        input: str | list[str],
        model: str | None = None,
        encoding_format: Literal["float", "base64"] | None = None,
        dimensions: int | None = None,
        normalize: bool = True,
        user: str | None = None,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        show_progress: bool = False,
        timeout: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[CreateEmbeddingResponse]:
        """Async `Embeddings.iter_batches` (use `async for`)."""
        batching = (batch_size, max_concurrency, show_progress)
        extras = (extra_body, extra_headers, extra_query)
        args, options = _embedding_args(
            self._client, input, model, encoding_format, dimensions, normalize, batching, extras
        )
        settings = self._client.settings(timeout)
        transport = functools.partial(self._client.transport, settings)
        more = addons.addons_for(settings, (False,), (self._client.prices,))
        convert = addons.batch_convert(types.embeddings_checked, more, model)
        return embedding_calls.aiter_embeddings(settings, args, transport, convert, options, self._client.engine)

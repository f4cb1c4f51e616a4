"""`client.responses` of `HuggingFace` / `AsyncHuggingFace`: `create`, `parse`, `stream`, `retrieve`, `delete`.

`create` runs `easyllm.response_calls` (native on servers with `/responses`, translated onto chat completions
elsewhere) and returns an `easyllm.schema.responses.Response`, or with `stream=True` a `Stream` / `AsyncStream`
of events. `@overload`s on `stream` give type checkers the return type.

Example:
    >>> import easyllm
    >>> client = easyllm.HuggingFace(base_url="http://127.0.0.1:8000/v1")  # doctest: +SKIP
    >>> client.responses.create(model="smollm2", input="Name a colour.", max_output_tokens=16).output_text
    ... # doctest: +SKIP
    'Blue.'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar, cast, overload

from easyllm import response_calls
from easyllm.schema.response_stream_state import ResponseStreamState
from easyllm.schema.responses import Event, ParsedResponse, Response
from easyllm.schema.structured import parse_response, text_param
from easyllm.stream_helpers import AsyncResponseStream, AsyncStreamManager, ResponseStream, StreamManager
from easyllm.streaming import AsyncStream, Stream

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from easyllm.client import AsyncHuggingFace, HuggingFace

__all__ = ["AsyncResponses", "ResponseCreateOptions", "Responses"]


class ResponseCreateOptions(TypedDict, total=False):
    """Keyword options of `responses.create`: OpenAI's names, `timeout` for the call, and the `extra_*` options.

    `extra_body`, `extra_headers` and `extra_query` are merged into the request sent: the server's `/responses`,
    or the chat completion a translated call becomes.
    """

    instructions: str | None
    tools: list[dict[str, Any]] | None
    tool_choice: str | dict[str, Any] | None
    parallel_tool_calls: bool | None
    text: dict[str, Any] | None
    reasoning: dict[str, Any] | None
    max_output_tokens: int | None
    temperature: float | None
    top_p: float | None
    top_logprobs: int | None
    metadata: dict[str, str] | None
    previous_response_id: str | None
    store: bool | None
    include: list[str] | None
    truncation: Literal["auto", "disabled"] | None
    user: str | None
    service_tier: str | None
    background: bool | None
    conversation: Any
    prompt: dict[str, Any] | None
    max_tool_calls: int | None
    safety_identifier: str | None
    prompt_cache_key: str | None
    stream_options: dict[str, Any] | None
    extra_body: dict[str, Any] | None
    extra_headers: dict[str, str] | None
    extra_query: dict[str, Any] | None
    timeout: float | None


T = TypeVar("T")


def _options(model: str | None, input: object, options: Any) -> dict[str, Any]:
    return {"model": model, "input": input, **options}


def _parse_options(model: str | None, input: object, text_format: object, options: Any) -> dict[str, Any]:
    """`parse`'s request: `text_format` sent as the strict `json_schema` of `text.format`."""
    out = _options(model, input, options)
    if text_format is not None:
        out["text"] = text_param(out.get("text"), text_format)
    return out


class Responses:
    """`client.responses`."""

    def __init__(self, client: HuggingFace) -> None:
        self._client = client

    @overload
    def create(
        self, *, input: str | list[Any], model: str | None = None, stream: Literal[False] = False,
        **options: Unpack[ResponseCreateOptions],
    ) -> Response: ...  # fmt: skip
    @overload
    def create(
        self, *, input: str | list[Any], model: str | None = None, stream: Literal[True],
        **options: Unpack[ResponseCreateOptions],
    ) -> Stream[Event]: ...  # fmt: skip
    @overload
    def create(
        self, *, input: str | list[Any], model: str | None = None, stream: bool,
        **options: Unpack[ResponseCreateOptions],
    ) -> Response | Stream[Event]: ...  # fmt: skip
    def create(
        self,
        *,
        input: str | list[Any],
        model: str | None = None,
        stream: bool = False,
        **options: Unpack[ResponseCreateOptions],
    ) -> Response | Stream[Event]:
        """Create a model response; with `stream=True`, a `Stream` of events.

        Args:
            input: a string, or a list of input items (messages, `function_call`, `function_call_output`).
            model: the model id.
            stream: stream events as they are generated.
            **options: OpenAI's options (`ResponseCreateOptions`), and `timeout` for this call.

        Raises:
            InvalidParameterError: a bad argument, or one the server cannot serve (hosted tools, `conversation`),
                before anything is sent.
        """
        return response_calls.create(self._client, _options(model, input, options), stream)

    def parse(
        self,
        *,
        input: str | list[Any],
        model: str | None = None,
        text_format: type[T] | None = None,
        **options: Unpack[ResponseCreateOptions],
    ) -> ParsedResponse[T]:
        """Create a model response and read it into Python types (openai's `responses.parse`).

        `text_format=Model` (a pydantic model, a dataclass, ...) is sent as a strict JSON schema in `text.format`
        (natively, or as the chat completion's `response_format` when the call is translated); each output text
        part gets `parsed`, and `output_parsed` is the first. Function calls get `parsed_arguments`: a model for a
        tool carrying one (openai's `pydantic_function_tool` for responses), JSON for another strict tool.

        Raises:
            InvalidParameterError: `text.format` and `text_format` both given, or an argument `create` refuses.
            pydantic.ValidationError: the answer does not fit the type (as the openai SDK raises it).
        """
        request = _parse_options(model, input, text_format, options)
        response = cast("Response", response_calls.create(self._client, request, False))
        return parse_response(response, text_format, request.get("tools"))

    def stream(
        self,
        *,
        input: str | list[Any],
        model: str | None = None,
        text_format: type[T] | None = None,
        **options: Unpack[ResponseCreateOptions],
    ) -> StreamManager[ResponseStream[T]]:
        """Stream a response as openai's `responses.stream` does: `with ... as stream`, then events, then the answer.

        The events are the stream's own, with `snapshot` on text and argument deltas, `parsed` on
        `response.output_text.done`, and a `ParsedResponse` on `response.completed`;
        `stream.get_final_response()` is that response. The request (`parse`'s) is sent when the `with` block is
        entered; what `create` refuses is refused then, before it is sent.
        """
        request = _parse_options(model, input, text_format, options)

        def open_stream() -> ResponseStream[T]:
            events = cast("Stream[Event]", response_calls.create(self._client, request, True))
            return ResponseStream(events, ResponseStreamState(text_format, request.get("tools")))

        return StreamManager(open_stream)

    def retrieve(self, response_id: str, *, timeout: float | None = None) -> Response:
        """A response by id: from the client's store (translated responses), else from the server.

        Raises:
            NotFoundError: no such response.
        """
        return response_calls.retrieve(self._client, response_id, timeout)

    def delete(self, response_id: str, *, timeout: float | None = None) -> None:
        """Delete a response by id: from the client's store, else on the server.

        Raises:
            NotFoundError: no such response.
        """
        response_calls.delete(self._client, response_id, timeout)


class AsyncResponses:
    """`client.responses` of `AsyncHuggingFace`."""

    def __init__(self, client: AsyncHuggingFace) -> None:
        self._client = client

    @overload
    async def create(
        self, *, input: str | list[Any], model: str | None = None, stream: Literal[False] = False,
        **options: Unpack[ResponseCreateOptions],
    ) -> Response: ...  # fmt: skip
    @overload
    async def create(
        self, *, input: str | list[Any], model: str | None = None, stream: Literal[True],
        **options: Unpack[ResponseCreateOptions],
    ) -> AsyncStream[Event]: ...  # fmt: skip
    @overload
    async def create(
        self, *, input: str | list[Any], model: str | None = None, stream: bool,
        **options: Unpack[ResponseCreateOptions],
    ) -> Response | AsyncStream[Event]: ...  # fmt: skip
    async def create(
        self,
        *,
        input: str | list[Any],
        model: str | None = None,
        stream: bool = False,
        **options: Unpack[ResponseCreateOptions],
    ) -> Response | AsyncStream[Event]:
        """Async `Responses.create`; with `stream=True`, an `AsyncStream` (use `async for`)."""
        return await response_calls.acreate(self._client, _options(model, input, options), stream)

    async def parse(
        self,
        *,
        input: str | list[Any],
        model: str | None = None,
        text_format: type[T] | None = None,
        **options: Unpack[ResponseCreateOptions],
    ) -> ParsedResponse[T]:
        """Async `Responses.parse`."""
        request = _parse_options(model, input, text_format, options)
        response = cast("Response", await response_calls.acreate(self._client, request, False))
        return parse_response(response, text_format, request.get("tools"))

    def stream(
        self,
        *,
        input: str | list[Any],
        model: str | None = None,
        text_format: type[T] | None = None,
        **options: Unpack[ResponseCreateOptions],
    ) -> AsyncStreamManager[AsyncResponseStream[T]]:
        """Async `Responses.stream` (`async with ... as stream`, then `async for event in stream`)."""
        request = _parse_options(model, input, text_format, options)

        async def open_stream() -> AsyncResponseStream[T]:
            events = cast("AsyncStream[Event]", await response_calls.acreate(self._client, request, True))
            return AsyncResponseStream(events, ResponseStreamState[T](text_format, request.get("tools")))

        return AsyncStreamManager(open_stream)

    async def retrieve(self, response_id: str, *, timeout: float | None = None) -> Response:
        """Async `Responses.retrieve`."""
        return await response_calls.aretrieve(self._client, response_id, timeout)

    async def delete(self, response_id: str, *, timeout: float | None = None) -> None:
        """Async `Responses.delete`."""
        await response_calls.adelete(self._client, response_id, timeout)

"""Run `responses.create` / `retrieve` / `delete` in either shell: native or translated onto chat completions.

- **Native**: the request goes as it is to `{base_url}/responses` (the router, vLLM, llama.cpp's server,
  `easyllm serve`); the answer and every event are completed where the server leaves out what OpenAI's types
  require (`easyllm.protocol.responses.native`). `previous_response_id` passes through.
- **Translated**: the request becomes chat-completion arguments (`easyllm.protocol.responses.items`) and runs
  through exactly what `chat.completions.create` runs (the same planning, routes, fallbacks and normalisation);
  the answer becomes a `Response`, the chunks the Responses event sequence. The response is kept in the client's
  response store (unless `store=False`), so `previous_response_id`, `retrieve` and `delete` work on any server.

Which way a server is reached follows its dialect (`easyllm.dialects`): one that serves the route itself
(`native_responses`: the router, vLLM, llama.cpp) or an OpenAI-compatible server of unknown kind gets the request
at `/responses`, and a 404 or 405 there means translated, remembered per URL (`forget_servers()` forgets); any
other dialect (TGI, SGLang, llama-cpp-python, the hf-inference collections) is translated at once. A client's
`responses_api="native"` or `"translated"` sets it. A `previous_response_id` found in the client's store is
continued by translation, whatever the server.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx

from easyllm import addons, probing
from easyllm.client_resources import _chat_call
from easyllm.dialects import check_model
from easyllm.dialects.paths import is_v1, server_root
from easyllm.errors import APIError, APIStatusError, InvalidParameterError, NotFoundError, server_message
from easyllm.protocol.generation import HTTPCall
from easyllm.protocol.messages_stream import MessagesStream
from easyllm.protocol.responses.build import build_response, new_id, skeleton
from easyllm.protocol.responses.events import ChatToEvents
from easyllm.protocol.responses.items import chat_options, to_messages
from easyllm.protocol.responses.native import NativeEvents, normalise_response
from easyllm.protocol.responses.request import ResponsesRequest, check_request, refuse_untranslatable
from easyllm.protocol.sse import EventConsumer
from easyllm.response_store import ResponseStore, StoredResponse
from easyllm.schema import responses as schema
from easyllm.settings import Settings
from easyllm.streaming import AsyncStream, ChunkReader, Stream
from easyllm.transport import AsyncTransport, SyncTransport

if TYPE_CHECKING:
    from easyllm.client import AsyncHuggingFace, BaseClient, HuggingFace

__all__ = ["ResponsesAPI", "acreate", "adelete", "aretrieve", "create", "delete", "forget_servers", "retrieve"]

#: How a client reaches the Responses API: found out per server, or set.
ResponsesAPI = Literal["auto", "native", "translated"]
Route = Literal["native", "translated", "probe"]

#: The model a response names until the server's answer names one (no `model` was given).
UNNAMED_MODEL = "default"

#: What a retrieved response is completed against (no request of this client made it).
_ANY_REQUEST = check_request({"input": ""})

# Which servers have their own `/responses`, by that route's URL: found out once, then remembered.
_has_route: dict[str, bool] = {}


def forget_servers() -> None:
    """Forget which servers have the Responses API; the next call asks again."""
    _has_route.clear()


@dataclass(frozen=True)
class _Plan:
    """One create call, decided before anything is sent (shared by both shells)."""

    request: ResponsesRequest
    settings: Settings
    url: str
    route: Route
    timeout: float | None


def _responses_url(settings: Settings) -> str:
    """`{base}/responses` on a `…/v1` base, else `{server root}/v1/responses`."""
    base = settings.api_base
    return f"{base}/responses" if is_v1(base) else f"{server_root(base)}/v1/responses"


def _may_have_route(client: BaseClient[Any], settings: Settings) -> bool:
    """Whether the server may serve `/responses` itself: its dialect says so, or it is an unknown OpenAI server."""
    dialect = probing.current(settings, client.engine)
    return dialect.native_responses or dialect.name == "openai"


def _plan(client: BaseClient[Any], options: Mapping[str, Any], stream: bool) -> _Plan:
    given = dict(options)
    timeout = given.pop("timeout", None)
    request = check_request(given, stream=stream)
    settings = client.settings(timeout)
    check_model(settings, client.engine, given.get("model"))  # the dialect's rule for model ids, before sending
    url = _responses_url(settings)
    mode: ResponsesAPI = client.responses_api
    previous = request.get("previous_response_id")
    route: Route
    if mode == "native":
        route = "native"
    elif (
        mode == "translated"
        or not _may_have_route(client, settings)
        or (previous is not None and client.response_store.get(previous) is not None)
    ):
        route = "translated"
    else:
        known = _has_route.get(url)
        route = "probe" if known is None else ("native" if known else "translated")
    if route == "translated":
        refuse_untranslatable(request)
    return _Plan(request, settings, url, route, timeout)


def _lacks_route(err: APIStatusError) -> bool:
    """Whether an error on `/responses` means the server has no such route (not, say, an unknown model)."""
    if err.status_code == 405:
        return True
    return err.status_code == 404 and "model" not in (server_message(err.body) or "").lower()


def _after_probe(plan: _Plan, err: APIStatusError) -> _Plan:
    """The translated plan after a probe found no `/responses` (remembered), or raise the error."""
    if plan.route != "probe" or not _lacks_route(err):
        raise err
    _has_route[plan.url] = False
    refuse_untranslatable(plan.request)
    return _Plan(plan.request, plan.settings, plan.url, "translated", plan.timeout)


def _native_call(plan: _Plan) -> HTTPCall:
    body = dict(plan.request.body)
    if plan.request.stream:
        body["stream"] = True
    return plan.request.extras.apply(HTTPCall("POST", plan.url, body))


# ---------------------------------------------------------------- the translated path (pure parts)


@dataclass
class _Translation:
    """A translated call: its chat arguments, and what is stored once it is answered."""

    plan: _Plan
    items: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    options: dict[str, Any]
    store: ResponseStore

    def base(self, model: str) -> dict[str, Any]:
        return skeleton(self.plan.request, response_id=new_id("resp"), created_at=time.time(), model=model)

    def save(self, response: Mapping[str, Any]) -> None:
        if self.plan.request.get("store", True) and response.get("status") in ("completed", "incomplete"):
            record = StoredResponse(dict(response), [*self.items, *response["output"]])
            self.store.put(record)


def _translation(plan: _Plan, store: ResponseStore) -> _Translation:
    request = plan.request
    history: list[dict[str, Any]] = []
    previous = request.get("previous_response_id")
    if previous is not None:
        stored = store.get(previous)
        if stored is None:
            raise _not_found(previous, plan.url, "previous_response_id names no response in this client's store")
        history = stored.items
    items = [*history, *request.input]
    options = chat_options(request)
    if request.stream:
        options["stream_options"] = {"include_usage": True}
    if plan.timeout is not None:
        options["timeout"] = plan.timeout
    extras = request.extras
    options.update(extra_body=extras.body, extra_headers=extras.headers, extra_query=extras.query)
    return _Translation(plan, items, to_messages(items, instructions=request.get("instructions")), options, store)


def _same(value: dict[str, Any]) -> dict[str, Any]:
    return value


class _ChatForEvents(ChunkReader[Any]):
    """The translated stream's chat items as the state machine hands them out, plain text deltas as bare text.

    `ChatToEvents` takes a plain delta's text (`MessagesStream.bare_text`) as it would the chunk around it, so the
    chunk is not built only to be taken apart again (this runs once per token). With add-ons (the cache records
    chunks) the conversion is wrapped and the stream hands out dicts only.
    """

    def __call__(self, item: Any) -> Any:
        """The item as it is: a dict chunk or a plain delta's text."""
        return item

    def consumer(self, consumer: EventConsumer) -> EventConsumer:
        """A chat state machine set to hand out plain text bare; any other consumer as it is."""
        if type(consumer) is MessagesStream:
            consumer.bare_text = True
        return consumer


_CHAT_FOR_EVENTS = _ChatForEvents()


def _not_found(response_id: str, url: str, why: str) -> NotFoundError:
    request = httpx.Request("GET", f"{url}/{response_id}")
    body = {"error": {"message": f"{why}: {response_id!r}", "type": "invalid_request_error", "code": "not_found"}}
    response = httpx.Response(404, request=request, json=body)
    return NotFoundError(f"Error code: 404 - {body['error']['message']}", response=response, body=body)


def _translated_events(
    chat: Stream[dict[str, Any] | str], translator: ChatToEvents, on_done: Callable[[dict[str, Any]], None]
) -> Generator[schema.Event, None, None]:
    """The events of a translated stream (sync); an error mid-stream gives `response.failed`, then raises.

    One generator from chat chunks to validated events (this runs once per token); the chat stream is closed at
    the end, or when the caller stops early.
    """
    convert = schema.event
    try:
        try:
            for event in translator.start():
                yield convert(event)
            feed = translator.feed
            for chunk in chat:
                for event in feed(chunk):
                    yield convert(event)
            for event in translator.finish():
                yield convert(event)
        except APIError as err:
            for event in translator.fail(err):
                yield convert(event)
            raise
        on_done(translator.response)
    finally:
        chat.close()


async def _atranslated_events(
    chat: AsyncStream[dict[str, Any] | str], translator: ChatToEvents, on_done: Callable[[dict[str, Any]], None]
) -> AsyncGenerator[schema.Event, None]:
    """Async twin of `_translated_events`."""
    convert = schema.event
    try:
        try:
            for event in translator.start():
                yield convert(event)
            async for chunk in chat:
                for event in translator.feed(chunk):
                    yield convert(event)
            for event in translator.finish():
                yield convert(event)
        except APIError as err:
            for event in translator.fail(err):
                yield convert(event)
            raise
        on_done(translator.response)
    finally:
        await chat.close()


class _EventStream(Stream[schema.Event]):
    """A `Stream` of Responses events over a chat stream (the translated path)."""

    def __init__(
        self, chat: Stream[dict[str, Any] | str], translator: ChatToEvents, on_done: Callable[..., None]
    ) -> None:
        # Not Stream.__init__: the responses are the chat stream's; the iterator translates its chunks.
        self.responses, self.response = chat.responses, chat.response
        self._iterator = _translated_events(chat, translator, on_done)


class _AsyncEventStream(AsyncStream[schema.Event]):
    """An `AsyncStream` of Responses events over a chat stream (the translated path)."""

    def __init__(
        self, chat: AsyncStream[dict[str, Any] | str], translator: ChatToEvents, on_done: Callable[..., None]
    ) -> None:
        self.responses, self.response = chat.responses, chat.response
        self._iterator = _atranslated_events(chat, translator, on_done)


# ---------------------------------------------------------------- sync


def _native(plan: _Plan, transport: SyncTransport) -> schema.Response | Stream[schema.Event]:
    call = _native_call(plan)
    if plan.request.stream:
        opened = transport.open_stream(call)
        return Stream([(opened, NativeEvents(plan.request, opened.request))], schema.event)
    reply = transport.send(call)
    return schema.response(normalise_response(reply.body, plan.request))


def _translated(client: HuggingFace, plan: _Plan) -> schema.Response | Stream[schema.Event]:
    job = _translation(plan, client.response_store)
    settings, chat, more = _chat_call(client, job.messages, plan.request.model, plan.request.stream, job.options)
    result = addons.complete(chat, client.transport(settings), _same, _CHAT_FOR_EVENTS, more)
    base = job.base(plan.request.model or UNNAMED_MODEL)
    if isinstance(result, Stream):
        return _EventStream(result, ChatToEvents(base), job.save)
    response = build_response(result, base)
    job.save(response)
    return schema.response(response)


def create(client: HuggingFace, options: Mapping[str, Any], stream: bool) -> schema.Response | Stream[schema.Event]:
    """`client.responses.create` (sync)."""
    plan = _plan(client, options, stream)
    if plan.route == "translated":
        return _translated(client, plan)
    try:
        result = _native(plan, client.transport(plan.settings))
    except APIStatusError as err:
        return _translated(client, _after_probe(plan, err))
    _has_route[plan.url] = True
    return result


def _lookup(client: BaseClient[Any], response_id: str, timeout: float | None) -> tuple[Settings, str | None]:
    """The settings of a retrieve/delete, and the URL to ask the server at (None when it has no Responses API)."""
    if not isinstance(response_id, str) or not response_id:
        raise InvalidParameterError("must be a non-empty string", param="response_id")
    settings = client.settings(timeout)
    url = _responses_url(settings)
    asks_server = client.responses_api == "native" or (
        client.responses_api == "auto" and _may_have_route(client, settings) and _has_route.get(url) is not False
    )
    return settings, url if asks_server else None


def retrieve(client: HuggingFace, response_id: str, timeout: float | None = None) -> schema.Response:
    """`client.responses.retrieve` (sync): the client's store first, then the server's own route."""
    stored = client.response_store.get(response_id) if isinstance(response_id, str) else None
    if stored is not None:
        return schema.response(stored.response)
    settings, url = _lookup(client, response_id, timeout)
    if url is None:
        raise _not_found(response_id, _responses_url(settings), "no stored response")
    reply = client.transport(settings).send(HTTPCall("GET", f"{url}/{response_id}"))
    return schema.response(normalise_response(reply.body, _ANY_REQUEST))


def delete(client: HuggingFace, response_id: str, timeout: float | None = None) -> None:
    """`client.responses.delete` (sync): from the client's store, else on the server."""
    if isinstance(response_id, str) and client.response_store.delete(response_id):
        return
    settings, url = _lookup(client, response_id, timeout)
    if url is None:
        raise _not_found(response_id, _responses_url(settings), "no stored response")
    client.transport(settings).send(HTTPCall("DELETE", f"{url}/{response_id}"))


# ---------------------------------------------------------------- async


async def _anative(plan: _Plan, transport: AsyncTransport) -> schema.Response | AsyncStream[schema.Event]:
    call = _native_call(plan)
    if plan.request.stream:
        opened = await transport.open_stream(call)
        return AsyncStream([(opened, NativeEvents(plan.request, opened.request))], schema.event)
    reply = await transport.send(call)
    return schema.response(normalise_response(reply.body, plan.request))


async def _atranslated(client: AsyncHuggingFace, plan: _Plan) -> schema.Response | AsyncStream[schema.Event]:
    job = _translation(plan, client.response_store)
    settings, chat, more = _chat_call(client, job.messages, plan.request.model, plan.request.stream, job.options)
    result = await addons.acomplete(chat, client.transport(settings), _same, _CHAT_FOR_EVENTS, more)
    base = job.base(plan.request.model or UNNAMED_MODEL)
    if isinstance(result, AsyncStream):
        return _AsyncEventStream(result, ChatToEvents(base), job.save)
    response = build_response(result, base)
    job.save(response)
    return schema.response(response)


async def acreate(
    client: AsyncHuggingFace, options: Mapping[str, Any], stream: bool
) -> schema.Response | AsyncStream[schema.Event]:
    """`client.responses.create` (async)."""
    plan = _plan(client, options, stream)
    if plan.route == "translated":
        return await _atranslated(client, plan)
    try:
        result = await _anative(plan, client.transport(plan.settings))
    except APIStatusError as err:
        return await _atranslated(client, _after_probe(plan, err))
    _has_route[plan.url] = True
    return result


async def aretrieve(client: AsyncHuggingFace, response_id: str, timeout: float | None = None) -> schema.Response:
    """Async twin of `retrieve`."""
    stored = client.response_store.get(response_id) if isinstance(response_id, str) else None
    if stored is not None:
        return schema.response(stored.response)
    settings, url = _lookup(client, response_id, timeout)
    if url is None:
        raise _not_found(response_id, _responses_url(settings), "no stored response")
    reply = await client.transport(settings).send(HTTPCall("GET", f"{url}/{response_id}"))
    return schema.response(normalise_response(reply.body, _ANY_REQUEST))


async def adelete(client: AsyncHuggingFace, response_id: str, timeout: float | None = None) -> None:
    """Async twin of `delete`."""
    if isinstance(response_id, str) and client.response_store.delete(response_id):
        return
    settings, url = _lookup(client, response_id, timeout)
    if url is None:
        raise _not_found(response_id, _responses_url(settings), "no stored response")
    await client.transport(settings).send(HTTPCall("DELETE", f"{url}/{response_id}"))

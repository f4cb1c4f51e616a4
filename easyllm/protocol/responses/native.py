"""A server's own `/responses` answers and events, completed so that they validate against openai's types.

Servers with the Responses API leave out fields OpenAI's types require. llama.cpp's server, for one, sends a
response without `tools`, `tool_choice`, `parallel_tool_calls` or `created_at` in its stream's first events, usage
without token details, events without `sequence_number`, `output_index`, `content_index` or `logprobs`, and
`output_text` parts without `annotations`. What the server sent is kept; what it left out is filled from the
request (the tools it was given, its tool choice) or OpenAI's defaults. Reasoning, usage and ids are normalised the
way the translated path builds them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from easyllm.errors import APIError, APIResponseValidationError, error_from_stream_event
from easyllm.protocol.responses.build import new_id, response_usage, skeleton
from easyllm.protocol.responses.request import ResponsesRequest
from easyllm.protocol.sse import DONE, decode_event

__all__ = ["NativeEvents", "normalise_item", "normalise_response"]

_TEXT_EVENTS = ("response.output_text.delta", "response.output_text.done")
_CONTENT_EVENTS = (
    *_TEXT_EVENTS,
    "response.content_part.added",
    "response.content_part.done",
    "response.reasoning_text.delta",
    "response.reasoning_text.done",
    "response.refusal.delta",
    "response.refusal.done",
)


def _part(part: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(part)
    if out.get("type") == "output_text":
        out.setdefault("text", "")
        if not isinstance(out.get("annotations"), list):
            out["annotations"] = []
    return out


def normalise_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """One output item with what OpenAI's types require filled in (ids, statuses, parts' annotations)."""
    out = dict(item)
    kind = out.get("type")
    if kind == "message":
        out.setdefault("id", new_id("msg"))
        out.setdefault("role", "assistant")
        out.setdefault("status", "completed")
        out["content"] = [_part(p) for p in out.get("content") or () if isinstance(p, Mapping)]
    elif kind == "function_call":
        out.setdefault("call_id", out.get("id") or new_id("call"))
        out.setdefault("arguments", "")
        out.setdefault("name", "")
    elif kind == "reasoning":
        out.setdefault("id", new_id("rs"))
        if not isinstance(out.get("summary"), list):
            out["summary"] = []
    return out


def _usage(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    if "input_tokens" not in raw:  # chat-style usage
        return response_usage(raw)
    out = dict(raw)
    inputs, outputs = int(out.get("input_tokens") or 0), int(out.get("output_tokens") or 0)
    out["input_tokens"], out["output_tokens"] = inputs, outputs
    out.setdefault("total_tokens", inputs + outputs)
    out["input_tokens_details"] = {
        "cached_tokens": 0,
        "cache_write_tokens": 0,
        **(out.get("input_tokens_details") or {}),
    }
    out["output_tokens_details"] = {"reasoning_tokens": 0, **(out.get("output_tokens_details") or {})}
    return out


def normalise_response(body: object, request: ResponsesRequest) -> dict[str, Any]:
    """A server's response object with every field OpenAI's `Response` requires.

    Raises:
        APIResponseValidationError: the body is not a response object at all.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("output", []), list):
        raise APIResponseValidationError(f"expected a Responses API answer, got {str(body)[:200]!r}")
    created = body.get("created_at")
    base = skeleton(
        request,
        response_id=str(body.get("id") or new_id("resp")),
        created_at=created if isinstance(created, int | float) else time.time(),
        model=str(body.get("model") or request.model or "unknown"),
    )
    base["status"] = None
    out = {**base, **{k: v for k, v in body.items() if v is not None or k not in base}}
    for name in ("tools", "tool_choice", "parallel_tool_calls", "created_at", "id", "model", "metadata", "text"):
        if out.get(name) is None:
            out[name] = base[name]
    out["object"] = "response"
    out["output"] = [normalise_item(i) for i in body.get("output") or () if isinstance(i, Mapping)]
    out["usage"] = _usage(body.get("usage"))
    return out


class NativeEvents:
    """The stream consumer of a server's own `/responses` stream: SSE event data in, complete events out.

    Implements `easyllm.protocol.sse.EventConsumer`. Fills `sequence_number` (rising), `output_index` (from the
    item an event names), `content_index` (0) and `logprobs` ([]) where the server left them out; completes the
    response inside `response.*` events. An `error` event, or a body that ends after `response.failed`, raises
    after the events before it were handed out; so does a body that ends before `response.completed`.
    """

    def __init__(self, request: ResponsesRequest, http_request: httpx.Request) -> None:
        self.request = request
        self.http_request = http_request
        self.done = False
        self._sequence = -1
        self._indexes: dict[str, int] = {}
        self._items = 0
        self._failed: APIError | None = None
        self._ended = False
        self._response_id: str | None = None
        self._created: float = time.time()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """One event's data in; the event (completed) out."""
        if self._failed is not None:
            raise self._failed
        if data == DONE:
            self.done = self._ended
            return []
        event = decode_event(data, self.http_request)
        if "type" not in event and "error" in event:
            raise error_from_stream_event(event, self.http_request)
        return [self._event(event)]

    def finish(self) -> list[dict[str, Any]]:
        """The body ended: raise the failure reported in the stream, or an error if it ended too early."""
        if self._failed is not None:
            raise self._failed
        if not self._ended:
            raise APIError(
                "The stream ended before the server's final event (response.completed); the answer may be cut "
                "short. Retry, or check the server's logs.",
                self.http_request,
            )
        return []

    def _event(self, raw: dict[str, Any]) -> dict[str, Any]:
        event = dict(raw)
        kind = str(event.get("type"))
        number = event.get("sequence_number")
        if not isinstance(number, int) or number <= self._sequence:
            number = self._sequence + 1
        self._sequence = event["sequence_number"] = number
        if isinstance(event.get("response"), Mapping):
            event["response"] = self._response(event["response"])
        if isinstance(event.get("item"), Mapping):
            event["item"] = normalise_item(event["item"])
            event["output_index"] = self._item_index(event["item"], event.get("output_index"), kind)
        elif "item_id" in event or kind.startswith("response.output_text"):
            event.setdefault("output_index", self._indexes.get(str(event.get("item_id")), max(self._items - 1, 0)))
        if kind in _CONTENT_EVENTS:
            event.setdefault("content_index", 0)
            event.setdefault("item_id", self._last_item_id())
        if kind in _TEXT_EVENTS and not isinstance(event.get("logprobs"), list):
            event["logprobs"] = []
        if isinstance(event.get("part"), Mapping):
            event["part"] = _part(event["part"])
        if kind in ("response.completed", "response.incomplete"):
            self._ended = True
        if kind == "response.failed":
            error = (event["response"].get("error") or {}) if isinstance(event.get("response"), Mapping) else {}
            self._failed = APIError(str(error.get("message") or "the response failed"), self.http_request)
        elif kind == "error":
            self._failed = APIError(str(event.get("message") or "the server reported an error"), self.http_request)
        return event

    def _response(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        data = dict(raw)
        data.setdefault("created_at", self._created)
        if self._response_id is None:
            self._response_id = str(data.get("id") or new_id("resp"))
        data.setdefault("id", self._response_id)
        status = data.get("status")
        response = normalise_response(data, self.request)
        response["status"] = status
        return response

    def _item_index(self, item: Mapping[str, Any], given: object, kind: str) -> int:
        keys = [str(item[k]) for k in ("id", "call_id") if item.get(k)]
        known = next((self._indexes[k] for k in keys if k in self._indexes), None)
        if isinstance(given, int):
            index = given
        elif known is not None:
            index = known
        else:
            index = self._items if kind == "response.output_item.added" else max(self._items - 1, 0)
        for key in keys:
            self._indexes[key] = index
        self._items = max(self._items, index + 1)
        return index

    def _last_item_id(self) -> str:
        return next(reversed(self._indexes), "") if self._indexes else ""

"""A chat chunk sequence as the Responses event sequence, in OpenAI's order, as pure code.

`ChatToEvents` takes easyllm's normalised chat chunks (dicts) one by one and returns the events each produces:

    response.created, response.in_progress                          (start)
    per output item, one after another:
      reasoning:      output_item.added, content_part.added, reasoning_text.delta…, reasoning_text.done,
                      content_part.done, output_item.done
      message:        output_item.added, content_part.added, output_text.delta…, output_text.done,
                      content_part.done, output_item.done
      function call:  output_item.added, function_call_arguments.delta…, function_call_arguments.done,
                      output_item.done
    response.completed (or response.incomplete after finish_reason "length")   (finish)
    response.failed                                                 (fail: an error mid-stream; the shell raises)

Every event carries a `sequence_number` one above the last. An item opens when its first delta arrives and
closes when another kind of delta (or another tool call) begins, or when the finish reason arrives. A function
call opens once its name is known (servers may send the id and name on a later delta); its arguments seen before
are sent then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from easyllm.errors import APIError, APIResponseValidationError, APIStatusError
from easyllm.protocol.responses.build import (
    event_logprobs,
    function_call_item,
    message_item,
    new_id,
    reasoning_item,
    reasoning_of,
    response_usage,
    status_of,
    text_logprobs,
    text_part,
)

__all__ = ["ChatToEvents"]

#: The keys of a delta that carries text only (the usual chunk: no reasoning, tool calls or finish).
_TEXT_ONLY = frozenset({"content", "role"})


@dataclass
class _Item:
    """The output item being streamed."""

    kind: str  # "reasoning", "message" or "function_call"
    id: str
    index: int
    pieces: list[str] = field(default_factory=list)
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    call_id: str = ""
    name: str = ""

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass
class _Call:
    """A tool call seen in the chunks: pending until its name is known, then streamed as an item."""

    call_id: str | None = None
    name: str | None = None
    pieces: list[str] = field(default_factory=list)
    item: _Item | None = None
    closed: bool = False


class ChatToEvents:
    """Chat chunks in, Responses events out (see the module docstring for the order).

    Args:
        base: the response before any output (`build.skeleton`); `response` holds the final one after `finish()`.
    """

    def __init__(self, base: Mapping[str, Any]) -> None:
        self.response: dict[str, Any] = dict(base)
        self._sequence = 0
        self._output: list[dict[str, Any]] = []
        self._open: _Item | None = None
        self._calls: dict[int, _Call] = {}
        self._last_call = -1
        self._finish_reason: object = None
        self._usage: object = None
        self.done = False

    # ------------------------------------------------------------ events

    def _event(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event

    def _snapshot(self, **changes: Any) -> dict[str, Any]:
        return {**self.response, "output": [dict(item) for item in self._output], **changes}

    def start(self) -> list[dict[str, Any]]:
        """`response.created` and `response.in_progress`."""
        return [
            self._event("response.created", response=self._snapshot()),
            self._event("response.in_progress", response=self._snapshot()),
        ]

    def feed(self, chunk: Mapping[str, Any] | str) -> list[dict[str, Any]]:
        """The events of one chat chunk (a usage chunk gives none; its usage is kept for the end).

        A `str` is the text of a plain text delta, handed out bare by the stream state machine
        (`MessagesStream.bare_text`): the same events as the chunk the machine would have built around it.
        """
        if isinstance(chunk, str):
            return self._text("message", chunk, None)
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        model = chunk.get("model")
        if isinstance(model, str) and model:
            self.response["model"] = model
        out: list[dict[str, Any]] = []
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.keys() <= _TEXT_ONLY and choice.get("finish_reason") is None:  # the usual chunk: text
                content = delta.get("content")
                if isinstance(content, str) and content:
                    out += self._text("message", content, choice.get("logprobs"))
                continue
            reasoning = reasoning_of(delta)
            if reasoning:
                out += self._text("reasoning", reasoning, None)
            content = delta.get("content")
            if isinstance(content, str) and content:
                out += self._text("message", content, choice.get("logprobs"))
            for call in delta.get("tool_calls") or ():
                out += self._tool_delta(call)
            if choice.get("finish_reason") is not None:
                self._finish_reason = choice["finish_reason"]
                out += self._close()
        return out

    def finish(self) -> list[dict[str, Any]]:
        """The events that end the stream: the last item closed, then `response.completed` / `.incomplete`."""
        out = self._close()
        status, incomplete = status_of(self._finish_reason)
        self.response = self._snapshot(status=status, incomplete_details=incomplete, usage=response_usage(self._usage))
        self.done = True
        kind = "response.completed" if status == "completed" else "response.incomplete"
        return [*out, self._event(kind, response=self.response)]

    def fail(self, error: Exception) -> list[dict[str, Any]]:
        """`response.failed` for an error mid-stream (the item being streamed is kept as it was, incomplete).

        Nothing once the response has ended (completed, or failed already): a stream has one terminal event.
        """
        if self.done:
            return []
        if self._open is not None:
            self._output.append(self._item_body(self._open, "incomplete"))
            self._open = None
        code = "rate_limit_exceeded" if isinstance(error, APIStatusError) and error.status_code == 429 else None
        message = error.message if isinstance(error, APIError) else str(error)
        self.response = self._snapshot(status="failed", error={"code": code or "server_error", "message": message})
        self.done = True
        return [self._event("response.failed", response=self.response)]

    # ------------------------------------------------------------ items

    def _item_body(self, item: _Item, status: str) -> dict[str, Any]:
        if item.kind == "reasoning":
            return reasoning_item(item.id, item.text, status)
        if item.kind == "message":
            return message_item(item.id, [text_part(item.text, item.logprobs)], status)
        return function_call_item(item.id, item.call_id, item.name, item.text, status)

    def _where(self, item: _Item) -> dict[str, Any]:
        return {"item_id": item.id, "output_index": item.index}

    def _open_item(self, kind: str, call_id: str = "", name: str = "") -> tuple[_Item, list[dict[str, Any]]]:
        out = self._close(flush_pending=False)
        prefix = {"reasoning": "rs", "message": "msg", "function_call": "fc"}[kind]
        item = _Item(kind, new_id(prefix), len(self._output), call_id=call_id, name=name)
        self._open = item
        added: dict[str, Any] = self._item_body(item, "in_progress")
        if kind != "function_call":
            added = {**added, "content": []}
        out.append(self._event("response.output_item.added", output_index=item.index, item=added))
        if kind == "message":
            part = text_part("")
            out.append(self._event("response.content_part.added", **self._where(item), content_index=0, part=part))
        elif kind == "reasoning":
            part = {"type": "reasoning_text", "text": ""}
            out.append(self._event("response.content_part.added", **self._where(item), content_index=0, part=part))
        return item, out

    def _text(self, kind: str, piece: str, logprobs: object) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        item = self._open
        if item is None or item.kind != kind:
            item, out = self._open_item(kind)
        item.pieces.append(piece)
        # Built in one literal (this runs once per token): the fields of `_event` and `_where`, in their order.
        event: dict[str, Any] = {
            "type": "response.reasoning_text.delta" if kind == "reasoning" else "response.output_text.delta",
            "sequence_number": self._sequence,
            "item_id": item.id,
            "output_index": item.index,
            "content_index": 0,
            "delta": piece,
        }
        self._sequence += 1
        if kind != "reasoning":
            if logprobs is None:
                event["logprobs"] = []
            else:
                item.logprobs += text_logprobs(logprobs)
                event["logprobs"] = event_logprobs(logprobs)
        out.append(event)
        return out

    def _tool_delta(self, raw: Mapping[str, Any]) -> list[dict[str, Any]]:
        index = raw.get("index")
        if not isinstance(index, int):
            index = self._last_call if self._last_call >= 0 else 0
        call = self._calls.get(index)
        if call is None:
            call = self._calls[index] = _Call()
            self._last_call = index
        elif call.closed:
            raise APIResponseValidationError(f"tool call {index} continued after another one began")
        function = raw.get("function") or {}
        if raw.get("id") and call.call_id is None:
            call.call_id = str(raw["id"])
        if function.get("name") and call.name is None:
            call.name = str(function["name"])
        arguments = function.get("arguments")
        piece = arguments if isinstance(arguments, str) else ""
        out: list[dict[str, Any]] = []
        if call.item is None:
            if piece:
                call.pieces.append(piece)
            if call.name is None:
                return out
            return self._start_call(call)
        if piece:
            call.item.pieces.append(piece)
            out.append(self._event("response.function_call_arguments.delta", **self._where(call.item), delta=piece))
        return out

    def _start_call(self, call: _Call) -> list[dict[str, Any]]:
        for other in self._calls.values():
            if other is not call and other.item is not None:
                other.closed = True
        item, out = self._open_item("function_call", call_id=call.call_id or new_id("call"), name=call.name or "")
        call.item = item
        if call.pieces:
            item.pieces += call.pieces
            out.append(self._event("response.function_call_arguments.delta", **self._where(item), delta=item.text))
        return out

    def _close(self, *, flush_pending: bool = True) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        pending = [c for c in self._calls.values() if c.item is None and (c.pieces or c.call_id)]
        for call in pending if flush_pending else ():  # a call whose name never came is still reported
            out += self._start_call(call)
        item = self._open
        if item is None:
            return out
        self._open = None
        status, _ = status_of(self._finish_reason)
        done_status = "incomplete" if status == "incomplete" and item.kind == "message" else "completed"
        where = self._where(item)
        if item.kind == "function_call":
            out.append(self._event("response.function_call_arguments.done", **where, arguments=item.text))
        else:
            if item.kind == "message":
                part: dict[str, Any] = text_part(item.text, item.logprobs)
                done = self._event(
                    "response.output_text.done", **where, content_index=0, text=item.text,
                    logprobs=[{k: v for k, v in e.items() if k != "bytes"} for e in _strip(item.logprobs)],
                )  # fmt: skip
            else:
                part = {"type": "reasoning_text", "text": item.text}
                done = self._event("response.reasoning_text.done", **where, content_index=0, text=item.text)
            out.append(done)
            out.append(self._event("response.content_part.done", **where, content_index=0, part=part))
        body = self._item_body(item, done_status)
        self._output.append(body)
        out.append(self._event("response.output_item.done", output_index=item.index, item=body))
        return out


def _strip(logprobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Part logprobs (with `bytes`) as event logprobs (without)."""
    return [
        {**e, "top_logprobs": [{"token": t["token"], "logprob": t["logprob"]} for t in e["top_logprobs"]]}
        for e in logprobs
    ]

"""What OpenAI-compatible servers answer, normalised: finish reasons, tool calls, usage, reasoning (pure).

Shared by the non-stream builder (`easyllm.protocol.messages`) and the stream state machine
(`easyllm.protocol.messages_stream`), so both apply the same rules:

- `finish_reason` in OpenAI's words (TGI's `eos_token` / `stop_sequence`, together's `eos`, Anthropic-style
  `end_turn`, …); a server's own extra fields such as vLLM's `stop_reason` are never read as finish reasons;
- tool calls with string `arguments`, a non-empty `id`, `type: "function"`, no TGI `description`; in streams,
  every tool-call delta carries `index`, the first delta of each call carries an `id`, `arguments` is a string;
- reasoning under both names (`reasoning`: vLLM, the router; `reasoning_content`: SGLang, llama.cpp, DeepSeek),
  and a `<think>…</think>` block at the start of the content (servers without a reasoning parser) moved there,
  also when the tags are split across stream chunks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, Protocol

__all__ = [
    "AnswerPlan",
    "ThinkSplitter",
    "ToolCallDeltas",
    "answer_header",
    "finish_reason",
    "read_usage",
    "reasoning_fields",
    "split_think",
    "tool_calls",
]

Kind = Literal["chat", "text"]

_FINISH = {
    "stop": "stop",
    "eos_token": "stop",
    "eos": "stop",
    "stop_sequence": "stop",
    "end_turn": "stop",
    "length": "length",
    "max_tokens": "length",
    "model_length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


class AnswerPlan(Protocol):
    """What answer shaping needs from a plan (`MessagesPlan` has it)."""

    @property
    def id(self) -> str:
        """Easyllm's own response id, used when the server's is empty."""

    @property
    def created(self) -> int:
        """Easyllm's own timestamp, used when the server sends none."""

    @property
    def model(self) -> str:
        """The caller's model name."""

    @property
    def server_model(self) -> bool:
        """Whether the server's `model` is the one to report."""


def answer_header(plan: AnswerPlan, body: Mapping[str, Any]) -> dict[str, Any]:
    """`id`, `created`, `model`, `system_fingerprint` of an answer: the server's where usable, else easyllm's."""
    server_id, created, model = body.get("id"), body.get("created"), body.get("model")
    return {
        "id": server_id if isinstance(server_id, str) and server_id else plan.id,
        "created": created if isinstance(created, int) and created > 0 else plan.created,
        "model": model if plan.server_model and isinstance(model, str) and model else plan.model,
        "system_fingerprint": body.get("system_fingerprint"),
    }


def finish_reason(raw: object, *, kind: Kind, tools_called: bool = False) -> str | None:
    """OpenAI's finish reason for what a server sent; None for "not finished" (`null` or TGI's `""`).

    Example:
        >>> finish_reason("stop_sequence", kind="chat"), finish_reason("", kind="text")
        ('stop', None)
    """
    if raw is None or raw == "":
        return None
    reason = _FINISH.get(str(raw), "stop")
    if kind == "text" and reason == "tool_calls":
        return "stop"
    if tools_called and reason == "stop":
        return "tool_calls"
    return reason


def _arguments(function: dict[str, Any]) -> None:
    arguments = function.get("arguments")
    if arguments is None:
        function["arguments"] = ""
    elif not isinstance(arguments, str):
        function["arguments"] = json.dumps(arguments)


def tool_calls(raw: object) -> list[dict[str, Any]] | None:
    """A whole message's tool calls in OpenAI's shape, or None when there are none (`[]` included).

    Example:
        >>> tool_calls([{"id": "", "function": {"name": "f", "arguments": {"x": 1}, "description": None}}])
        [{'id': 'call_0', 'type': 'function', 'function': {'name': 'f', 'arguments': '{"x": 1}'}}]
    """
    if not isinstance(raw, list) or not raw:
        return None
    out = []
    for i, call in enumerate(raw):
        function = dict(call.get("function") or {})
        function.pop("description", None)
        _arguments(function)
        item: dict[str, Any] = {k: v for k, v in call.items() if k not in ("function", "index")}
        item["id"] = item.get("id") or f"call_{i}"
        item["type"] = "function"
        item["function"] = function
        out.append(item)
    return out


class ToolCallDeltas:
    """Normalise the tool-call deltas of one streamed choice.

    Servers differ: some omit `index` (then a delta naming a function starts the next call, any other continues
    the current one), send `arguments: null`, or put the `id` on a later delta. Out: every delta has `index`; the
    first delta of each call has an `id` (the server's, or one made up) and `type: "function"`; later ids of the
    same call are dropped; `arguments` is always a string.
    """

    def __init__(self, call_id_prefix: str) -> None:
        self._prefix = call_id_prefix
        self._seen: set[int] = set()
        self._next = 0

    def feed(self, raw: object) -> list[dict[str, Any]] | None:
        """The normalised deltas of one chunk, or None when it has none."""
        if not isinstance(raw, list) or not raw:
            return None
        out = []
        for call in raw:
            if not isinstance(call, Mapping):
                continue
            index = call.get("index")
            if not isinstance(index, int) or isinstance(index, bool):  # a new call starts with its function's name
                starts = not self._seen or bool((call.get("function") or {}).get("name"))
                index = self._next if starts else max(self._seen)
            self._next = max(self._next, index + 1)
            delta: dict[str, Any] = {"index": index}
            function = dict(call.get("function") or {})
            function.pop("description", None)
            if index not in self._seen:
                self._seen.add(index)
                delta["id"] = call.get("id") or f"{self._prefix}_{index}"
                delta["type"] = "function"
            _arguments(function)
            delta["function"] = function
            out.append(delta)
        return out or None


def read_usage(raw: object) -> tuple[int | None, int | None]:
    """Prompt and completion token counts from a server's `usage`, where it gave them."""
    if not isinstance(raw, Mapping):
        return None, None
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    return (
        prompt if isinstance(prompt, int) else None,
        completion if isinstance(completion, int) else None,
    )


def reasoning_fields(text: str | None) -> dict[str, Any]:
    """The reasoning under both names OpenAI-compatible clients read (`reasoning`, `reasoning_content`)."""
    return {} if text is None else {"reasoning": text, "reasoning_content": text}


def server_reasoning(raw: Mapping[str, Any]) -> str | None:
    """The reasoning a server sent in a message or delta, under whichever name it used."""
    for name in ("reasoning", "reasoning_content"):
        value = raw.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def split_think(content: str) -> tuple[str | None, str]:
    r"""Move a `<think>…</think>` block at the start of `content` out of it: (reasoning, the rest).

    Example:
        >>> split_think("<think>2+2 is 4</think>\n\nFour.")
        ('2+2 is 4', 'Four.')
        >>> split_think("No thinking here.")
        (None, 'No thinking here.')
    """
    splitter = ThinkSplitter()
    reasoning, text = splitter.feed(content)
    more_reasoning, more_text = splitter.flush()
    parts = [p for p in (reasoning, more_reasoning) if p]
    return ("".join(parts) if parts or splitter.had_block else None), text + more_text


class ThinkSplitter:
    """Stream twin of `split_think`: feed content pieces, get (reasoning piece, content piece) back.

    Only a block at the very start counts (leading white space allowed); content after `</think>` has its
    leading white space removed. Text that could still be the start of `<think>` or of `</think>` is held back
    until it can be decided (at most the tag's length), so nothing is lost or shown twice.
    """

    def __init__(self) -> None:
        self._state: Literal["start", "think", "content"] = "start"
        self._held = ""
        self.had_block = False
        self._trim_next = False

    @property
    def passing_through(self) -> bool:
        """True once every later piece is content, handed back as it is (no block, no white space to trim)."""
        return self._state == "content" and not self._trim_next

    def feed(self, piece: str) -> tuple[str, str]:
        """Take one content piece; return what is now known to be reasoning and content."""
        if self._state == "content":
            return "", self._lstrip(piece)
        self._held += piece
        if self._state == "start":
            stripped = self._held.lstrip()
            if not stripped:
                return "", ""
            if stripped.startswith(THINK_OPEN):
                self._state, self.had_block, self._held = "think", True, stripped[len(THINK_OPEN) :]
            elif THINK_OPEN.startswith(stripped):
                return "", ""  # could still become "<think>"
            else:
                self._state = "content"
                out, self._held = self._held, ""
                return "", out
        return self._thinking()

    def _thinking(self) -> tuple[str, str]:
        end = self._held.find(THINK_CLOSE)
        if end >= 0:
            reasoning, rest = self._held[:end], self._held[end + len(THINK_CLOSE) :]
            self._state, self._held, self._trim_next = "content", "", True
            return reasoning, self._lstrip(rest)
        keep = _partial_suffix(self._held, THINK_CLOSE)
        out = self._held[: len(self._held) - keep]
        self._held = self._held[len(self._held) - keep :]
        return out, ""

    def _lstrip(self, text: str) -> str:
        if not self._trim_next:
            return text
        stripped = text.lstrip()
        if stripped:
            self._trim_next = False
        return stripped

    def flush(self) -> tuple[str, str]:
        """The end of the content: whatever is held back, as reasoning (an unclosed block) or content."""
        held, self._held = self._held, ""
        if self._state == "think":
            return held, ""
        return "", held


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper start of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0

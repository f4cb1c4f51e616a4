"""TGI's native wire format: request payloads, and answers/stream events read into plain values.

Handles the root route `POST /` (Inference Endpoints, the Inference API) and `/generate*` alike: a non-stream
answer may be a list of one object (root route) or the object itself; stream events are checked for an
in-band `error` before anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from easyllm.errors import APIResponseValidationError

__all__ = [
    "Generated",
    "Token",
    "finish_reason",
    "generate_payload",
    "read_generated",
    "read_token_event",
]

_FINISH_REASONS = {"length": "length", "eos_token": "stop", "stop_sequence": "stop", "stop": "stop"}


def finish_reason(tgi_reason: object) -> str:
    """Map TGI's finish reason to OpenAI's words (`eos_token`/`stop_sequence` -> `stop`)."""
    return _FINISH_REASONS.get(str(tgi_reason), "stop")


def generate_payload(prompt: str, parameters: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
    """The body of one TGI request; `stream` is the root route's flag."""
    return {"inputs": prompt, "parameters": dict(parameters), "stream": stream}


class Token(NamedTuple):
    """One generated token with its log-probability and the alternatives asked for.

    A named tuple: one is built per streamed token, at a third of a frozen dataclass's cost.
    """

    text: str
    logprob: float | None
    special: bool = False
    top: tuple[tuple[str, float | None], ...] = ()


@dataclass(frozen=True, slots=True)
class Generated:
    """A finished generation as the server reported it (before stop trimming).

    `details` is TGI's raw `details` object; `tokens` reads it only when asked (log-probabilities), so an answer
    whose per-token details nobody wants costs nothing to keep.
    """

    text: str
    finish_reason: str | None
    generated_tokens: int | None
    prompt_tokens: int | None
    details: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def tokens(self) -> tuple[Token, ...]:
        """The generated tokens with their log-probabilities and alternatives (empty without details)."""
        return _tokens(self.details) if self.details else ()


def _int_or_none(value: object) -> int | None:
    try:
        return None if value is None else int(str(value))
    except ValueError:
        return None


def _tokens(details: Mapping[str, Any]) -> tuple[Token, ...]:
    tokens = details.get("tokens") or []
    tops = details.get("top_tokens") or []
    out = []
    for i, tok in enumerate(tokens):
        top = tops[i] if i < len(tops) else None
        out.append(
            Token(
                str(tok.get("text", "")),
                tok.get("logprob"),
                bool(tok.get("special", False)),
                tuple((str(t.get("text", "")), t.get("logprob")) for t in top) if top else (),
            )
        )
    return tuple(out)


def read_generated(body: object, headers: Mapping[str, str]) -> Generated:
    """Read a non-stream answer (`[{"generated_text"...}]` or `{"generated_text"...}`).

    Prompt tokens come from the `x-prompt-tokens` header, or from prefill details when the server sent them.
    """
    item = body[0] if isinstance(body, list) and body else body
    if not (type(item) is dict or isinstance(item, Mapping)) or not isinstance(item.get("generated_text"), str):
        raise APIResponseValidationError(f"expected a TGI answer with `generated_text`, got {str(body)[:200]!r}")
    details = item.get("details") or {}
    prompt_tokens = _int_or_none(headers.get("x-prompt-tokens"))
    if prompt_tokens is None and details.get("prefill"):
        prompt_tokens = len(details["prefill"])
    return Generated(
        text=item["generated_text"],
        finish_reason=details.get("finish_reason"),
        generated_tokens=_int_or_none(details.get("generated_tokens")),
        prompt_tokens=prompt_tokens,
        details=details,
    )


def read_token_event(event: Mapping[str, Any]) -> tuple[Token | None, Generated | None]:
    """Read one `/generate_stream` event: its token, and on the last event the finished generation."""
    raw = event.get("token")
    token = None
    if type(raw) is dict or isinstance(raw, Mapping):  # the exact-type test first: this runs once per token
        top = event.get("top_tokens")
        piece = raw.get("text", "")
        token = Token(
            piece if type(piece) is str else str(piece),
            raw.get("logprob"),
            bool(raw.get("special", False)),
            tuple((str(t.get("text", "")), t.get("logprob")) for t in top) if top else (),
        )
    text = event.get("generated_text")
    if text is None:
        return token, None
    details = event.get("details") or {}
    final = Generated(
        text=str(text),
        finish_reason=details.get("finish_reason"),
        generated_tokens=_int_or_none(details.get("generated_tokens")),
        prompt_tokens=_int_or_none(details.get("input_length")),
    )
    return token, final

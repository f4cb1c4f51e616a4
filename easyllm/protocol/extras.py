"""openai>=1's escape hatches on every create: `extra_body`, `extra_headers`, `extra_query` (pure).

They are what lets a caller send what easyllm does not model (vLLM's `top_k`, `min_p`, `chat_template_kwargs`,
SGLang's `separate_reasoning`, …): merged into each request after easyllm's own translation, so they win.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from easyllm.errors import InvalidParameterError

if TYPE_CHECKING:
    from easyllm.protocol.generation import HTTPCall

__all__ = ["NO_EXTRAS", "Extras"]


@dataclass(frozen=True)
class Extras:
    """openai>=1's escape hatches: `extra_body` merged into the JSON body, `extra_headers`, `extra_query`.

    They are applied to every request the call sends (after easyllm's own translation, so they win), never to
    the probes that find out what a server is.

    Example:
        >>> Extras.check({"top_k": 20}, None, None).body
        {'top_k': 20}
    """

    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None
    query: Mapping[str, Any] | None = None

    @classmethod
    def check(cls, body: object, headers: object, query: object) -> Extras:
        """Check the three options (each a dict or None) and bundle them; refuse anything else before sending."""
        if body is None and headers is None and query is None:
            return NO_EXTRAS  # the usual call
        for name, value in (("extra_body", body), ("extra_headers", headers), ("extra_query", query)):
            if value is not None and not isinstance(value, Mapping):
                raise InvalidParameterError(f"must be a dict, got {type(value).__name__}", param=name)
        if isinstance(headers, Mapping):
            for key, value in headers.items():
                if not isinstance(key, str) or not isinstance(value, str):
                    raise InvalidParameterError("must map header names to string values", param="extra_headers")
        return cls(body or None, headers or None, query or None)  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        return bool(self.body or self.headers or self.query)

    def apply(self, call: HTTPCall) -> HTTPCall:
        """`call` with the extras merged in: body keys (top level, theirs win), headers, query parameters."""
        if not self:
            return call
        body = {**call.json, **self.body} if self.body and isinstance(call.json, Mapping) else call.json
        headers = {**(call.headers or {}), **(self.headers or {})} or None
        params = {**(call.params or {}), **(self.query or {})} or None
        return replace(call, json=body, headers=headers, params=params)


NO_EXTRAS = Extras()

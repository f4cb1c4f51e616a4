"""vLLM's OpenAI-compatible server.

It takes OpenAI's `response_format` (and its own `structured_outputs` through `extra_body`), calls the reasoning
field `reasoning`, adds `stop_reason` beside `finish_reason` (never read as one), accepts `top_k`, `min_p`,
`repetition_penalty`, `chat_template_kwargs` and serves `/v1/responses`. Recognised by `GET /version`.
"""

from __future__ import annotations

from easyllm.dialects.base import Probe
from easyllm.dialects.openai import OpenAICompatible

__all__ = ["VLLM"]


class VLLM(OpenAICompatible):
    """vLLM (`vllm serve`)."""

    name = "vllm"
    probe = Probe("/version", ("version",))
    native_responses = True

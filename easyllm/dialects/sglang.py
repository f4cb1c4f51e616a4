"""SGLang's OpenAI-compatible server.

OpenAI's `response_format`; reasoning as `reasoning_content` (with `separate_reasoning`); extras such as
`chat_template_kwargs`, `regex`, `ebnf`, `no_stop_trim` through `extra_body`. Recognised by `GET /get_model_info`.
"""

from __future__ import annotations

from easyllm.dialects.base import Probe
from easyllm.dialects.openai import OpenAICompatible

__all__ = ["SGLang"]


class SGLang(OpenAICompatible):
    """SGLang (`python -m sglang.launch_server`)."""

    name = "sglang"
    probe = Probe("/get_model_info", ("model_path",))

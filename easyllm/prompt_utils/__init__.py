"""Prompt formats: chat messages to the exact prompt text an open model was trained on.

- Builders (`messages -> str`) for the common chat formats. Those with an official Hugging Face chat
  template (llama2, llama3, mistral, chatml, zephyr, gemma, phi3, falcon, falcon11b) match it byte for byte, as
  `apply_chat_template(messages, tokenize=False, add_generation_prompt=True)` renders it, and refuse the
  conversations it refuses (`InvalidParameterError`, param "messages"). The others follow the original
  easyllm builders.
- A registry: `get_prompt_builder(name)`, `register_prompt_builder(name, builder, stop=[...])`; the built-ins
  register through the same function.
- `PromptFormat`: a builder with its end-of-turn stop strings and its BOS text; `resolve_prompt_format` turns
  a name, a builder or a `PromptFormat` into one.
- `from_chat_template(source)`: a model's own Jinja chat template (string, file, folder or Hub model id),
  rendered in a sandbox.
- `render_prompt(messages, format)` and `easyllm prompt` show the exact prompt that will be sent.

The BOS rule: TGI's native routes add the BOS token themselves, so before sending a prompt there the client
calls `PromptFormat.strip_bos(prompt)`, which removes one leading BOS text, and the model sees exactly one.

Example:
    >>> from easyllm.prompt_utils import resolve_prompt_format
    >>> fmt = resolve_prompt_format("llama3")
    >>> prompt = fmt.build([{"role": "user", "content": "Hi"}])
    >>> prompt.startswith("<|begin_of_text|>"), fmt.stop
    (True, ('<|eot_id|>',))
    >>> fmt.strip_bos(prompt).startswith("<|start_header_id|>")
    True
"""

from __future__ import annotations

from easyllm.prompt_utils.anthropic import anthropic_stop_sequences, build_anthropic_prompt
from easyllm.prompt_utils.base import PromptFormat
from easyllm.prompt_utils.builtin import register_builtin_formats
from easyllm.prompt_utils.chat_template import (
    ChatTemplate,
    ChatTemplateError,
    ChatTemplateSecurityError,
    from_chat_template,
)
from easyllm.prompt_utils.chatml import build_chatml_prompt
from easyllm.prompt_utils.falcon import build_falcon11b_prompt, build_falcon_prompt, falcon_stop_sequences
from easyllm.prompt_utils.gemma import build_gemma_prompt
from easyllm.prompt_utils.h4 import (
    build_chatml_falcon_prompt,
    build_chatml_hf_prompt,
    build_chatml_starchat_prompt,
    build_zephyr_prompt,
    chatml_falcon_stop_sequences,
    chatml_starchat_stop_sequences,
)
from easyllm.prompt_utils.llama import build_llama2_prompt, build_llama3_prompt, llama2_stop_sequences
from easyllm.prompt_utils.mistral import build_mistral_prompt
from easyllm.prompt_utils.open_assistant import build_open_assistant_prompt, open_assistant_stop_sequences
from easyllm.prompt_utils.phi3 import build_phi3_prompt
from easyllm.prompt_utils.registry import (
    UnknownPromptFormatError,
    get_prompt_builder,
    list_prompt_formats,
    register_prompt_builder,
    render_prompt,
    resolve_prompt_format,
)
from easyllm.prompt_utils.stablebeluga import build_stablebeluga_prompt, stablebeluga_stop_sequences
from easyllm.prompt_utils.vicuna import (
    build_vicuna_prompt,
    build_wizardlm_prompt,
    vicuna_stop_sequences,
    wizardlm_stop_sequences,
)

__all__ = [
    "ChatTemplate",
    "ChatTemplateError",
    "ChatTemplateSecurityError",
    "PromptFormat",
    "UnknownPromptFormatError",
    "anthropic_stop_sequences",
    "build_anthropic_prompt",
    "build_chatml_falcon_prompt",
    "build_chatml_hf_prompt",
    "build_chatml_prompt",
    "build_chatml_starchat_prompt",
    "build_falcon11b_prompt",
    "build_falcon_prompt",
    "build_gemma_prompt",
    "build_llama2_prompt",
    "build_llama3_prompt",
    "build_mistral_prompt",
    "build_open_assistant_prompt",
    "build_phi3_prompt",
    "build_stablebeluga_prompt",
    "build_vicuna_prompt",
    "build_wizardlm_prompt",
    "build_zephyr_prompt",
    "chatml_falcon_stop_sequences",
    "chatml_starchat_stop_sequences",
    "falcon_stop_sequences",
    "from_chat_template",
    "get_prompt_builder",
    "list_prompt_formats",
    "llama2_stop_sequences",
    "open_assistant_stop_sequences",
    "register_prompt_builder",
    "render_prompt",
    "resolve_prompt_format",
    "stablebeluga_stop_sequences",
    "vicuna_stop_sequences",
    "wizardlm_stop_sequences",
]

register_builtin_formats()

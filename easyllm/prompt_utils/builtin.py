r"""Registers the built-in prompt formats, through the same `register_prompt_builder` users call.

| name | builder | stop | BOS text |
|---|---|---|---|
| llama2 | `build_llama2_prompt` | `</s>` | `<s>` |
| llama3 | `build_llama3_prompt` | `<|eot_id|>` | `<|begin_of_text|>` |
| mistral | `build_mistral_prompt` | `</s>` | `<s>` |
| chatml | `build_chatml_prompt` | `<|im_end|>` | |
| zephyr | `build_zephyr_prompt` | `</s>` | |
| gemma | `build_gemma_prompt` | `<end_of_turn>` | `<bos>` |
| phi3 | `build_phi3_prompt` | `<|end|>` | |
| vicuna, wizardlm, stablebeluga, open_assistant | their builders | `</s>` | |
| falcon | `build_falcon_prompt` | `\nUser:`, `<|endoftext|>`, ` User:`, `###` | |
| falcon11b | `build_falcon11b_prompt` | `\nUser:`, `<|endoftext|>` | |
| chatml_falcon | `build_chatml_falcon_prompt` | `<|endoftext|>` | |
| chatml_starchat | `build_chatml_starchat_prompt` | `<|end|>` | |
| anthropic | `build_anthropic_prompt` | `\n\nHuman:` | |
"""

from __future__ import annotations

from easyllm.prompt_utils.anthropic import ANTHROPIC_STOP, build_anthropic_prompt
from easyllm.prompt_utils.chatml import CHATML_STOP, build_chatml_prompt
from easyllm.prompt_utils.falcon import FALCON11B_STOP, FALCON_STOP, build_falcon11b_prompt, build_falcon_prompt
from easyllm.prompt_utils.gemma import GEMMA_BOS, GEMMA_STOP, build_gemma_prompt
from easyllm.prompt_utils.h4 import (
    CHATML_FALCON_STOP,
    CHATML_STARCHAT_STOP,
    ZEPHYR_STOP,
    build_chatml_falcon_prompt,
    build_chatml_starchat_prompt,
    build_zephyr_prompt,
)
from easyllm.prompt_utils.llama import (
    LLAMA2_BOS,
    LLAMA2_STOP,
    LLAMA3_BOS,
    LLAMA3_STOP,
    build_llama2_prompt,
    build_llama3_prompt,
)
from easyllm.prompt_utils.mistral import MISTRAL_BOS, MISTRAL_STOP, build_mistral_prompt
from easyllm.prompt_utils.open_assistant import OPEN_ASSISTANT_STOP, build_open_assistant_prompt
from easyllm.prompt_utils.phi3 import PHI3_STOP, build_phi3_prompt
from easyllm.prompt_utils.registry import register_prompt_builder
from easyllm.prompt_utils.stablebeluga import STABLEBELUGA_STOP, build_stablebeluga_prompt
from easyllm.prompt_utils.vicuna import VICUNA_STOP, WIZARDLM_STOP, build_vicuna_prompt, build_wizardlm_prompt

__all__ = ["register_builtin_formats"]


def register_builtin_formats() -> None:
    """Register (or re-register) every built-in format under its name."""
    register_prompt_builder("llama2", build_llama2_prompt, LLAMA2_STOP, bos=LLAMA2_BOS)
    register_prompt_builder("llama3", build_llama3_prompt, LLAMA3_STOP, bos=LLAMA3_BOS)
    register_prompt_builder("mistral", build_mistral_prompt, MISTRAL_STOP, bos=MISTRAL_BOS)
    register_prompt_builder("chatml", build_chatml_prompt, CHATML_STOP)
    register_prompt_builder("zephyr", build_zephyr_prompt, ZEPHYR_STOP)
    register_prompt_builder("gemma", build_gemma_prompt, GEMMA_STOP, bos=GEMMA_BOS)
    register_prompt_builder("phi3", build_phi3_prompt, PHI3_STOP)
    register_prompt_builder("vicuna", build_vicuna_prompt, VICUNA_STOP)
    register_prompt_builder("wizardlm", build_wizardlm_prompt, WIZARDLM_STOP)
    register_prompt_builder("stablebeluga", build_stablebeluga_prompt, STABLEBELUGA_STOP)
    register_prompt_builder("open_assistant", build_open_assistant_prompt, OPEN_ASSISTANT_STOP)
    register_prompt_builder("falcon", build_falcon_prompt, FALCON_STOP)
    register_prompt_builder("falcon11b", build_falcon11b_prompt, FALCON11B_STOP)
    register_prompt_builder("chatml_falcon", build_chatml_falcon_prompt, CHATML_FALCON_STOP)
    register_prompt_builder("chatml_starchat", build_chatml_starchat_prompt, CHATML_STARCHAT_STOP)
    register_prompt_builder("anthropic", build_anthropic_prompt, ANTHROPIC_STOP)

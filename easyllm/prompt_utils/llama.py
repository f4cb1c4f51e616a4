"""Meta Llama chat formats: Llama 2 chat (`[INST]`) and Llama 3 (`<|start_header_id|>`).

Both reproduce the `chat_template` of the official Hugging Face repos byte for byte, as
`apply_chat_template(messages, tokenize=False, add_generation_prompt=True)` renders it:

- Llama 2 (meta-llama/Llama-2-7b-chat-hf and its siblings): every user turn opens with `<s>[INST] `, the
  system message is folded into the first user turn inside `<<SYS>>` markers, and each turn's text is
  stripped of surrounding whitespace (the first turn is stripped as a whole, system block included, so
  the system text keeps its own leading spaces). The template has no generation prompt: the prompt ends with
  ` [/INST]`. It refuses roles that do not alternate user/assistant; this builder also refuses other roles
  (the template would silently drop some of them) and a conversation with no user message (the template
  would render an empty prompt).
- Llama 3 (meta-llama/Meta-Llama-3-8B-Instruct): `<|begin_of_text|>` once, then one header block per message
  with its text stripped, then the assistant header. Any role is written as given. The 3.1 template, which
  adds a dated preamble to the system turn, is different: use `from_chat_template` for it.
"""

from __future__ import annotations

from easyllm.prompt_utils.base import (
    Messages,
    as_turns,
    refuse,
    require_alternation,
    require_roles,
    split_system,
)

__all__ = [
    "LLAMA2_BOS",
    "LLAMA2_STOP",
    "LLAMA3_BOS",
    "LLAMA3_STOP",
    "build_llama2_prompt",
    "build_llama3_prompt",
    "llama2_stop_sequences",
]

LLAMA2_BOS = "<s>"
LLAMA2_STOP: tuple[str, ...] = ("</s>",)
LLAMA3_BOS = "<|begin_of_text|>"
LLAMA3_STOP: tuple[str, ...] = ("<|eot_id|>",)

llama2_stop_sequences: list[str] = list(LLAMA2_STOP)
"""The original easyllm name for the Llama 2 stop strings."""


def build_llama2_prompt(messages: Messages) -> str:
    r"""Build a Llama 2 chat prompt, exactly as the official template renders it.

    Example:
        >>> build_llama2_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
        '<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]'

    Raises:
        InvalidParameterError: the roles do not alternate user/assistant after an optional leading system
            message, a role other than system/user/assistant appears, or there is no user message.
    """
    turns = as_turns(messages, "llama2")
    system, rest = split_system(turns, "llama2")
    require_roles(rest, ("user", "assistant"), "llama2")
    require_alternation(rest, "llama2", offset=len(turns) - len(rest))
    if not rest:
        raise refuse("must contain a user message for the llama2 format (a system message alone renders nothing)")
    parts: list[str] = []
    for index, turn in enumerate(rest):
        text = turn.content
        if index == 0 and system is not None:
            text = f"<<SYS>>\n{system}\n<</SYS>>\n\n{text}"
        if turn.role == "user":
            parts.append(f"{LLAMA2_BOS}[INST] {text.strip()} [/INST]")
        else:
            parts.append(f" {text.strip()} </s>")
    return "".join(parts)


def build_llama3_prompt(messages: Messages) -> str:
    """Build a Llama 3 instruct prompt, exactly as the official template renders it.

    Example:
        >>> print(build_llama3_prompt([{"role": "user", "content": "Hi"}]))
        <|begin_of_text|><|start_header_id|>user<|end_header_id|>
        <BLANKLINE>
        Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>
        <BLANKLINE>
        <BLANKLINE>
    """
    turns = as_turns(messages, "llama3")
    blocks = [f"<|start_header_id|>{t.role}<|end_header_id|>\n\n{t.content.strip()}<|eot_id|>" for t in turns]
    return LLAMA3_BOS + "".join(blocks) + "<|start_header_id|>assistant<|end_header_id|>\n\n"

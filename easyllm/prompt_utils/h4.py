r"""The Hugging Face H4 family (`<|system|>`, `<|user|>`, `<|assistant|>` tags): Zephyr, StarChat, Falcon chat.

- Zephyr reproduces, byte for byte, the template of HuggingFaceH4/zephyr-7b-beta: each message as
  `<|ROLE|>\ntext</s>\n` with the text untouched, then `<|assistant|>\n`; no BOS text. The template
  silently drops roles other than system/user/assistant; this builder refuses them instead.
- StarChat and Falcon chat follow the original easyllm `chatml_hf` builders (there is no official template to
  match): each message as `<|ROLE|>\ntext<END>\n` with the text stripped, `<END>` being `<|end|>` (StarChat)
  or `<|endoftext|>` (Falcon), then `<|assistant|>` with no newline. Only the first message may be a system
  message.
"""

from __future__ import annotations

from easyllm.prompt_utils.base import Messages, as_turns, fill_turns, require_roles

__all__ = [
    "CHATML_FALCON_STOP",
    "CHATML_STARCHAT_STOP",
    "ZEPHYR_STOP",
    "build_chatml_falcon_prompt",
    "build_chatml_hf_prompt",
    "build_chatml_starchat_prompt",
    "build_zephyr_prompt",
    "chatml_falcon_stop_sequences",
    "chatml_starchat_stop_sequences",
]

ZEPHYR_STOP: tuple[str, ...] = ("</s>",)
CHATML_STARCHAT_STOP: tuple[str, ...] = ("<|end|>",)
CHATML_FALCON_STOP: tuple[str, ...] = ("<|endoftext|>",)

chatml_starchat_stop_sequences: list[str] = list(CHATML_STARCHAT_STOP)
"""The original easyllm name for the StarChat stop strings."""
chatml_falcon_stop_sequences: list[str] = list(CHATML_FALCON_STOP)
"""The original easyllm name for the Falcon chat stop strings."""

_ROLES = ("system", "user", "assistant")


def build_zephyr_prompt(messages: Messages) -> str:
    r"""Build a Zephyr prompt, exactly as the official zephyr-7b-beta template renders it.

    Example:
        >>> build_zephyr_prompt([{"role": "user", "content": "Hi"}])
        '<|user|>\nHi</s>\n<|assistant|>\n'

    Raises:
        InvalidParameterError: a role other than system, user or assistant appears.
    """
    turns = as_turns(messages, "zephyr")
    require_roles(turns, _ROLES, "zephyr")
    return "".join(f"<|{t.role}|>\n{t.content}</s>\n" for t in turns) + "<|assistant|>\n"


def build_chatml_hf_prompt(messages: Messages, eos_token: str = "<|end|>") -> str:
    r"""Build an H4-style chat prompt ending each turn with `eos_token` (the original easyllm builder).

    Example:
        >>> build_chatml_hf_prompt([{"role": "user", "content": " Hi "}])
        '<|user|>\nHi<|end|>\n<|assistant|>'

    Raises:
        InvalidParameterError: a system message is not first, or a role other than system, user or
            assistant appears.
    """
    end = eos_token.replace("{", "{{").replace("}", "}}")
    pieces = {role: f"<|{role}|>\n{{}}{end}\n" for role in _ROLES}
    return "".join(fill_turns(messages, "chatml_hf", pieces)) + "<|assistant|>"


def build_chatml_starchat_prompt(messages: Messages) -> str:
    """Build a StarChat prompt (turns end with `<|end|>`)."""
    return build_chatml_hf_prompt(messages, "<|end|>")


def build_chatml_falcon_prompt(messages: Messages) -> str:
    """Build a Falcon chat prompt in the H4 style (turns end with `<|endoftext|>`)."""
    return build_chatml_hf_prompt(messages, "<|endoftext|>")

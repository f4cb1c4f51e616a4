r"""Microsoft Phi-3 instruct format (`<|user|>` ... `<|end|>`).

Reproduces, byte for byte, the template of microsoft/Phi-3-mini-4k-instruct: each system, user or
assistant message as `<|ROLE|>\ntext<|end|>\n` with the text untouched (an empty system message is still
written), then `<|assistant|>\n`. The template writes no BOS text (the tokenizer adds `<s>` itself). It
silently drops other roles; this builder refuses them instead, so no message is lost without a word.
"""

from __future__ import annotations

from easyllm.prompt_utils.base import Messages, as_turns, require_roles

__all__ = ["PHI3_STOP", "build_phi3_prompt"]

PHI3_STOP: tuple[str, ...] = ("<|end|>",)
_ROLES = ("system", "user", "assistant")


def build_phi3_prompt(messages: Messages) -> str:
    r"""Build a Phi-3 instruct prompt, exactly as the official template renders it.

    Example:
        >>> build_phi3_prompt([{"role": "user", "content": "Hi"}])
        '<|user|>\nHi<|end|>\n<|assistant|>\n'

    Raises:
        InvalidParameterError: a role other than system, user or assistant appears.
    """
    turns = as_turns(messages, "phi3")
    require_roles(turns, _ROLES, "phi3")
    return "".join(f"<|{t.role}|>\n{t.content}<|end|>\n" for t in turns) + "<|assistant|>\n"

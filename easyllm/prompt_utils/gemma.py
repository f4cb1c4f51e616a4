r"""Google Gemma instruct format (`<start_of_turn>user` / `<start_of_turn>model`).

Reproduces, byte for byte, the template of google/gemma-2b-it and google/gemma-7b-it: `<bos>` once, each
turn as `<start_of_turn>ROLE\ntext<end_of_turn>\n` with the text stripped and "assistant" written as
"model", then `<start_of_turn>model\n`. The template refuses a system message and roles that do not
alternate user/assistant; so does this builder (and it refuses other roles, which the template would
write out verbatim in assistant positions).
"""

from __future__ import annotations

from easyllm.prompt_utils.base import Messages, as_turns, refuse, require_alternation, require_roles

__all__ = ["GEMMA_BOS", "GEMMA_STOP", "build_gemma_prompt"]

GEMMA_BOS = "<bos>"
GEMMA_STOP: tuple[str, ...] = ("<end_of_turn>",)


def build_gemma_prompt(messages: Messages) -> str:
    r"""Build a Gemma instruct prompt, exactly as the official template renders it.

    Example:
        >>> build_gemma_prompt([{"role": "user", "content": " Hi "}])
        '<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n'

    Raises:
        InvalidParameterError: a system message is present (Gemma has no system role: put the instructions
            at the start of the first user message), or the roles do not alternate user/assistant.
    """
    turns = as_turns(messages, "gemma")
    if any(turn.role == "system" for turn in turns):
        raise refuse(
            "contains a system message, which the official gemma template does not accept; "
            "put the instructions at the start of the first user message"
        )
    require_roles(turns, ("user", "assistant"), "gemma")
    require_alternation(turns, "gemma")
    parts = [GEMMA_BOS]
    for turn in turns:
        role = "model" if turn.role == "assistant" else "user"
        parts.append(f"<start_of_turn>{role}\n{turn.content.strip()}<end_of_turn>\n")
    parts.append("<start_of_turn>model\n")
    return "".join(parts)

r"""Falcon chat format (`System:` / `User:` / `Falcon:`), as the original easyllm wrote it.

Falcon-180B-chat documents this format but ships no chat template; this follows the original easyllm
builder: `System: S\n` (the system text kept as given), `User: U\n` and `Falcon: A\n` (stripped), then
`Falcon: `. Only the first message may be a system message; other roles are refused. The model has no
end-of-turn token, so the stops include the start of the next user line.
"""

from __future__ import annotations

from easyllm.prompt_utils.base import Messages, fill_turns

__all__ = ["FALCON_STOP", "build_falcon_prompt", "falcon_stop_sequences"]

FALCON_STOP: tuple[str, ...] = ("\nUser:", "<|endoftext|>", " User:", "###")

falcon_stop_sequences: list[str] = list(FALCON_STOP)
"""The original easyllm name for the Falcon stop strings."""

_PIECES = {"system": "System: {}\n", "user": "User: {}\n", "assistant": "Falcon: {}\n"}


def build_falcon_prompt(messages: Messages) -> str:
    r"""Build a Falcon chat prompt.

    Example:
        >>> build_falcon_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
        'System: Be brief.\nUser: Hi\nFalcon: '

    Raises:
        InvalidParameterError: a system message is not first, or a role other than system, user or
            assistant appears.
    """
    return "".join(fill_turns(messages, "falcon", _PIECES, keep_whitespace=("system",))) + "Falcon: "

r"""Falcon chat formats, byte for byte as the official templates on the Hub render them.

- `falcon` (`build_falcon_prompt`): the `chat_template` of tiiuae/falcon-7b-instruct, the Falcon the original
  easyllm was used with. The leading system text (stripped), then `\n\nUser: U` and `\n\nAssistant: A` turns, then
  `\n\nAssistant:`. Each turn's text is stripped, `\r\n` becomes `\n` and `\n\n` becomes `\n` (once, left to
  right, as Python's `str.replace` does). Like the template, it refuses roles that do not alternate
  user/assistant after an optional leading system message; it also refuses what the template would silently
  drop: a system message elsewhere, other roles, a conversation without a user message.
- `falcon11b` (`build_falcon11b_prompt`): the `chat_template` of tiiuae/falcon-11B (Falcon 2). Every message in
  order, its text as given: `System: S\n`, `User: \nU\n`, `Falcon:\nA\n`; then `Falcon:\n`. Like the template it
  takes system messages anywhere and roles in any order; it refuses other roles (the template would drop them).

Earlier easyllm versions wrote `User: U\nFalcon: ` for `falcon`, which neither model was trained on. Neither
model has an end-of-turn token, so the stops include the start of the next user line.
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
    "FALCON11B_STOP",
    "FALCON_STOP",
    "build_falcon11b_prompt",
    "build_falcon_prompt",
    "falcon_stop_sequences",
]

FALCON_STOP: tuple[str, ...] = ("\nUser:", "<|endoftext|>", " User:", "###")
FALCON11B_STOP: tuple[str, ...] = ("\nUser:", "<|endoftext|>")

falcon_stop_sequences: list[str] = list(FALCON_STOP)
"""The original easyllm name for the Falcon stop strings."""

_LABELS = {"user": "User", "assistant": "Assistant"}
_PIECES_11B = {"system": "System: {}\n", "user": "User: \n{}\n", "assistant": "Falcon:\n{}\n"}


def _clean(text: str) -> str:
    return text.strip().replace("\r\n", "\n").replace("\n\n", "\n")


def build_falcon_prompt(messages: Messages) -> str:
    r"""Build a Falcon-7B-Instruct prompt, exactly as its official template renders it.

    Example:
        >>> build_falcon_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
        'Be brief.\n\nUser: Hi\n\nAssistant:'

    Raises:
        InvalidParameterError: the roles do not alternate user/assistant after an optional leading system
            message, a role other than system/user/assistant appears, or there is no user message.
    """
    turns = as_turns(messages, "falcon")
    system, rest = split_system(turns, "falcon")
    require_roles(rest, _LABELS.keys(), "falcon")
    require_alternation(rest, "falcon", offset=len(turns) - len(rest))
    if not rest:
        raise refuse("must contain a user message for the falcon format (a system message alone renders nothing)")
    parts = [(system or "").strip()]
    parts += [f"\n\n{_LABELS[turn.role]}: {_clean(turn.content)}" for turn in rest]
    return "".join(parts) + "\n\nAssistant:"


def build_falcon11b_prompt(messages: Messages) -> str:
    r"""Build a Falcon-11B (Falcon 2) prompt, exactly as its official template renders it.

    Example:
        >>> build_falcon11b_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
        'System: Be brief.\nUser: \nHi\nFalcon:\n'

    Raises:
        InvalidParameterError: a role other than system, user or assistant appears.
    """
    turns = as_turns(messages, "falcon11b")
    require_roles(turns, _PIECES_11B.keys(), "falcon11b")
    return "".join(_PIECES_11B[turn.role].format(turn.content) for turn in turns) + "Falcon:\n"

"""The pieces every prompt format shares: `PromptFormat`, message reading and conversation checks.

A builder turns a list of chat messages into the one prompt string a text-generation route expects. The
checks here raise `InvalidParameterError` (param "messages") with a sentence that names the format and the
offending message, so a conversation that a model's official template would refuse fails before anything
is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

from easyllm.errors import InvalidParameterError

__all__ = [
    "Messages",
    "PromptFormat",
    "Turn",
    "as_turns",
    "fill_turns",
    "refuse",
    "require_alternation",
    "require_roles",
    "split_system",
]

Messages: TypeAlias = Sequence[Mapping[str, Any]] | str
"""What a builder accepts: chat messages, or a bare string that stands for one user message."""


@dataclass(frozen=True)
class PromptFormat:
    """A named prompt format: how to build the prompt, where the model's turn ends, and its BOS text.

    A `PromptFormat` is itself callable like its builder, so it can be passed wherever a builder goes.

    Attributes:
        name: the registry name (or the builder's own name for an unregistered callable).
        build: turns messages into the prompt string.
        stop: end-of-turn strings to stop generation at and to trim from the output.
        bos: the beginning-of-sequence text the prompt starts with, if any (for example "<s>").

    Example:
        >>> fmt = PromptFormat("demo", lambda messages: "<s>" + messages[-1]["content"], ("</s>",), "<s>")
        >>> fmt([{"role": "user", "content": "Hi"}])
        '<s>Hi'
        >>> fmt.strip_bos("<s>Hi")
        'Hi'
    """

    name: str
    build: Callable[[Sequence[Mapping[str, Any]]], str]
    stop: tuple[str, ...] = ()
    bos: str | None = None

    def __call__(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """Build the prompt for `messages` (same as `self.build(messages)`)."""
        return self.build(messages)

    def strip_bos(self, prompt: str) -> str:
        """Remove one leading BOS text from `prompt`, if the prompt starts with it.

        TGI's native routes (`/generate`, `/generate_stream`, `POST /`) tokenise the input with special tokens
        on, so the server adds the BOS token itself. A prompt that already starts with the BOS text would
        reach the model with two. Call this on the prompt before sending it to such a route; the Messages
        API (`/v1/chat/completions`) renders the template server-side and needs nothing.
        """
        if self.bos and prompt.startswith(self.bos):
            return prompt[len(self.bos) :]
        return prompt


class Turn(NamedTuple):
    """One message reduced to what prompt formats use."""

    role: str
    content: str


def refuse(message: str) -> InvalidParameterError:
    """The error a builder raises for a conversation its format cannot render."""
    return InvalidParameterError(message, param="messages")


def _turn(index: int, message: object, format_name: str) -> Turn:
    if type(message) is dict or isinstance(message, Mapping):  # the exact-type test first: the usual case
        role, content = message.get("role"), message.get("content")
    else:  # objects with attributes, such as the original easyllm ChatMessage
        role, content = getattr(message, "role", None), getattr(message, "content", None)
    if not isinstance(role, str):
        raise refuse(f"item {index} has no string 'role' (got {type(message).__name__})")
    if not isinstance(content, str):
        raise refuse(f"item {index} ({role}) must have string 'content' for the {format_name} format")
    return Turn(role, content)


def as_turns(messages: Messages, format_name: str) -> list[Turn]:
    """Read messages (or a bare string, taken as one user message) into turns; refuse an empty list."""
    if isinstance(messages, str):
        return [Turn("user", messages)]
    turns = [_turn(i, m, format_name) for i, m in enumerate(messages)]
    if not turns:
        raise refuse(f"must contain at least one message for the {format_name} format")
    return turns


def split_system(turns: Sequence[Turn], format_name: str) -> tuple[str | None, list[Turn]]:
    """Split off a leading system message; refuse a system message anywhere else."""
    system = turns[0].content if turns[0].role == "system" else None
    rest = list(turns[1:] if system is not None else turns)
    for index, turn in enumerate(rest, start=len(turns) - len(rest)):
        if turn.role == "system":
            raise refuse(
                f"may have a system message only as the first item in the {format_name} format "
                f"(item {index} is a system message)"
            )
    return system, rest


def require_roles(turns: Sequence[Turn], allowed: Collection[str], format_name: str) -> None:
    """Refuse any role the format has no place for."""
    for index, turn in enumerate(turns):
        if turn.role not in allowed:
            known = ", ".join(sorted(allowed))
            raise refuse(
                f"item {index} has role {turn.role!r}, which the {format_name} format does not support "
                f"(supported: {known})"
            )


def require_alternation(turns: Sequence[Turn], format_name: str, *, offset: int = 0) -> None:
    """Refuse turns that do not go user, assistant, user, ... (as the official templates check).

    Args:
        turns: the turns after any leading system message.
        format_name: for the error message.
        offset: how many messages came before `turns`, so the error points at the caller's index.
    """
    for index, turn in enumerate(turns):
        expected = "user" if index % 2 == 0 else "assistant"
        if turn.role != expected:
            raise refuse(
                f"must alternate user/assistant/user/... (after an optional leading system message) for the "
                f"{format_name} format; item {index + offset} is {turn.role!r} where {expected!r} was expected"
            )


def fill_turns(
    messages: Messages,
    format_name: str,
    pieces: Mapping[str, str],
    *,
    keep_whitespace: Collection[str] = (),
) -> list[str]:
    """Render each message through the piece for its role, for formats with a fixed text per role.

    A leading system message is allowed, a system message elsewhere is refused, and so is any role without
    a piece. Each piece holds one `{}` for the text; the text is stripped of surrounding whitespace unless
    its role is in `keep_whitespace`.
    """
    turns = as_turns(messages, format_name)
    split_system(turns, format_name)
    require_roles(turns, pieces.keys(), format_name)
    return [pieces[t.role].format(t.content if t.role in keep_whitespace else t.content.strip()) for t in turns]

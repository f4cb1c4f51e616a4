"""Checks on what the caller sends (messages, prompts, embedding inputs), before any request is made."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from easyllm.errors import InvalidParameterError

__all__ = ["ROLES", "check_embedding_input", "check_messages", "check_prompt"]

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


def _content_text(content: object, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not (isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str)):
                raise InvalidParameterError(
                    "parts must be {'type': 'text', 'text': str}; images need a server with the Messages API",
                    param=f"{where}.content",
                )
            texts.append(part["text"])
        return "".join(texts)
    raise InvalidParameterError(
        f"must be a string or a list of text parts, got {type(content).__name__}", param=f"{where}.content"
    )


def check_messages(messages: object) -> list[dict[str, str]]:
    """Validate chat messages and return them as plain `{"role", "content"}` dicts.

    `developer` is folded into `system`; text parts are joined; `None` content is allowed only for assistant
    turns (it becomes "").

    Example:
        >>> check_messages([{"role": "user", "content": [{"type": "text", "text": "Hi"}]}])
        [{'role': 'user', 'content': 'Hi'}]
    """
    # The exact-type tests come first: a list of dicts is the usual case, and the ABC checks cost more.
    if type(messages) is not list and (
        isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Sequence)
    ):
        raise InvalidParameterError(
            f"must be a list of {{'role', 'content'}} dicts, got {type(messages).__name__}", param="messages"
        )
    if not messages:
        raise InvalidParameterError("must not be empty", param="messages")
    checked = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if type(message) is not dict and not isinstance(message, Mapping):
            raise InvalidParameterError(f"must be a dict, got {type(message).__name__}", param=where)
        role = message.get("role")
        if role not in ROLES:
            raise InvalidParameterError(f"role must be one of {sorted(ROLES)}, got {role!r}", param=f"{where}.role")
        content = message.get("content")
        if content is None and role == "assistant":
            content = ""
        checked.append(
            {"role": "system" if role == "developer" else str(role), "content": _content_text(content, where)}
        )
    return checked


def check_prompt(prompt: object) -> str:
    """Validate a text-completion prompt: one non-empty string (a one-element list is accepted)."""
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise InvalidParameterError(
            f"must be a string (one prompt per call), got {type(prompt).__name__}", param="prompt"
        )
    if not prompt:
        raise InvalidParameterError("must not be empty", param="prompt")
    return prompt


def check_embedding_input(value: object) -> list[str]:
    """Validate embedding input: a non-empty string or a non-empty list of non-empty strings."""
    items: Any = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise InvalidParameterError(f"must be a string or a list of strings, got {type(value).__name__}", param="input")
    if not items:
        raise InvalidParameterError("must not be an empty list", param="input")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidParameterError(f"must be a string, got {type(item).__name__}", param=f"input[{i}]")
        if not item:
            raise InvalidParameterError("must not be an empty string", param=f"input[{i}]")
    return list(items)

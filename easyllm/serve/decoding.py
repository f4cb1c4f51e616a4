"""Turning token bytes into text as tokens arrive, and spotting stop sequences in that text.

A byte-level BPE token can end in the middle of a UTF-8 character; its text is then empty and the next token
carries the whole character, as TGI's incremental decoding does. Stop sequences are searched in the text, not in
tokens, so a stop that spans several tokens (or ends inside one) is still found.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Sequence


class TokenDecoder:
    """Incremental UTF-8 decoding of token pieces."""

    def __init__(self) -> None:
        """Start with no pending bytes."""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, piece: bytes) -> str:
        """Add one token's bytes.

        Args:
            piece: The token's bytes.

        Returns:
            The text completed by these bytes (possibly empty).
        """
        return self._decoder.decode(piece)

    def flush(self) -> str:
        """Return what is left at the end (an incomplete character becomes U+FFFD).

        Returns:
            The remaining text.
        """
        return self._decoder.decode(b"", final=True)


class PieceDecoder:
    """A `TextDecoder` from token pieces: each token's bytes, decoded as UTF-8 as they arrive (llama.cpp)."""

    def __init__(self, piece: Callable[[int], bytes]) -> None:
        """Decode with this piece function.

        Args:
            piece: The bytes of a token.
        """
        self._piece = piece
        self._bytes = TokenDecoder()

    def feed(self, token: int) -> str:
        """Add one token.

        Args:
            token: The token id.

        Returns:
            The text it completes (possibly empty).
        """
        return self._bytes.feed(self._piece(token))

    def flush(self) -> str:
        """Return what is left at the end.

        Returns:
            The remaining text.
        """
        return self._bytes.flush()


class StopMatcher:
    """Finds the first stop sequence that appears in generated text."""

    def __init__(self, stops: Sequence[str]) -> None:
        """Prepare for these stop sequences.

        Args:
            stops: The stop sequences; empty strings are ignored.
        """
        self._stops = [s for s in stops if s]
        self._longest = max((len(s) for s in self._stops), default=0)

    def match(self, text: str, added: int) -> str | None:
        """Check whether the last `added` characters completed a stop sequence.

        Args:
            text: All generated text so far.
            added: How many characters the latest token added.

        Returns:
            The stop sequence found, or None.
        """
        if not self._stops or added <= 0:
            return None
        window = text[max(0, len(text) - added - self._longest + 1) :]
        found = [(window.find(s), s) for s in self._stops if s in window]
        return min(found)[1] if found else None

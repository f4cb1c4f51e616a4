"""Stop sequences: cut generated text before the first stop, streamed or not.

TGI includes a matched stop sequence in its output (protocols.md §0, trap 7) and a client may enforce more
stops than the server allows, so the stop rule lives here, once, for both paths:

- `trim_stop` cuts a whole answer before the earliest-starting stop;
- `StopTrimmer` does the same to a stream of pieces, holding back only the characters that could still turn
  into a stop. Whatever the piece boundaries, the streamed text equals `trim_stop` of the whole text.

Empty stop strings are ignored everywhere (an empty stop would match before the first character).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["StopTrimmer", "TextLog", "find_stop", "trim_stop"]


def find_stop(text: str, stops: Sequence[str]) -> int | None:
    r"""Find where the earliest-starting occurrence of any stop begins.

    Args:
        text: the text to search.
        stops: the stop strings; empty strings are ignored.

    Returns:
        The index of the first character of the earliest-starting stop, or None when no stop occurs.

    Example:
        >>> find_stop("Hi!</s>\nUser: x", ["\nUser:", "</s>"])
        3
        >>> find_stop("Hi!", ["</s>"]) is None
        True
    """
    best = -1
    for stop in stops:
        if not stop:
            continue
        # Once a match is known, only an occurrence starting before it matters: bound the search window.
        end = len(text) if best < 0 else best - 1 + len(stop)
        found = text.find(stop, 0, end)
        if found >= 0:
            best = found
    return None if best < 0 else best


def trim_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """Cut a complete answer before its earliest-starting stop.

    Args:
        text: the whole generated text.
        stops: the stop strings; empty strings are ignored.

    Returns:
        The text before the stop (all of it when there is none) and whether a stop was found.

    Example:
        >>> trim_stop("Paris.<|im_end|>junk", ["<|im_end|>"])
        ('Paris.', True)
        >>> trim_stop("Paris.", ["<|im_end|>"])
        ('Paris.', False)
    """
    cut = find_stop(text, stops)
    return (text, False) if cut is None else (text[:cut], True)


class StopTrimmer:
    """Remove stop sequences from a stream of text pieces (one `feed` per token).

    `feed` returns the text that is safe to show now. It holds back at most (longest stop - 1) characters: the
    longest suffix of the pending text that is a proper prefix of some stop. When a stop is complete and no
    earlier position could still start a longer stop, `feed` returns the text before it, sets `stopped`, and
    every later `feed` returns "". At the end of the stream, `flush` returns what is still held back (cut
    before a stop if the held text turns out to contain one).

    Attributes:
        stopped: True once a stop has been found.

    Example:
        >>> trimmer = StopTrimmer(["</s>"])
        >>> [trimmer.feed(piece) for piece in ["Hello", " world<", "/s", ">", "more"]]
        ['Hello', ' world', '', '', '']
        >>> trimmer.stopped
        True
    """

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops: tuple[str, ...] = tuple(dict.fromkeys(stop for stop in stops if stop))
        self._prefixes: frozenset[str] = frozenset(s[:i] for s in self._stops for i in range(1, len(s)))
        # Last characters of all proper prefixes: a text ending in none of them holds nothing back.
        self._prefix_ends: frozenset[str] = frozenset(prefix[-1] for prefix in self._prefixes)
        self._max_hold = max((len(stop) - 1 for stop in self._stops), default=0)
        # First characters of all stops: a piece containing none of them (with nothing held) is safe as it is.
        self._firsts: frozenset[str] = frozenset(stop[0] for stop in self._stops)
        self._held = ""
        self.stopped = False

    @property
    def held(self) -> str:
        """The text currently held back (not yet emitted); the partial text to report if the stream fails."""
        return self._held

    def feed(self, piece: str) -> str:
        """Take the next piece of the stream and return the text that is safe to emit now.

        Only the held-back text and the new piece are examined, so a stream costs linear time overall.

        Args:
            piece: the next piece of generated text (may be empty).

        Returns:
            The text that can be shown now; "" once a stop has been found.
        """
        if not self._stops:
            return piece
        if self.stopped:
            return ""
        if not self._held and self._firsts.isdisjoint(piece):
            return piece  # no stop can start in it, so none ends in it and no suffix could begin one
        pending = self._held + piece if self._held else piece
        cut = find_stop(pending, self._stops)
        hold = self._hold_start(pending)
        if cut is not None and hold >= cut:
            self.stopped = True
            self._held = ""
            return pending[:cut]
        # Either no stop, or an earlier position may still become a longer stop: keep holding from there.
        self._held = pending[hold:]
        return pending[:hold]

    def flush(self) -> str:
        """End the stream: return what is still held back, cut before a stop if it contains one.

        May set `stopped` (e.g. stops ["abc", "b"] and a stream ending in "ab": "b" is a stop after all).

        Returns:
            The held-back text that belongs to the answer; "" if a stop had already been found.
        """
        if self.stopped:
            return ""
        text, self.stopped = trim_stop(self._held, self._stops)
        self._held = ""
        return text

    def _hold_start(self, pending: str) -> int:
        """Start of the longest suffix of `pending` that is a proper prefix of a stop (len if none)."""
        size = len(pending)
        if not pending or pending[-1] not in self._prefix_ends:
            return size
        for start in range(max(0, size - self._max_hold), size):
            if pending[start:] in self._prefixes:
                return start
        return size


class TextLog:
    """The text a stream has handed out so far, kept compact: memory follows the text, not the token count.

    Pieces are joined into one block every `BLOCK` appends, so a long stream holds a few large strings instead
    of one small string object (about 50 bytes of overhead) per token.

    Example:
        >>> log = TextLog()
        >>> for piece in ["Hel", "lo", "!"]:
        ...     log.append(piece)
        >>> log.text()
        'Hello!'
    """

    __slots__ = ("_blocks", "_pieces")

    BLOCK = 256

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._pieces: list[str] = []

    def append(self, piece: str) -> None:
        """Add the next piece of text."""
        pieces = self._pieces
        pieces.append(piece)
        if len(pieces) >= self.BLOCK:
            self._blocks.append("".join(pieces))
            pieces.clear()

    def text(self) -> str:
        """Everything appended so far, as one string."""
        return "".join(self._blocks) + "".join(self._pieces)

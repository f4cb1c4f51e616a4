"""Output held to a JSON schema or a regular expression, token by token, on either engine, with llguidance.

llguidance (the structured-output engine inside llama.cpp and vLLM) compiles a grammar once for a tokenizer and
then says at each step which tokens may come next, as a bitmask over the vocabulary: about 0.1 ms on SmolLM2's
49,152 tokens, where checking every token against a grammar costs milliseconds. `GuidanceMask` applies that bitmask
to the logits this server samples from itself and advances past each chosen token; end-of-generation tokens are
allowed only once the output is complete, and nothing else once it cannot go on.

JSON is written as Python's `json.dumps` writes it (`", "` between items, `": "` after keys, no other whitespace),
so a model cannot pad it with endless blanks. `{}` means any JSON object (what `json_object` asks).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

_LAYOUT = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


@lru_cache(maxsize=64)
def schema_grammar(schema: str) -> str:
    """The llguidance grammar for a JSON schema given as JSON text (`{}`: any JSON object).

    Remembered by the schema's text: a request is checked with it (`params.output_grammar`) and then generated
    with it, and clients send the same schema again and again.

    Example:
        >>> schema_grammar('{"type": "strange"}')
        Traceback (most recent call last):
        ...
        ValueError: the JSON schema cannot be turned into a grammar: Invalid type: strange

    Raises:
        ValueError: llguidance cannot hold output to the schema (its reason in the message).
    """
    from llguidance import LLMatcher

    value = json.loads(schema) or {"type": "object"}
    grammar = str(LLMatcher.grammar_from_json_schema(value, defaults=_LAYOUT))  # type: ignore[arg-type]
    error = LLMatcher.validate_grammar(grammar)
    if error:
        raise ValueError(f"the JSON schema cannot be turned into a grammar: {error}")
    return grammar


@lru_cache(maxsize=64)
def regex_grammar(pattern: str) -> str:
    """The llguidance grammar for a regular expression the whole output must match (TGI's `regex` grammar).

    Example:
        >>> regex_grammar("(yes|no")
        Traceback (most recent call last):
        ...
        ValueError: the regular expression cannot be turned into a grammar: ...

    Raises:
        ValueError: llguidance cannot read the expression (its reason in the message).
    """
    from llguidance import LLMatcher

    grammar = str(LLMatcher.grammar_from_regex(pattern))
    error = LLMatcher.validate_grammar(grammar)
    if error:
        raise ValueError(f"the regular expression cannot be turned into a grammar: {error}")
    return grammar


def llama_tokenizer(vocab: Any, ends: Iterable[int]) -> Any:
    """The llguidance view of a llama.cpp vocabulary (built once per model: ~0.3 s for SmolLM2).

    Args:
        vocab: llama-cpp-python's vocab pointer.
        ends: The ids that end generation.

    Returns:
        An `LLTokenizer`.
    """
    from llguidance.llamacpp import lltokenizer_from_vocab

    with warnings.catch_warnings():  # it reads each token's flags with a call llama-cpp-python calls deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return lltokenizer_from_vocab(vocab, eos_token=sorted(ends))


def pieces_tokenizer(
    pieces: Sequence[bytes], specials: Iterable[int], ends: Iterable[int], encode: Callable[[str], list[int]]
) -> Any:
    """The llguidance view of any vocabulary given as each token's bytes (built once per model).

    The transformers engine uses it with its own token pieces (what it decodes with), so every tokenizer it loads
    works alike, whatever its decoder (byte-level BPE, SentencePiece's metaspace, ...).

    Args:
        pieces: Each token's bytes, by id (b"" for ids the tokenizer does not have).
        specials: The ids of special (control) tokens: never part of the JSON.
        ends: The ids that end generation.
        encode: Text to token ids, without special tokens.

    Returns:
        An `LLTokenizer`.
    """
    from llguidance import LLTokenizer, TokenizerWrapper

    special = set(specials)
    ending = sorted(ends)
    vocabulary = _Vocabulary(
        tokens=[b"\xff" + p if i in special else p for i, p in enumerate(pieces)],  # llguidance's special mark
        special_token_ids=sorted(special),
        eos_token_id=ending[0] if ending else None,
        encode=encode,
    )
    return LLTokenizer(TokenizerWrapper(vocabulary), n_vocab=len(pieces), eos_token=ending or None)


@dataclass
class _Vocabulary:
    """What llguidance's `TokenizerWrapper` reads of a tokenizer."""

    tokens: list[bytes]
    special_token_ids: list[int]
    eos_token_id: int | None
    encode: Callable[[str], list[int]]
    bos_token_id: int | None = None

    def __call__(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise TypeError("text only")  # tells the wrapper to pass text, not bytes
        return self.encode(text)


class Vocabulary:
    """The llguidance view of one model's vocabulary, built on the model's first structured request and kept.

    Example (in an engine):
        self._guidance = Vocabulary(lambda: llama_tokenizer(vocab, ends))
        mask = self._guidance.mask(grammar)   # the first call builds the view (~0.3 s for SmolLM2)
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        """Remember how to build the view.

        Args:
            build: Makes the `LLTokenizer` (`llama_tokenizer`, `pieces_tokenizer`).
        """
        self._build = build
        self._tokenizer: Any = None

    def mask(self, grammar: str) -> GuidanceMask:
        """A mask for one generation under `grammar` (llguidance grammar text)."""
        if self._tokenizer is None:
            self._tokenizer = self._build()
        return GuidanceMask(self._tokenizer, grammar)


class GuidanceMask:
    """One generation held to a schema: forbidden tokens get a logit of minus infinity.

    Example (with a model's `LLTokenizer`):
        mask = GuidanceMask(tokenizer, schema_grammar('{"type": "integer"}'))
        logits = mask.apply(logits)   # then sample from them
        mask.accept(token)
    """

    def __init__(self, tokenizer: Any, grammar: str) -> None:
        """Start the grammar for this tokenizer.

        Args:
            tokenizer: The model's `LLTokenizer`.
            grammar: `schema_grammar`'s or `regex_grammar`'s result.

        Raises:
            ValueError: llguidance refused the grammar for this tokenizer.
        """
        from llguidance import LLMatcher
        from llguidance.numpy import allocate_token_bitmask, fill_next_token_bitmask

        self._matcher = LLMatcher(tokenizer, grammar, log_level=0)
        if self._matcher.is_error():
            raise ValueError(f"the grammar cannot be used with this vocabulary: {self._matcher.get_error()}")
        self._fill = fill_next_token_bitmask
        self._bits: npt.NDArray[np.int32] = allocate_token_bitmask(1, tokenizer.vocab_size)

    def apply(self, logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The logits with every token the schema forbids next at minus infinity.

        Raises:
            RuntimeError: No token of the vocabulary can go next (a tokenizer without the JSON's characters).
        """
        self._fill(self._matcher, self._bits)
        allowed = np.unpackbits(self._bits.view(np.uint8), bitorder="little").view(np.bool_)
        n = len(logits)
        if len(allowed) < n:  # logits past the tokenizer's vocabulary: never allowed
            allowed = np.concatenate([allowed, np.zeros(n - len(allowed), dtype=np.bool_)])
        allowed = allowed[:n]
        if not allowed.any():
            raise RuntimeError("the model's vocabulary cannot write what the grammar needs next (no token can)")
        return np.where(allowed, logits, np.float32(-np.inf))

    def accept(self, token: int) -> None:
        """Advance past the token chosen.

        Raises:
            RuntimeError: The token was not allowed: llguidance allowed a token it then refused, which it does for a
                vocabulary that lacks a character the JSON needs (a Unigram model that never saw "{").
        """
        if not self._matcher.consume_token(token):
            reason = self._matcher.get_error().split("\n", 1)[0]
            raise RuntimeError(f"the model's vocabulary cannot write what the grammar needs next ({reason})")

    def close(self) -> None:
        """Nothing to free by hand (the matcher goes with the object)."""

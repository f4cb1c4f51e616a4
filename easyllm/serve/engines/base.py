"""What an engine offers the server, and the values generation produces.

A `TextModel` is the few low-level operations the generation loop needs (tokenize, evaluate, read logits); the
loop itself, sampling and stop handling are engine-independent (`easyllm.serve.generation`). An
`EmbeddingModel` turns texts into vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

FinishReason = Literal["length", "eos_token", "stop_sequence"]


@dataclass(frozen=True)
class Token:
    """One token as TGI reports it.

    Attributes:
        id: The token id.
        text: Its text (for a normal token, the text it adds; for a special token, its own spelling).
        logprob: Its log-probability, None for the first prompt token.
        special: Whether it is a special (control) token.
    """

    id: int
    text: str
    logprob: float | None
    special: bool = False


@dataclass(frozen=True)
class Generation:
    """A finished generation.

    Attributes:
        generated_text: The text without special tokens; a matched stop sequence is included.
        finish_reason: Why it stopped.
        tokens: The generated tokens.
        top_tokens: The alternatives of each generated token (empty lists when not asked).
        prefill: The prompt tokens with their logprobs (when asked).
        seed: The seed used when sampling, else None.
        input_length: Tokens in the prompt.
    """

    generated_text: str
    finish_reason: FinishReason
    tokens: list[Token]
    top_tokens: list[list[Token]]
    prefill: list[Token]
    seed: int | None
    input_length: int

    @property
    def generated_tokens(self) -> int:
        """How many tokens were generated (the EOS token counts)."""
        return len(self.tokens)

    @property
    def logprob_sum(self) -> float:
        """The sum of the generated tokens' logprobs (to rank `best_of` sequences)."""
        return sum(t.logprob or 0.0 for t in self.tokens)


@dataclass(frozen=True)
class Step:
    """One generated token, as streamed.

    Attributes:
        index: 1-based position among the generated tokens (TGI's `index` starts at 1).
        token: The token.
        top_tokens: Its alternatives (empty unless asked).
        final: The whole generation when this is the last token, else None.
    """

    index: int
    token: Token
    top_tokens: list[Token] = field(default_factory=list)
    final: Generation | None = None


class TextDecoder(Protocol):
    """Turns generated token ids into text as they arrive (one per generation)."""

    def feed(self, token: int) -> str:
        """Add a (non-special) token; return the text it completes, possibly empty."""
        ...

    def flush(self) -> str:
        """Return the text still pending at the end."""
        ...


class TextModel(Protocol):
    """The operations of a language model that generation needs. Used from one thread at a time.

    A causal LM's `prefill` evaluates the prompt; an encoder-decoder's (`encoder_decoder` true) encodes it and
    evaluates the decoder start token, so its prompt tokens have no logprobs and penalties see only the output.
    """

    @property
    def n_ctx(self) -> int:
        """The context size in tokens."""
        ...

    @property
    def encoder_decoder(self) -> bool:
        """Whether the prompt is encoded (seq2seq) rather than continued."""
        ...

    def text_decoder(self, prompt_ids: Sequence[int]) -> TextDecoder:
        """A decoder for one generation's tokens (a causal LM's prompt may set the context of the first token)."""
        ...

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        """Split text into token ids, parsing special-token spellings; `add_special` adds BOS if the model does."""
        ...

    def piece(self, token: int) -> bytes:
        """The bytes of one token (a special token's spelling for special tokens)."""
        ...

    def is_special(self, token: int) -> bool:
        """Whether a token is a control token (not part of the text)."""
        ...

    def is_end(self, token: int) -> bool:
        """Whether a token ends generation (EOS / end of turn)."""
        ...

    def prefill(self, ids: Sequence[int], *, all_logits: bool) -> npt.NDArray[np.float32]:
        """Evaluate the prompt from scratch; return the logits of every position, or of the last only (1 row)."""
        ...

    def step(self, token: int) -> npt.NDArray[np.float32]:
        """Append one token and return the logits of the next position."""
        ...

    def grammar_mask(self, grammar: str) -> LogitMask:
        """A mask that keeps one generation's output within `grammar` (llguidance grammar text)."""
        ...


class LogitMask(Protocol):
    """Constrains one generation: the tokens the constraint forbids next get a logit of minus infinity."""

    def apply(self, logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The logits with every forbidden token at minus infinity (end-of-generation only where it may end)."""
        ...

    def accept(self, token: int) -> None:
        """Advance past the token chosen."""
        ...

    def close(self) -> None:
        """Free what the mask holds."""
        ...


class EmbeddingModel(Protocol):
    """A sentence-embedding model. Used from one thread at a time."""

    @property
    def dimension(self) -> int:
        """The vector size."""
        ...

    @property
    def max_input_length(self) -> int:
        """The longest input in tokens."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, special tokens included, before truncation."""
        ...

    def embed(self, texts: Sequence[str], *, normalize: bool, prompt_name: str | None) -> npt.NDArray[np.float32]:
        """One vector per text, in order (inputs longer than the limit are truncated)."""
        ...

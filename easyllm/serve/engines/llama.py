"""GGUF generation with llama-cpp-python, driven token by token (imported only when a GGUF model loads).

The server does its own sampling (`easyllm.serve.sampling`), so it needs from llama.cpp only: tokenization, the
pieces of tokens, the vocabulary's control/end flags and the logits after each decode; structured output masks
those logits with llguidance over this vocabulary (`engines/guidance.py`). `prefill` asks for the
logits of every prompt position only when prefill details are wanted; otherwise only the last row is computed.
The KV cache is cleared at each prefill (one sequence at a time: the model's worker thread serialises requests).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from easyllm.serve.decoding import PieceDecoder
from easyllm.serve.engines.guidance import GuidanceMask, Vocabulary, llama_tokenizer


class LlamaCppModel:
    """A `TextModel` backed by a GGUF file."""

    def __init__(self, path: Path, *, n_ctx: int, n_threads: int | None = None) -> None:
        """Load a GGUF model.

        Args:
            path: The .gguf file.
            n_ctx: The context size (the model's `max_total_tokens`).
            n_threads: CPU threads; default all cores but one (the event loop and other models need one, and
                llama.cpp's spinning threads slow down badly when they compete for cores).
        """
        import llama_cpp  # heavy: loads the native library

        self._lib: Any = llama_cpp
        threads = n_threads or max(1, (os.cpu_count() or 1) - 1)
        self._llm: Any = llama_cpp.Llama(
            model_path=str(path), n_ctx=n_ctx, n_batch=min(512, n_ctx), n_threads=threads, verbose=False
        )
        self._vocab: Any = self._llm._model.vocab
        self._ctx: Any = self._llm._ctx
        self._batch: Any = self._llm._batch
        self._n_batch = min(512, n_ctx)
        self.n_vocab: int = self._llm.n_vocab()
        self._n_past = 0
        self.metadata: dict[str, str] = dict(self._llm.metadata)
        self.piece = lru_cache(maxsize=None)(self._piece)
        self._guidance = Vocabulary(self._guidance_tokenizer)

    @property
    def n_ctx(self) -> int:
        """The context size in tokens."""
        return int(self._llm.n_ctx())

    @property
    def encoder_decoder(self) -> bool:
        """False: GGUF models here are decoder-only."""
        return False

    def text_decoder(self, prompt_ids: Sequence[int]) -> PieceDecoder:
        """Decode generated tokens from their pieces.

        Args:
            prompt_ids: Unused: a piece does not depend on the tokens before it.

        Returns:
            A fresh decoder.
        """
        return PieceDecoder(self.piece)

    @property
    def chat_template(self) -> str | None:
        """The Jinja chat template in the GGUF metadata, if any."""
        return self.metadata.get("tokenizer.chat_template")

    def special_text(self, token: int) -> str:
        """The spelling of a token, special tokens included (e.g. `<|im_end|>`).

        Args:
            token: A token id, or -1.

        Returns:
            Its text, or "" for -1.
        """
        return "" if token < 0 else self._piece(token).decode("utf-8", "replace")

    @property
    def bos_token(self) -> str:
        """The BOS spelling ("" when the model has none)."""
        return self.special_text(self._llm.token_bos())

    @property
    def eos_token(self) -> str:
        """The EOS spelling."""
        return self.special_text(self._llm.token_eos())

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        """Split text into ids, parsing special-token spellings.

        Args:
            text: The text.
            add_special: Add BOS when the model's tokenizer does.

        Returns:
            Token ids.
        """
        if not text:
            return []
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=add_special, special=True))

    def _piece(self, token: int) -> bytes:
        size = 64
        while True:
            buffer = ctypes.create_string_buffer(size)
            n = self._lib.llama_token_to_piece(self._vocab, token, buffer, size, 0, True)
            if n >= 0:
                return bytes(buffer.raw[:n])
            size = -n

    def is_special(self, token: int) -> bool:
        """Whether a token is a control token.

        Args:
            token: The id.

        Returns:
            True for control tokens such as `<|im_end|>`.
        """
        return bool(self._lib.llama_vocab_is_control(self._vocab, token))

    def is_end(self, token: int) -> bool:
        """Whether a token ends generation (end of text or of turn).

        Args:
            token: The id.

        Returns:
            True for end-of-generation tokens.
        """
        return bool(self._lib.llama_vocab_is_eog(self._vocab, token))

    def prefill(self, ids: Sequence[int], *, all_logits: bool) -> npt.NDArray[np.float32]:
        """Evaluate a prompt from an empty cache.

        Args:
            ids: The prompt's token ids.
            all_logits: Return every position's logits, not only the last.

        Returns:
            An array of shape (len(ids), n_vocab) or (1, n_vocab).
        """
        self._ctx.kv_cache_clear()
        self._n_past = 0
        rows = []
        for start in range(0, len(ids), self._n_batch):
            chunk = list(ids[start : start + self._n_batch])
            self._decode(chunk, all_logits=all_logits)
            if all_logits:
                rows.append(self._logits(len(chunk)))
        return np.concatenate(rows) if all_logits else self._last_logits()[None, :]

    def step(self, token: int) -> npt.NDArray[np.float32]:
        """Append one token to the sequence.

        Args:
            token: The id just generated.

        Returns:
            The logits of the next position.
        """
        self._decode([token], all_logits=False)
        return self._last_logits()

    def grammar_mask(self, grammar: str) -> GuidanceMask:
        """The llguidance mask for `grammar` over this model's vocabulary.

        Args:
            grammar: llguidance grammar text (`params.output_grammar`).

        Returns:
            The mask for one generation.
        """
        return self._guidance.mask(grammar)

    def _guidance_tokenizer(self) -> Any:
        return llama_tokenizer(self._vocab, [i for i in range(self.n_vocab) if self.is_end(i)])

    def _decode(self, chunk: list[int], *, all_logits: bool) -> None:
        self._batch.set_batch(batch=chunk, n_past=self._n_past, logits_all=all_logits)
        self._ctx.decode(self._batch)
        self._n_past += len(chunk)

    def _logits(self, rows: int) -> npt.NDArray[np.float32]:
        pointer = self._ctx.get_logits()
        rows_array: npt.NDArray[np.float32] = np.ctypeslib.as_array(pointer, shape=(rows, self.n_vocab)).copy()
        return rows_array

    def _last_logits(self) -> npt.NDArray[np.float32]:
        pointer = self._ctx.get_logits_ith(-1)
        row: npt.NDArray[np.float32] = np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)).copy()
        return row

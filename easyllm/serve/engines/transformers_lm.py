"""Generation with transformers on torch, driven token by token (imported only when such a model loads).

Two `TextModel`s: `CausalModel` (GPT-2, Phi, Llama-family, SmolLM2 …) and `Seq2SeqModel` (T5, BART, Marian …).
Like the llama.cpp engine they give the generation loop logits one position at a time, keeping the key/value cache
between steps, so sampling, stop sequences, seeds, logprobs and streaming are the server's own
(`easyllm.serve.generation`, `easyllm.serve.sampling`) whatever the engine. Beam search (`num_beams > 1`) is the
one thing the loop does not do: `beam_search` hands it to transformers' `generate()`.

A model comes from a folder (`save_pretrained`, a Hub snapshot) or a GGUF file, which transformers dequantizes
(`gguf_file=`, needs the `gguf` package). Text is decoded the way TGI does: the difference between decoding the
tokens so far and decoding them without the newest, so tokenizers whose pieces are not plain bytes (SentencePiece,
byte fallback, slow tokenizers) give exact text.
"""

from __future__ import annotations

import inspect
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from easyllm.serve.engines.base import FinishReason, Generation, LogitMask, Token
from easyllm.serve.engines.guidance import Vocabulary, pieces_tokenizer

# Prompt tokens decoded before the first new token, so it gets the spacing it has after them.
_CONTEXT_TOKENS = 5
_BYTE_TOKEN = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
# transformers `from_pretrained` arguments that concern the tokenizer files too.
_TOKENIZER_KWARGS = ("gguf_file", "revision", "subfolder", "trust_remote_code", "cache_dir", "token")


@dataclass(frozen=True)
class LoadedParts:
    """What `load_parts` returns.

    Attributes:
        model: The torch model, in eval mode on its device.
        tokenizer: Its tokenizer.
    """

    model: Any
    tokenizer: Any


def load_parts(path: Path, *, seq2seq: bool, model_kwargs: dict[str, Any], device: str) -> LoadedParts:
    """Load a model and its tokenizer from a folder or GGUF file, offline.

    Args:
        path: A model folder or a .gguf file.
        seq2seq: Load an encoder-decoder (`AutoModelForSeq2SeqLM`) instead of a causal LM.
        model_kwargs: More `from_pretrained` arguments (`torch_dtype` may be a name such as "float16").
        device: The torch device.

    Returns:
        The model and tokenizer.
    """
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # no bar per model
    kwargs = dict(model_kwargs)
    if path.is_file():
        kwargs["gguf_file"] = path.name
        path = path.parent
    for key in ("torch_dtype", "dtype"):
        if isinstance(kwargs.get(key), str) and kwargs[key] != "auto":
            kwargs[key] = getattr(torch, kwargs[key])
    if "torch_dtype" in kwargs and int(transformers.__version__.split(".")[0]) >= 5:
        kwargs["dtype"] = kwargs.pop("torch_dtype")  # renamed in transformers 5
    tokenizer_kwargs = {key: kwargs[key] for key in _TOKENIZER_KWARGS if key in kwargs}
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True, **tokenizer_kwargs)
    auto: Any = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    model = auto.from_pretrained(str(path), local_files_only=True, **kwargs)
    model.eval()
    model.to(device)
    return LoadedParts(model, tokenizer)


def set_threads(threads: int | None) -> None:
    """Set torch's CPU threads (a process-wide setting): default all cores but one, as for llama.cpp.

    Args:
        threads: The number, or None.
    """
    import torch

    torch.set_num_threads(threads or max(1, (os.cpu_count() or 1) - 1))


class TokenizerDecoder:
    """TGI's incremental detokenization: emit what decoding one more token adds, once it is whole text."""

    def __init__(self, tokenizer: Any, context: Sequence[int], lock: threading.Lock) -> None:
        """Start after some context tokens (their text is not emitted).

        Args:
            tokenizer: A transformers tokenizer.
            context: The last prompt tokens of a causal LM, or nothing.
            lock: Held while the tokenizer works (the event loop tokenizes while the worker decodes).
        """
        self._tokenizer = tokenizer
        self._lock = lock
        self._ids = list(context)
        self._prefix = 0
        self._read = len(self._ids)

    def _decode(self, ids: Sequence[int]) -> str:
        text: str = self._tokenizer.decode(list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False)
        return text

    def _pending(self) -> str:
        before = self._decode(self._ids[self._prefix : self._read])
        after = self._decode(self._ids[self._prefix :])
        return after[len(before) :] if len(after) > len(before) else ""

    def feed(self, token: int) -> str:
        """Add one token.

        Args:
            token: The id.

        Returns:
            The text it completes; empty while a character is still partial.
        """
        self._ids.append(token)
        text = self._pending()
        if not text or text.endswith("\ufffd"):
            return ""
        self._prefix, self._read = self._read, len(self._ids)
        return text

    def flush(self) -> str:
        """Return the text still pending (a partial character becomes U+FFFD).

        Returns:
            The text.
        """
        text = self._pending()
        self._prefix = self._read = len(self._ids)
        return text


class _TransformersModel:
    """What both kinds share: tokenizer, special tokens, pieces, limits, beam search."""

    def __init__(self, parts: LoadedParts, *, n_ctx: int) -> None:
        self._model: Any = parts.model
        self.tokenizer: Any = parts.tokenizer
        self._n_ctx = n_ctx
        self._device = self._model.device
        self._cache: Any = None
        # A fast tokenizer may change its settings when called: one caller at a time (event loop and worker).
        self._tokenizer_lock = threading.Lock()
        tokenizer = self.tokenizer
        self._n_tokens = len(tokenizer)
        specials = set(tokenizer.all_special_ids)
        specials |= {i for i, t in getattr(tokenizer, "added_tokens_decoder", {}).items() if t.special}
        self._specials = frozenset(specials)
        generation = self._model.generation_config
        ends = generation.eos_token_id if generation.eos_token_id is not None else tokenizer.eos_token_id
        self._ends = frozenset([ends] if isinstance(ends, int) else (ends or []))
        self._byte_decoder = _byte_decoder() if _is_byte_level(tokenizer) else None
        self.piece = lru_cache(maxsize=None)(self._piece)
        self._guidance = Vocabulary(self._guidance_tokenizer)
        forward = inspect.signature(self._model.forward).parameters
        # transformers 5 renamed `past_key_values` to `cache` (argument and output).
        self._cache_arg = "cache" if "cache" in forward else "past_key_values"
        self._keep_last = {"logits_to_keep": 1} if "logits_to_keep" in forward else {}

    def _forward(self, **inputs: Any) -> Any:
        """Run the model with the kept cache; keep the new one."""
        import torch

        with torch.inference_mode():
            out = self._model(**inputs, **{self._cache_arg: self._cache}, use_cache=True)
        self._cache = out["cache"] if "cache" in out else out.get("past_key_values")
        return out

    @property
    def n_ctx(self) -> int:
        """The context size in tokens."""
        return self._n_ctx

    @property
    def max_positions(self) -> int | None:
        """The longest sequence the position embeddings allow, when the config says (T5's are relative)."""
        config = self._model.config
        for key in ("max_position_embeddings", "n_positions", "max_target_positions"):
            value = getattr(config, key, None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    @property
    def generation_config(self) -> Any:
        """The model's own generation defaults (transformers' `GenerationConfig`)."""
        return self._model.generation_config

    @property
    def chat_template(self) -> str | None:
        """The tokenizer's chat template, if any."""
        template = getattr(self.tokenizer, "chat_template", None)
        return template if isinstance(template, str) else None

    @property
    def bos_token(self) -> str:
        """The BOS spelling ("" when the model has none)."""
        return str(self.tokenizer.bos_token or "")

    @property
    def eos_token(self) -> str:
        """The EOS spelling."""
        return str(self.tokenizer.eos_token or "")

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        """Split text into ids (special-token spellings are parsed).

        Args:
            text: The text.
            add_special: Add the tokenizer's special tokens (BOS for Llama-family models, EOS for T5 …).

        Returns:
            Token ids.
        """
        if not text:
            return []
        with self._tokenizer_lock:
            ids: list[int] = self.tokenizer(text, add_special_tokens=add_special)["input_ids"]
        return list(ids)

    def _piece(self, token: int) -> bytes:
        with self._tokenizer_lock:
            spelling = self.tokenizer.convert_ids_to_tokens(token)
        if spelling is None:
            return b""
        if token in self._specials:
            return str(spelling).encode("utf-8")
        if self._byte_decoder is not None and all(c in self._byte_decoder for c in spelling):
            return bytes(self._byte_decoder[c] for c in spelling)
        byte = _BYTE_TOKEN.match(spelling)
        if byte:
            return bytes([int(byte.group(1), 16)])
        return str(spelling).replace("\u2581", " ").encode("utf-8")

    def is_special(self, token: int) -> bool:
        """Whether a token is a special (control) token.

        Args:
            token: The id.

        Returns:
            True for special tokens.
        """
        return token in self._specials

    def is_end(self, token: int) -> bool:
        """Whether a token ends generation (the generation config's EOS ids).

        Args:
            token: The id.

        Returns:
            True for end tokens.
        """
        return token in self._ends

    def grammar_mask(self, grammar: str) -> LogitMask:
        """The llguidance mask for `grammar` over this model's vocabulary, read from its own token pieces.

        Args:
            grammar: llguidance grammar text (`params.output_grammar`).

        Returns:
            The mask for one generation.
        """
        return self._guidance.mask(grammar)

    def _guidance_tokenizer(self) -> Any:
        n_vocab = max(self._n_tokens, int(getattr(self._model.config, "vocab_size", 0) or 0))
        pieces = [self.piece(i) if i < self._n_tokens else b"" for i in range(n_vocab)]
        return pieces_tokenizer(pieces, self._specials, self._ends, partial(self.tokenize, add_special=False))

    def _numpy(self, logits: Any) -> npt.NDArray[np.float32]:
        rows: npt.NDArray[np.float32] = logits.float().cpu().numpy()
        if rows.shape[-1] > self._n_tokens:  # padded vocabularies: ids the tokenizer does not have
            rows[..., self._n_tokens :] = -np.inf
        return rows

    def beam_search(
        self,
        input_ids: Sequence[int],
        *,
        num_beams: int,
        max_new_tokens: int,
        generate_kwargs: dict[str, Any],
        stop: Sequence[str],
        seed: int | None,
    ) -> Generation:
        """Beam search (or beam sampling) with transformers' `generate()`.

        Args:
            input_ids: The prompt's ids.
            num_beams: The beam width (> 1).
            max_new_tokens: The token limit.
            generate_kwargs: More `generate()` arguments (`do_sample`, `temperature`, `repetition_penalty` …).
            stop: Stop strings.
            seed: Seeds torch's generator when sampling.

        Returns:
            The best beam, with each token's score as its logprob.
        """
        import torch

        if seed is not None:
            torch.manual_seed(seed)
        prompt = torch.tensor([list(input_ids)], device=self._device)
        extra: dict[str, Any] = {"stop_strings": list(stop), "tokenizer": self.tokenizer} if stop else {}
        with torch.inference_mode():
            out = self._model.generate(
                input_ids=prompt,
                attention_mask=torch.ones_like(prompt),
                num_beams=num_beams,
                max_new_tokens=max_new_tokens,
                return_dict_in_generate=True,
                output_scores=True,
                **generate_kwargs,
                **extra,
            )
            scores = self._model.compute_transition_scores(out.sequences, out.scores, out.beam_indices)
        start = 1 if self.encoder_decoder else len(input_ids)
        new_ids = [int(i) for i in out.sequences[0, start:].tolist()]
        logprobs = [float(s) for s in scores[0].tolist()][: len(new_ids)]
        pad = self.tokenizer.pad_token_id
        while new_ids and new_ids[-1] == pad and pad not in self._ends:
            new_ids.pop()
        return self._generation(input_ids, new_ids, logprobs, stop, max_new_tokens, seed)

    def _generation(
        self,
        input_ids: Sequence[int],
        new_ids: list[int],
        logprobs: list[float],
        stop: Sequence[str],
        limit: int,
        seed: int | None,
    ) -> Generation:
        decoder = self.text_decoder(input_ids)
        tokens, text = [], ""
        for token_id, logprob in zip(new_ids, logprobs, strict=False):
            special = self.is_special(token_id)
            piece = self._piece(token_id).decode("utf-8", "replace") if special else decoder.feed(token_id)
            text += "" if special else piece
            tokens.append(Token(token_id, piece, logprob, special))
        text += decoder.flush()
        reason: FinishReason = "length"
        if new_ids and self.is_end(new_ids[-1]):
            reason = "eos_token"
        elif any(s and s in text for s in stop):
            reason = "stop_sequence"
        return Generation(text, reason, tokens, [[] for _ in tokens], [], seed, len(input_ids))

    @property
    def encoder_decoder(self) -> bool:
        """Whether the prompt is encoded rather than continued."""
        raise NotImplementedError

    def text_decoder(self, prompt_ids: Sequence[int]) -> TokenizerDecoder:
        """A decoder for one generation.

        Args:
            prompt_ids: The prompt (a causal LM's last tokens give the first new token its context).

        Returns:
            The decoder.
        """
        context = [] if self.encoder_decoder else list(prompt_ids[-_CONTEXT_TOKENS:])
        return TokenizerDecoder(self.tokenizer, context, self._tokenizer_lock)


class CausalModel(_TransformersModel):
    """A decoder-only `TextModel` (`AutoModelForCausalLM`)."""

    def __init__(self, parts: LoadedParts, *, n_ctx: int) -> None:
        """Wrap loaded parts.

        Args:
            parts: The model and tokenizer.
            n_ctx: The context size (the model's `max_total_tokens`).
        """
        super().__init__(parts, n_ctx=n_ctx)

    @property
    def encoder_decoder(self) -> bool:
        """False: the prompt is continued."""
        return False

    def prefill(self, ids: Sequence[int], *, all_logits: bool) -> npt.NDArray[np.float32]:
        """Evaluate a prompt from an empty cache.

        Args:
            ids: The prompt's ids.
            all_logits: Return every position's logits, not only the last.

        Returns:
            An array of shape (len(ids), n_vocab) or (1, n_vocab).
        """
        import torch

        self._cache = None
        prompt = torch.tensor([list(ids)], device=self._device)
        out = self._forward(input_ids=prompt, **({} if all_logits else self._keep_last))
        return self._numpy(out.logits[0] if all_logits else out.logits[0, -1:])

    def step(self, token: int) -> npt.NDArray[np.float32]:
        """Append one token.

        Args:
            token: The id just generated.

        Returns:
            The logits of the next position.
        """
        import torch

        out = self._forward(input_ids=torch.tensor([[token]], device=self._device))
        return self._numpy(out.logits[0, -1])


class Seq2SeqModel(_TransformersModel):
    """An encoder-decoder `TextModel` (`AutoModelForSeq2SeqLM`): the prompt is encoded once, the answer decoded."""

    def __init__(self, parts: LoadedParts, *, n_ctx: int) -> None:
        """Wrap loaded parts.

        Args:
            parts: The model and tokenizer.
            n_ctx: The longest prompt plus answer.
        """
        super().__init__(parts, n_ctx=n_ctx)
        config = self._model.config
        start = self._model.generation_config.decoder_start_token_id
        start = config.decoder_start_token_id if start is None else start
        self._start = int(start if start is not None else self.tokenizer.pad_token_id)
        self._encoded: Any = None

    @property
    def encoder_decoder(self) -> bool:
        """True: the prompt is encoded."""
        return True

    def prefill(self, ids: Sequence[int], *, all_logits: bool) -> npt.NDArray[np.float32]:
        """Encode the prompt and evaluate the decoder start token.

        Args:
            ids: The prompt's ids.
            all_logits: Ignored: prompt tokens of an encoder-decoder have no logits.

        Returns:
            The first answer position's logits, shape (1, n_vocab).
        """
        import torch

        prompt = torch.tensor([list(ids)], device=self._device)
        with torch.inference_mode():
            self._encoded = self._model.get_encoder()(input_ids=prompt)
        self._cache = None
        return self._decode(self._start)[None, :]

    def step(self, token: int) -> npt.NDArray[np.float32]:
        """Append one answer token.

        Args:
            token: The id just generated.

        Returns:
            The logits of the next position.
        """
        return self._decode(token)

    def _decode(self, token: int) -> npt.NDArray[np.float32]:
        import torch

        out = self._forward(
            encoder_outputs=self._encoded, decoder_input_ids=torch.tensor([[token]], device=self._device)
        )
        return self._numpy(out.logits[0, -1])


def load_model(path: Path, *, seq2seq: bool, n_ctx: int, model_kwargs: dict[str, Any], device: str) -> Any:
    """Load a transformers `TextModel`.

    Args:
        path: A model folder or .gguf file.
        seq2seq: An encoder-decoder model.
        n_ctx: The context size.
        model_kwargs: More `from_pretrained` arguments.
        device: The torch device.

    Returns:
        A `CausalModel` or `Seq2SeqModel`.
    """
    parts = load_parts(path, seq2seq=seq2seq, model_kwargs=model_kwargs, device=device)
    return (Seq2SeqModel if seq2seq else CausalModel)(parts, n_ctx=n_ctx)


def _is_byte_level(tokenizer: Any) -> bool:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    decoder = getattr(backend, "decoder", None) if backend is not None else None
    return type(decoder).__name__ == "ByteLevel"


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-to-unicode table, inverted: each printable stand-in character to its byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}

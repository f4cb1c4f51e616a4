"""Loading a generation model on its engine, with errors that name the model (the server then does not start)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from easyllm.errors import EasyLLMError
from easyllm.serve.config import ModelConfig

# Generation-config settings the token loop does not apply (transformers would); a model that sets one is noted.
_NOT_APPLIED = {
    "no_repeat_ngram_size": 0, "encoder_no_repeat_ngram_size": 0, "min_length": 0, "min_new_tokens": None,
    "forced_bos_token_id": None, "forced_eos_token_id": None, "bad_words_ids": None, "suppress_tokens": None,
    "begin_suppress_tokens": None,
}  # fmt: skip


class ModelLoadError(EasyLLMError):
    """A model could not be loaded; the message names it."""


def load_generation_model(config: ModelConfig, path: Path) -> tuple[ModelConfig, Any]:
    """Load a generation or seq2seq model on the engine its config names.

    A transformers model whose position embeddings are shorter than the default `max_total_tokens` gets its own
    limit (a configured value above it is an error).

    Args:
        config: The model's config.
        path: The located file or folder.

    Returns:
        The config (with the settled `max_total_tokens`) and the `TextModel`.

    Raises:
        ModelLoadError: The engine could not load it, or the configured context does not fit.
    """
    if config.engine_name == "llama.cpp":
        from easyllm.serve.engines.llama import LlamaCppModel

        return config, LlamaCppModel(path, n_ctx=config.max_total_tokens, n_threads=config.threads)
    from easyllm.serve.engines.transformers_lm import CausalModel, Seq2SeqModel, load_parts, set_threads

    set_threads(config.threads)
    seq2seq = config.task == "seq2seq"
    try:
        parts = load_parts(path, seq2seq=seq2seq, model_kwargs=config.model_kwargs, device=config.device)
    except Exception as err:  # transformers raises many kinds; each is a failed start
        raise ModelLoadError(
            f"model {config.name!r}: transformers could not load {path}: {type(err).__name__}: {err}"
        ) from err
    kind = Seq2SeqModel if seq2seq else CausalModel
    model = kind(parts, n_ctx=config.max_total_tokens)
    limit = model.max_positions
    if limit is not None and config.max_total_tokens > limit:
        if "max_total_tokens" in config.model_fields_set:
            raise ModelLoadError(
                f"model {config.name!r}: max_total_tokens {config.max_total_tokens} exceeds the model's "
                f"{limit} positions"
            )
        config = config.model_copy(update={"max_total_tokens": limit})
        model = kind(parts, n_ctx=limit)
    _note_unapplied(config, model.generation_config)
    return config, model


def _note_unapplied(config: ModelConfig, generation_config: Any) -> None:
    found = [
        f"{key}={getattr(generation_config, key)!r}"
        for key, default in _NOT_APPLIED.items()
        if getattr(generation_config, key, default) not in (default, None)
    ]
    if found:
        print(
            f"easyllm serve: note: model {config.name!r}: its generation config sets {', '.join(found)}, which the "
            "server's token loop does not apply",
            file=sys.stderr,
            flush=True,
        )

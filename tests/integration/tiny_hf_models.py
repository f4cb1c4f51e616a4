"""Tiny real transformers models, built at test time (no download): GPT-2-, Phi- and T5-style.

Each has a tokenizer trained with `tokenizers` on a small text (byte-level BPE for the causal models, a
SentencePiece-style Unigram for T5) and a model with two small layers, saved with `save_pretrained`. The weights are
random (seeded), so the text is gibberish, but every step is the real thing: tokenizer files, configs, torch
forward passes, key/value caches.

The causal models can never choose their end token (GPT-2: the final layer norm's bias and the untied output row of
EOS make its logit a fixed large negative number; Phi: the output bias of EOS), so token counts are exact. The Phi
model's tokenizer has a chat template; the others have none.
"""

from __future__ import annotations

from pathlib import Path

TEXT = """\
Once upon a time there was a little robot who lived in a small house by the sea.
The robot liked to read books about the stars, the moon and the sun.
Hello, how are you? I am fine, thank you. The weather is nice today.
translate English to German: Hello, how are you? Hallo, wie geht es dir?
translate English to German: The house is small. Das Haus ist klein.
translate English to German: I like books. Ich mag Bücher.
Write a short story about a robot: the robot walked to the sea and looked at the stars.
Numbers: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10. Colours: red, green, blue, yellow.
"""

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _bpe_tokenizer(specials: list[str]) -> object:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(TEXT.splitlines() * 4, trainer)
    return tokenizer


def build_gpt2(folder: Path) -> Path:
    """A GPT-2-style causal LM (byte-level BPE, learned positions, 128 of them).

    Args:
        folder: Where to save it.

    Returns:
        The folder.
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    raw = _bpe_tokenizer(["<|endoftext|>"])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>"
    )
    eos = tokenizer.eos_token_id
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=128, n_embd=32, n_layer=2, n_head=2, bos_token_id=eos,
        eos_token_id=eos, tie_word_embeddings=False,
    )  # fmt: skip
    model = GPT2LMHeadModel(config)
    with torch.no_grad():
        model.transformer.ln_f.bias.fill_(3.0)  # every final hidden state sums to 3 * 32 (layer norm centres it)
        model.lm_head.weight[eos] = -1.0  # so the EOS logit is always -96
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_phi(folder: Path) -> Path:
    """A Phi-style causal LM (partial rotary positions, output bias) with a chat template.

    Args:
        folder: Where to save it.

    Returns:
        The folder.
    """
    import torch
    from transformers import PhiConfig, PhiForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>"]
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_bpe_tokenizer(specials), bos_token="<|endoftext|>", eos_token="<|endoftext|>",
        unk_token="<|endoftext|>", additional_special_tokens=specials[1:],
    )  # fmt: skip
    tokenizer.chat_template = CHAT_TEMPLATE
    eos = tokenizer.eos_token_id
    torch.manual_seed(0)
    config = PhiConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=256, bos_token_id=eos, eos_token_id=eos,
    )  # fmt: skip
    model = PhiForCausalLM(config)
    with torch.no_grad():
        model.lm_head.bias[eos] = -1e4
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_t5(folder: Path) -> Path:
    """A T5-style encoder-decoder (SentencePiece-style Unigram tokenizer that appends `</s>`, relative positions).

    The seed is the first whose greedy answers to two probe texts start with 8 plain tokens, so answers have text.

    Args:
        folder: Where to save it.

    Returns:
        The folder.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    raw = Tokenizer(models.Unigram())
    raw.normalizer = normalizers.NFKC()
    raw.pre_tokenizer = pre_tokenizers.Metaspace()
    raw.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=300, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>")
    raw.train_from_iterator(TEXT.splitlines() * 4, trainer)
    raw.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    probes = [tokenizer(t, return_tensors="pt").input_ids for t in ("Once upon a time", "Hello, how are you?")]
    for seed in range(50):
        torch.manual_seed(seed)
        config = T5Config(
            vocab_size=len(tokenizer), d_model=32, d_ff=64, d_kv=16, num_layers=2, num_decoder_layers=2,
            num_heads=2, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
        )  # fmt: skip
        model = T5ForConditionalGeneration(config)
        with torch.no_grad():  # a tied tiny T5 repeats its decoder start token (pad) forever: untie the output
            model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.lm_head.weight))
        model.config.tie_word_embeddings = False
        answers = [model.generate(ids, max_new_tokens=8, do_sample=False)[0].tolist() for ids in probes]
        if all(not {0, 1, 2} & set(answer[1:]) for answer in answers):  # no pad, end or unknown token
            break
    else:
        raise AssertionError("no seed gave the tiny T5 model plain answers")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_byte_t5(folder: Path) -> Path:
    """A T5-style encoder-decoder with a byte-level BPE tokenizer: it can spell any text (JSON included).

    Random weights, no seed search: its answers are gibberish unless something holds them (a JSON schema).

    Args:
        folder: Where to save it.

    Returns:
        The folder.
    """
    import torch
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_bpe_tokenizer(["<pad>", "</s>", "<unk>"]), pad_token="<pad>", eos_token="</s>",
        unk_token="<unk>",
    )  # fmt: skip
    torch.manual_seed(0)
    config = T5Config(
        vocab_size=len(tokenizer), d_model=32, d_ff=64, d_kv=16, num_layers=2, num_decoder_layers=2, num_heads=2,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, tie_word_embeddings=False,
    )  # fmt: skip
    T5ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder

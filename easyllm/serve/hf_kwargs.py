"""transformers' generation keyword arguments, as a config's `hf_generation_kwargs` and a request's `generation_params`.

Only the keys the server honours are accepted; any other key is refused with its name (in a config, with its line),
so nothing a user asked for is silently dropped. The meanings are transformers' `generate()`:

| key | meaning |
|---|---|
| `max_length` | the longest output in tokens (a causal LM's prompt counts; a seq2seq model's start token does) |
| `max_new_tokens` | tokens to generate (wins over `max_length` given in the same place) |
| `do_sample` | draw tokens instead of greedy decoding (transformers' default: false) |
| `temperature` | softmax temperature when sampling; `0` means greedy |
| `top_k`, `top_p`, `typical_p` | sampling filters (transformers' defaults: 50, 1.0, 1.0) |
| `repetition_penalty` | CTRL-style penalty on tokens already present (1.0 = off) |
| `num_beams` | beam search width (1 = no beam search) |
| `stop_strings` | strings that end generation (kept in the output, as transformers does) |
| `seed` | an easyllm extension: the seed of this request's draws |
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class HFGenerationKwargs(BaseModel):
    """The transformers generation arguments the server honours; unset fields fall back to the layer below."""

    model_config = ConfigDict(extra="forbid")

    max_length: int | None = Field(None, gt=0, description="Longest output; the prompt counts for causal LMs.")
    max_new_tokens: int | None = Field(None, gt=0, description="Tokens to generate.")
    do_sample: bool | None = Field(None, description="Sample instead of greedy decoding.")
    temperature: float | None = Field(None, ge=0, description="Softmax temperature; 0 means greedy.")
    top_k: int | None = Field(None, ge=0, description="Keep the k most likely tokens (0 = all).")
    top_p: float | None = Field(None, gt=0, le=1, description="Nucleus sampling mass (1 = off).")
    typical_p: float | None = Field(None, gt=0, le=1, description="Typical sampling mass (1 = off).")
    repetition_penalty: float | None = Field(None, gt=0, description="CTRL-style repetition penalty (1 = off).")
    num_beams: int | None = Field(None, ge=1, description="Beam search width.")
    stop_strings: list[str] | None = Field(None, description="Strings that end generation.")
    seed: int | None = Field(None, ge=0, lt=2**63, description="Seed of the request's random draws.")

    @field_validator("stop_strings", mode="before")
    @classmethod
    def _one_string(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def over(self, base: HFGenerationKwargs) -> HFGenerationKwargs:
        """Layer these arguments over `base`: a field set here wins; the length pair moves as one.

        `max_length` and `max_new_tokens` are two ways to give one limit, so a layer that sets either replaces
        both of the layer below (a request's `max_length` beats a config's `max_new_tokens`).

        Args:
            base: The lower layer (config defaults over the model's own generation config).

        Returns:
            The merged arguments.
        """
        merged = base.model_dump(exclude_none=True)
        mine = self.model_dump(exclude_none=True)
        if "max_length" in mine or "max_new_tokens" in mine:
            merged.pop("max_length", None)
            merged.pop("max_new_tokens", None)
        return HFGenerationKwargs.model_validate({**merged, **mine})


SUPPORTED_KEYS = tuple(HFGenerationKwargs.model_fields)

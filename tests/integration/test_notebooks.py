"""The notebooks in notebooks/ run top to bottom against the local server, and are committed without outputs.

Each notebook reads the server's URL from `HUGGINGFACE_API_BASE`, which the kernel inherits from this process.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = {
    "chat-completion",
    "embeddings-retrieval",
    "get-embeddings",
    "migrate-from-openai",
    "responses",
    "stream-chat-completions",
    "structured-output-and-tools",
    "text-completion",
}
CELL_TIMEOUT = 300  # seconds; the slowest cell embeds 300 texts on a CPU


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_the_notebooks_are_all_there() -> None:
    assert {path.stem for path in NOTEBOOKS} == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [i for i, cell in enumerate(_code_cells(notebook)) if cell.outputs or cell.execution_count is not None]
    assert not dirty, f"{path.name}: code cells {dirty} have outputs; clear them before committing"


@pytest.mark.integration
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(
    path: Path, serve_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HUGGINGFACE_API_BASE", serve_url)
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core warns about its old paths otherwise
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails
    cells = _code_cells(notebook)
    assert all(cell.execution_count is not None for cell in cells)
    printed = "".join(out.get("text", "") for cell in cells for out in cell.outputs if out.output_type == "stream")
    assert serve_url in printed, "the notebook did not use the server given in HUGGINGFACE_API_BASE"

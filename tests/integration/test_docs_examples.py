"""Every ```python block in README.md and docs/ runs against the local server.

The blocks of one page run in order, in one namespace, in a fresh Python process (examples may register prompt
formats or turn on logging; none of that leaks into other tests), with `HUGGINGFACE_API_BASE` set to the test
server and `http://127.0.0.1:8080` (the server's default address, which the examples show) replaced by its URL.
Warnings are errors there too.

A Python block that cannot run here is preceded by `<!-- no-run: reason -->`. The reason is required, and the
number of such blocks is capped: the skip list stays tiny and every entry says why.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
EXAMPLE_BASE = "http://127.0.0.1:8080"
MAX_SKIPPED = 5

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,})(?P<info>[^`]*)$")
_NO_RUN = re.compile(r"^\s*<!--\s*no-run:(?P<reason>.*?)-->\s*$")
_PYTHON_LANGS = {"python", "py", "python3", "pycon"}


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    path: Path
    line: int  # 1-based line of the first code line
    info: str  # the fence's info string, e.g. `python` or `py title="x"`
    code: str
    no_run: str | None  # the reason given by a `<!-- no-run: ... -->` marker, "" when the marker has none

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""

    @property
    def runs(self) -> bool:
        return self.info.strip() == "python" and self.no_run is None

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _previous_text_line(lines: list[str], index: int) -> str:
    for j in range(index - 1, -1, -1):
        if lines[j].strip():
            return lines[j]
    return ""


def extract_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, with indentation (tabs, admonitions) removed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opened = _FENCE_OPEN.match(lines[i])
        if not opened:
            i += 1
            continue
        indent, ticks = opened["indent"], opened["ticks"]
        close = re.compile(rf"^{re.escape(indent)}`{{{len(ticks)},}}\s*$")
        end = next((j for j in range(i + 1, len(lines)) if close.match(lines[j])), len(lines))
        body = textwrap.dedent("\n".join(lines[i + 1 : end]))
        marker = _NO_RUN.match(_previous_text_line(lines, i))
        reason = marker["reason"].strip() if marker else None
        blocks.append(Block(path, i + 2, opened["info"].strip(), body + "\n", reason))
        i = end + 1
    return blocks


def python_blocks(path: Path) -> list[Block]:
    return [b for b in extract_blocks(path) if b.language in _PYTHON_LANGS]


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


RUNNABLE = [p for p in PAGES if any(b.runs for b in python_blocks(p))]


def test_the_extractor_finds_indented_blocks_and_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        '# t\n\n```python\na = 1\n```\n\n=== "tab"\n\n    ```python\n    b = a + 1\n    ```\n\n'
        "<!-- no-run: needs a hosted endpoint -->\n```python\nc = 3\n```\n\n```bash\nls\n```\n"
        "````markdown\n```python\nnot_a_block = 1\n```\n````\n",
        encoding="utf-8",
    )
    blocks = extract_blocks(page)
    assert [(b.info, b.code, b.line, b.no_run) for b in blocks] == [
        ("python", "a = 1\n", 4, None),
        ("python", "b = a + 1\n", 10, None),
        ("python", "c = 3\n", 15, "needs a hosted endpoint"),
        ("bash", "ls\n", 19, None),
        ("markdown", "```python\nnot_a_block = 1\n```\n", 22, None),
    ]
    assert [b.runs for b in blocks] == [True, True, False, False, False]


def test_every_python_block_runs_or_says_why() -> None:
    skipped = [b for page in PAGES for b in python_blocks(page) if not b.runs]
    unexplained = [b.where() for b in skipped if not b.no_run]
    assert not unexplained, f"python blocks that neither run nor give a `<!-- no-run: reason -->`: {unexplained}"
    assert len(skipped) <= MAX_SKIPPED, f"the no-run list grew: {[b.where() for b in skipped]}"
    assert RUNNABLE, "no runnable examples found"


# Runs in the child process: exec each block (JSON on stdin) with its page and line numbers for tracebacks.
_RUNNER = """
import json, sys
namespace = {"__name__": "__main__"}
for block in json.load(sys.stdin):
    source = "\\n" * (block["line"] - 1) + block["code"]
    exec(compile(source, block["path"], "exec"), namespace)
"""


@pytest.mark.integration
@pytest.mark.parametrize("page", RUNNABLE, ids=_page_id)
def test_page_examples_run_against_the_local_server(page: Path, serve_url: str) -> None:
    blocks = [
        {"path": str(b.path), "line": b.line, "code": b.code.replace(EXAMPLE_BASE, serve_url)}
        for b in python_blocks(page)
        if b.runs
    ]
    env = {**os.environ, "HUGGINGFACE_API_BASE": serve_url, "HF_HUB_OFFLINE": "1"}
    for name in ("HUGGINGFACE_PROMPT", "HUGGINGFACE_TOKEN", "HF_TOKEN", "EASYLLM_LOG"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", _RUNNER],
        input=json.dumps(blocks),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, f"{_page_id(page)} failed:\n{done.stderr}"
    assert done.stdout.strip(), "the examples printed nothing"

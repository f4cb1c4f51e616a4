"""`make demo` runs `easyllm.demo`: its steps against the session's server (the server start/stop is tested
by the serve tests)."""

from __future__ import annotations

import re

import pytest

from easyllm import demo

pytestmark = pytest.mark.integration


def test_demo_streams_an_answer_and_ranks_sentences(serve_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    demo.run(serve_url)
    out = capsys.readouterr().out
    answer = out.split("?\n\n", 1)[1].split("\n\n(", 1)[0]
    assert "Paris" in answer
    assert "Embedded 3 sentences into 384 dimensions" in out
    near, far = (float(x) for x in re.findall(r"similarity\(1, \d\) = (-?[\d.]+)", out))
    assert near > far + 0.3

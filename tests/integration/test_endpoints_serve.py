"""Several endpoints for real: two `easyllm serve` processes, one stopped while 200 concurrent calls run.

Every call must be answered exactly once (counted by the client per response and by the surviving server's
`/metrics`), none lost, and the stopped server's share must move to the other.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

import easyllm
from easyllm.serve.testing import running_server

pytestmark = pytest.mark.integration

CONFIG = "- {name: minilm, model: demo:all-minilm-l6-v2, task: embedding}\n"
CALLS = 200
STOP_AFTER = 40
# One torch thread per server: two servers and the test share the machine's cores, and torch's default thread
# pool makes each small request wait for every other thread (ten times slower on a busy 2-core machine).
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pool") / "minilm.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def survivor(config: Path) -> Iterator[str]:
    with running_server(config, env=ENV) as base_url:
        yield base_url


def embedded(metrics: str) -> float:
    """The server's count of embedding requests it answered (`te_embed_success`)."""
    for line in metrics.splitlines():
        if line.startswith("te_embed_success"):
            return float(line.split()[-1])
    return 0.0


class Answers:
    """What the client saw: each 200 answer by the port that sent it, and how many calls finished."""

    def __init__(self, stop_after: int) -> None:
        self.ok: Counter[int] = Counter()
        self.ok_after_stop: Counter[int] = Counter()
        self.finished = 0
        self.stopped = False
        self.reached = threading.Event()
        self.stop_after = stop_after
        self.lock = threading.Lock()

    def response(self, response: httpx.Response) -> None:
        if response.status_code == 200 and response.request.url.path.endswith("/embeddings"):
            port = response.request.url.port or 0
            with self.lock:
                self.ok[port] += 1
                if self.stopped:
                    self.ok_after_stop[port] += 1

    def done(self) -> None:
        with self.lock:
            self.finished += 1
            if self.finished == self.stop_after:
                self.reached.set()


def texts() -> list[str]:
    return [f"sentence number {i} about a quiet harbour" for i in range(CALLS)]


@pytest.mark.parametrize("shell", ["sync", "async"])
def test_two_servers_one_stopped_midway_every_call_answered_once(survivor: str, config: Path, shell: str) -> None:
    with httpx.Client(timeout=60) as http:
        before = embedded(http.get(f"{survivor}/metrics").text)
    doomed: AbstractContextManager[str] = running_server(config, env=ENV)
    other = doomed.__enter__()
    try:
        pool = easyllm.EndpointPool([f"{survivor}/v1", f"{other}/v1"], cooldown=120)
        answers = Answers(STOP_AFTER)

        def stop_other() -> None:
            answers.reached.wait(120)
            with answers.lock:
                answers.stopped = True
            doomed.__exit__(None, None, None)  # SIGTERM, then wait for the process to end

        results = _run_sync(pool, answers, stop_other) if shell == "sync" else _run_async(pool, answers, stop_other)
    finally:
        doomed.__exit__(None, None, None)

    sent = texts()
    assert len(results) == CALLS  # none lost
    with httpx.Client(timeout=60) as http:
        reference = http.post(f"{survivor}/v1/embeddings", json={"input": sent[:3]}).json()["data"]
        survivor_count = embedded(http.get(f"{survivor}/metrics").text)
    for result, expected in zip(results[:3], reference, strict=True):  # the same model behind both: same vectors
        assert result.data[0].embedding == pytest.approx(expected["embedding"], abs=1e-5)
    survivor_port, other_port = httpx.URL(survivor).port, httpx.URL(other).port
    assert answers.ok[survivor_port] + answers.ok[other_port] == CALLS  # each call answered exactly once
    assert answers.ok[other_port] < CALLS and answers.ok_after_stop[survivor_port] > 0  # its share moved
    assert survivor_count - before == answers.ok[survivor_port] + 1  # the server counted the same (+1: the reference)
    assert pool.healthy() == [f"{survivor}/v1"]


def _run_sync(pool: easyllm.EndpointPool, answers: Answers, stop_other: Any) -> list[Any]:
    http = httpx.Client(event_hooks={"response": [answers.response]})
    stopper = threading.Thread(target=stop_other)
    stopper.start()
    with easyllm.HuggingFace(base_url=pool, http_client=http, timeout=120) as hf, ThreadPoolExecutor(16) as workers:

        def one(text: str) -> Any:
            try:
                return hf.embeddings.create(input=[text])
            finally:
                answers.done()

        results = list(workers.map(one, texts()))
    stopper.join(60)
    http.close()
    return results


def _run_async(pool: easyllm.EndpointPool, answers: Answers, stop_other: Any) -> list[Any]:
    async def hook(response: httpx.Response) -> None:
        answers.response(response)

    async def main() -> list[Any]:
        async with httpx.AsyncClient(event_hooks={"response": [hook]}) as http:
            hf = easyllm.AsyncHuggingFace(base_url=pool, http_client=http, timeout=120)

            async def one(text: str) -> Any:
                try:
                    return await hf.embeddings.create(input=[text])
                finally:
                    answers.done()

            stopper = asyncio.create_task(asyncio.to_thread(stop_other))
            results = await asyncio.gather(*(one(text) for text in texts()))  # all 200 at once
            await stopper
            return list(results)

    return asyncio.run(main())

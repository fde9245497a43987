"""Big files through the real watcher and worker, with the worker's peak memory measured.

Peak RSS is each process's VmHWM, reset (clear_refs) just before the file is dropped, so the
figure is what this file cost, whatever earlier tests did; it is printed (pytest -s).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from search.api import create_app
from tests.support.files import big_text, marker, story
from tests.support.procs import peaks, reset_peaks
from tests.support.waiting import wait_terminal
from tests.worker.conftest import Stack, StartStack

pytestmark = pytest.mark.integration

MB = 1 << 20
# A worker of their own with room for a big file: the suite's 25 s task limit is for
# articles, and a 30 MB file takes 8 s on a quiet machine, over 22 s on a loaded one.
ROOMY = {"DROPSIFT_TASK_TIME_LIMIT": "240", "DROPSIFT_VISIBILITY_TIMEOUT": "900"}


def _write(folder: Path, name: str, blocks: list[bytes], repeat: int = 1) -> Path:
    """Write block after block under a temporary name, then rename into place."""
    temp = folder / f".{name}.part"
    with open(temp, "wb") as out:
        for _ in range(repeat):
            for block in blocks:
                out.write(block)
    final = folder / name
    temp.rename(final)
    return final


@pytest.fixture
def write_big() -> Iterator[Callable[..., Path]]:
    """_write, and the files it wrote removed after the test (they are big)."""
    written: list[Path] = []

    def write(folder: Path, name: str, blocks: list[bytes], repeat: int = 1) -> Path:
        written.append(_write(folder, name, blocks, repeat))
        return written[-1]

    yield write
    for path in written:
        path.unlink(missing_ok=True)


def _warm_up(stack: Stack) -> None:
    """Put stories through the pool child(ren), so loading the models is not counted."""
    paths = [stack.inbox / f"warm-{n}.txt" for n in range(4)]
    for n, path in enumerate(paths):
        path.write_text(story(200 + n))
    assert {e.state for e in wait_terminal(stack.ledger, paths).values()} == {"indexed"}


def _peak_growth_kib(stack: Stack, baseline: dict[int, int]) -> dict[int, int]:
    """Per worker process: peak RSS since the reset minus RSS at the reset, in KiB."""
    now = peaks(stack.worker_pid)
    # A pool child replaced meanwhile would start a new count: the figure would mean nothing.
    assert set(now) == set(baseline), "the worker's processes changed during the test"
    return {pid: now[pid] - baseline[pid] for pid in now}


def _report(what: str, size: int, growth: dict[int, int], baseline: dict[int, int]) -> None:
    worst = max(growth, key=lambda pid: growth[pid])
    print(
        f"\n{what}: {size / MB:.0f} MB file; worker peak RSS growth per process (KiB): "
        f"{sorted(growth.values())}; largest {growth[worst] / 1024:.1f} MB over "
        f"{baseline[worst] / 1024:.0f} MB at rest"
    )


def test_a_200_mb_file_is_quarantined_too_large_without_being_read(
    stack: Stack, write_big: Callable[..., Path]
) -> None:
    size = 200 * MB
    assert size > stack.settings.max_file_bytes  # the default limit (50 MB) applies
    block = big_text(MB)[:MB].encode()
    baseline = reset_peaks(stack.worker_pid)
    path = write_big(stack.inbox, "huge.txt", [block], repeat=200)

    entry = wait_terminal(stack.ledger, [path], timeout=120)[str(path)]

    assert (entry.state, entry.reason) == ("quarantined", "too_large")
    assert f"{size} bytes" in entry.last_error
    growth = _peak_growth_kib(stack, baseline)
    _report("too large", size, growth, baseline)
    assert max(growth.values()) * 1024 < size / 20  # far below the file: it was never read


def test_a_30_mb_file_is_indexed_with_bounded_memory(
    own_stack: StartStack, write_big: Callable[..., Path]
) -> None:
    stack = own_stack("big", env=ROOMY)
    text = f"Report {marker(30)} on a very long record\n\n{big_text(30 * MB, seed=30)}\n"
    size = len(text.encode())
    _warm_up(stack)
    baseline = reset_peaks(stack.worker_pid)
    path = write_big(stack.inbox, "long-record.txt", [text.encode()])

    entry = wait_terminal(stack.ledger, [path], timeout=180)[str(path)]

    assert entry.state == "indexed", entry
    growth = _peak_growth_kib(stack, baseline)
    _report("indexed", size, growth, baseline)
    # Linear in the file, never what a stage's appetite makes of it: about 19 times today,
    # half of it the Python set of shingles the near-duplicate claim takes (66 bytes each).
    assert max(growth.values()) * 1024 < 24 * size
    assert stack.searchable(30) == {entry.doc_id}


def test_one_5_mb_line_is_indexed_and_found_through_the_api(
    own_stack: StartStack, write_big: Callable[..., Path]
) -> None:
    stack = own_stack("big", env=ROOMY)
    text = f"{marker(31)} " + big_text(5 * MB, seed=31, paragraphs=False)
    assert "\n" not in text
    path = write_big(stack.inbox, "one-line.txt", [text.encode()])

    entry = wait_terminal(stack.ledger, [path], timeout=120)[str(path)]

    assert entry.state == "indexed", entry
    assert stack.searchable(31) == {entry.doc_id}
    with TestClient(create_app(stack.es, stack.settings.alias)) as client:
        response = client.get("/api/search", params={"q": marker(31)})
    assert response.status_code == 200, response.text
    assert [hit["id"] for hit in response.json()["hits"]] == [entry.doc_id]

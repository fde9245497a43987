"""The commands that need no running services: `dropsift clean` and `dropsift similarity`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from worker.settings import PROJECT_ROOT

SEED_000 = PROJECT_ROOT / "seeds" / "000_2fa40668a4e6c1c4.txt"
SEED_003 = PROJECT_ROOT / "seeds" / "003_0fcbdef7ffe9cfd8.txt"
# Nothing answers here: the commands must not need Redis or Elasticsearch.
OFFLINE = {
    **os.environ,
    "DROPSIFT_REDIS_URL": "redis://127.0.0.1:9/0",
    "DROPSIFT_ES_URL": "http://127.0.0.1:9",
}


def dropsift(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args],
        env=OFFLINE,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_clean_prints_fields_body_and_the_removal_record() -> None:
    result = dropsift("clean", str(SEED_003))
    assert result.returncode == 0, result.stderr[-2000:]
    shown = json.loads(result.stdout)
    assert shown["title"].startswith("Ukraine, Russia resume peace talks")
    assert shown["published"] == "2025-06-02T21:29:00"
    assert shown["section"] == "World"
    assert shown["cleaning"]["removed"]["junk_line"] == ["Clicky"]
    assert "Clicky" not in shown["body"]


def test_clean_of_a_bad_file_says_why_and_fails(tmp_path: Path) -> None:
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    result = dropsift("clean", str(binary))
    assert result.returncode == 1
    assert json.loads(result.stdout)["rejected"] == "binary"


def test_similarity_tells_near_copies_from_the_same_story(tmp_path: Path) -> None:
    near = tmp_path / "near.txt"
    near.write_text(SEED_003.read_text() + "\nUpdated with the mayor's statement.\n")
    copy = json.loads(dropsift("similarity", str(SEED_003), str(near)).stdout)
    assert copy["verdict"] == "near-duplicate" and copy["exact"] >= 0.8
    seeds = json.loads(dropsift("similarity", str(SEED_000), str(SEED_003)).stdout)
    assert seeds["exact"] < 0.05
    assert seeds["verdict"] == "same story" and seeds["shared_people"] >= 4
    same = json.loads(dropsift("similarity", str(SEED_003), str(SEED_003)).stdout)
    assert same["verdict"] == "duplicate"

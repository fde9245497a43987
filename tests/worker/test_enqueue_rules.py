"""Unit tests for which files the enqueuer considers: ignore rules and the directory walk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from worker.enqueue import is_ignored, walk

ROOT = Path("/inbox")


@pytest.mark.parametrize(
    "rel",
    [
        ".hidden.txt",
        ".DS_Store",
        ".git/config",
        "sub/.cache/story.txt",
        "a/b/.hidden.txt",
        "story.txt.part",
        "story.TMP",
        "download.crdownload",
        "notes.swp",
        "story.partial",
        "story.txt~",
    ],
)
def test_ignored_names(rel: str) -> None:
    assert is_ignored(ROOT / rel, ROOT)


@pytest.mark.parametrize(
    "rel",
    [
        "story.txt",
        "my story with spaces.txt",
        "Überschrift – café 記事.txt",
        "sub/dir/story.txt",
        "party.txt",
        "temporary notes.txt",
        "a.b.c.txt",
    ],
)
def test_normal_names_not_ignored(rel: str) -> None:
    assert not is_ignored(ROOT / rel, ROOT)


def test_dot_folder_above_root_does_not_count() -> None:
    root = Path("/home/user/.dropsift/inbox")
    assert not is_ignored(root / "story.txt", root)


def test_path_outside_root_checks_its_name() -> None:
    assert is_ignored(Path("/elsewhere/.hidden"), ROOT)
    assert not is_ignored(Path("/elsewhere/story.txt"), ROOT)


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("content")
    return path


def test_walk_tree(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    keep = [
        touch(root / "a.txt"),
        touch(root / "sub" / "b.txt"),
        touch(root / "sub" / "deeper" / "c d é.txt"),
    ]
    touch(root / ".hidden.txt")
    touch(root / ".secret" / "inside.txt")
    touch(root / "sub" / ".cache" / "x.txt")
    touch(root / "sub" / "partial.txt.part")
    touch(root / "upload.tmp")
    touch(root / "edit.txt~")
    outside = tmp_path / "outside"
    touch(outside / "linked.txt")
    os.symlink(outside, root / "link_dir", target_is_directory=True)

    found = walk(root)
    assert sorted(found) == sorted(keep)
    assert all(p.is_relative_to(root) for p in found)
    assert not any("linked.txt" in str(p) for p in found)


def test_walk_single_file(tmp_path: Path) -> None:
    path = touch(tmp_path / "one.txt")
    assert walk(path) == [path]


def test_walk_empty_dir(tmp_path: Path) -> None:
    assert walk(tmp_path) == []

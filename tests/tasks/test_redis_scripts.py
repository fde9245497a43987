"""The loader of the Redis scripts kept as .lua files beside their modules."""

from __future__ import annotations

from importlib.resources import files

import pytest

from tasks.redis_scripts import lua


def test_scripts_are_read_from_the_lua_folder_beside_the_module_in_order() -> None:
    folder = files("tasks") / "lua"
    common = (folder / "neardup_common.lua").read_text(encoding="utf-8")
    claim = (folder / "neardup_claim.lua").read_text(encoding="utf-8")

    script = lua("tasks.neardup", "common", "claim")

    assert script == f"{common}\n{claim}"
    assert "local P = ARGV[1]" in common and "split_record" in claim  # the files themselves


def test_a_module_in_a_subpackage_reads_its_own_folder() -> None:
    assert "BITFIELD" in lua("tasks.enrichers.keywords", "observe")
    assert "'PX'" in lua("worker.pipeline.ledger", "lease")


def test_an_unknown_script_is_an_error_not_an_empty_script() -> None:
    with pytest.raises(FileNotFoundError):
        lua("tasks.dedupe", "no_such_script")

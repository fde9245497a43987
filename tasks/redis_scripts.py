"""The Redis scripts: Lua files in a `lua/` folder beside the module that runs them."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def lua(module: str, *names: str) -> str:
    """The scripts of `module` (its `__name__`) called `names`, joined in order.

    `lua("tasks.neardup", "common", "claim")` reads tasks/lua/neardup_common.lua and then
    tasks/lua/neardup_claim.lua: a prelude first, shared by several scripts.
    """
    package, _, stem = module.rpartition(".")
    folder = files(package) / "lua"
    return "\n".join((folder / f"{stem}_{name}.lua").read_text(encoding="utf-8") for name in names)

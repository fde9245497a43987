"""A versioned concrete index behind an alias, created from an index template."""

from __future__ import annotations

import re

import structlog
from elasticsearch import ApiError, BadRequestError, Elasticsearch

from search.mapping import MAPPING_VERSION, MAPPINGS, SETTINGS

log = structlog.get_logger(__name__)

ANALYSIS_PLUGIN = "dropsift-analysis"
"""The plugin `dropsift stack up` installs into distributions without analysis-common."""


class MissingAnalysis(RuntimeError):
    """The cluster lacks the analysis filters the mapping names."""


def concrete_name(alias: str, version: int = MAPPING_VERSION) -> str:
    return f"{alias}-v{version}"


def alias_indices(es: Elasticsearch, alias: str) -> list[str]:
    """The concrete indices behind the alias (none before the first start)."""
    if not es.indices.exists_alias(name=alias):
        return []
    return sorted(es.indices.get_alias(name=alias))


def ensure_index(es: Elasticsearch, alias: str) -> str:
    """Make sure the template and an index behind the alias exist; returns that index.

    A fresh install creates the current version and points the alias at it. When an older
    version holds the alias it keeps it: it is what holds the documents, and `dropsift
    reindex` (run by `dropsift stack up`) copies them over before swapping the alias.
    """
    try:
        es.indices.put_index_template(
            name=alias,
            index_patterns=[f"{alias}-v*"],
            template={"settings": SETTINGS, "mappings": MAPPINGS},
            priority=100,
        )
    except BadRequestError as exc:
        raise MissingAnalysis(
            "Elasticsearch refused the index template, most likely for want of English "
            "analysis (`stemmer`, `asciifolding`): a full distribution has them from its "
            "analysis-common module, `dropsift stack up` installs them into the local one. "
            f"Elasticsearch said: {exc}"
        ) from exc
    current = alias_indices(es, alias)
    if current:
        if current != [concrete_name(alias)]:
            log.warning("reindex_needed", alias=alias, serving=current, wanted=concrete_name(alias))
        return current[0]
    index = concrete_name(alias)
    if not es.indices.exists(index=index):
        es.options(ignore_status=400).indices.create(index=index)  # 400: created meanwhile
    # Two processes starting at once may both get here: the second add is a no-op.
    es.indices.update_aliases(
        actions=[{"add": {"index": index, "alias": alias, "is_write_index": True}}]
    )
    return index


def needs_reindex(es: Elasticsearch, alias: str) -> bool:
    """Whether an older version holds the alias (its documents wait to be copied over)."""
    return alias_indices(es, alias) not in ([], [concrete_name(alias)])


def drop_all(es: Elasticsearch, alias: str) -> None:
    """Delete every versioned index and the template of this alias (tests, resets)."""
    # Wildcard deletes are refused (action.destructive_requires_name): name each index, and
    # only this alias's versions ("<alias>-v*" also matches "<alias>-vx-docs-v5").
    found = es.options(ignore_status=404).indices.get(index=f"{alias}-v*", allow_no_indices=True)
    names = [name for name in found if re.fullmatch(rf"{re.escape(alias)}-v\d+", name)]
    if names:
        es.indices.delete(index=",".join(names))
    es.options(ignore_status=404).indices.delete_index_template(name=alias)


def english_analysis(es: Elasticsearch) -> str | None:
    """Where the cluster's English filters come from, or None when it has none.

    Asked of the cluster before the index is made: `_analyze` with the mapping's filters,
    then the nodes' modules and plugins to say which provides them.
    """
    try:
        tokens = es.indices.analyze(
            tokenizer="standard",
            filter=["lowercase", {"type": "stemmer", "language": "english"}, "asciifolding"],
            text="Talks café",
        )["tokens"]
    except BadRequestError:
        return None
    if [t["token"] for t in tokens] != ["talk", "cafe"]:
        return None
    modules: set[str] = set()
    plugins: set[str] = set()
    try:
        nodes = es.nodes.info(metric="plugins")["nodes"]
    except ApiError:  # a user without the monitor privilege: the filters work, that is enough
        return "the cluster"
    for node in nodes.values():
        modules |= {m["name"] for m in node.get("modules", [])}
        plugins |= {p["name"] for p in node.get("plugins", [])}
    if "analysis-common" in modules:
        return "the analysis-common module"
    if ANALYSIS_PLUGIN in plugins:
        return f"the {ANALYSIS_PLUGIN} plugin"
    return "a plugin of the cluster's own"

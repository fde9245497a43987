"""A versioned concrete index behind an alias, created from an index template."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from search.mapping import MAPPING_VERSION, MAPPINGS, SETTINGS


def concrete_name(alias: str, version: int = MAPPING_VERSION) -> str:
    return f"{alias}-v{version}"


def ensure_index(es: Elasticsearch, alias: str) -> str:
    """Make sure the template, the current versioned index and the alias exist; idempotent."""
    es.indices.put_index_template(
        name=alias,
        index_patterns=[f"{alias}-v*"],
        template={"settings": SETTINGS, "mappings": MAPPINGS},
        priority=100,
    )
    index = concrete_name(alias)
    if not es.indices.exists(index=index):
        es.options(ignore_status=400).indices.create(index=index)  # 400: created meanwhile
    if not es.indices.exists_alias(name=alias, index=index):
        actions: list[dict[str, dict[str, object]]] = [
            {"add": {"index": index, "alias": alias, "is_write_index": True}}
        ]
        if es.indices.exists_alias(name=alias):
            # An older version holds the alias: swap atomically.
            for old in es.indices.get_alias(name=alias):
                if old != index:
                    actions.append({"remove": {"index": old, "alias": alias}})
        es.indices.update_aliases(actions=actions)
    return index


def drop_all(es: Elasticsearch, alias: str) -> None:
    """Delete every versioned index and the template of this alias (tests, resets)."""
    # Wildcard deletes are refused (action.destructive_requires_name): name each index.
    names = list(
        es.options(ignore_status=404).indices.get(index=f"{alias}-v*", allow_no_indices=True)
    )
    if names:
        es.indices.delete(index=",".join(names))
    es.options(ignore_status=404).indices.delete_index_template(name=alias)

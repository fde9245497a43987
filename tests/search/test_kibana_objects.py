"""The shipped Kibana saved objects, checked offline: shape, references, stamps and fields."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from search.events import EVENTS_MAPPINGS, drop_events, ensure_events_index, events_pattern
from search.kibana.objects import (
    DOCS_VIEW,
    EVENTS_VIEW,
    LOWEST_KIBANA,
    NDJSON,
    build,
    for_prefix,
    load,
    to_ndjson,
)
from search.mapping import MAPPINGS
from worker.settings import PROJECT_ROOT, Settings

# Types Kibana can aggregate and sort on (a `text` field it cannot).
AGGREGATABLE = {
    "keyword",
    "date",
    "boolean",
    "long",
    "integer",
    "short",
    "byte",
    "double",
    "float",
    "half_float",
    "scaled_float",
}
NUMERIC_OR_DATE = AGGREGATABLE - {"keyword", "boolean"}
KNOWN_TYPES = {"index-pattern", "search", "visualization", "dashboard"}
# What each aggregation needs of its field.
AGG_TYPES = {
    "terms": AGGREGATABLE,
    "date_histogram": {"date"},
    "cardinality": AGGREGATABLE,
    "max": NUMERIC_OR_DATE,
    "min": NUMERIC_OR_DATE,
    "avg": NUMERIC_OR_DATE - {"date"},
    "sum": NUMERIC_OR_DATE - {"date"},
}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Field name -> type, with sub-fields and object properties, as Kibana lists them."""
    fields: dict[str, str] = {}
    for name, spec in mapping.get("properties", {}).items():
        full = f"{prefix}{name}"
        if spec.get("enabled") is False:
            continue  # kept in _source only: Kibana cannot search or aggregate it
        if "properties" in spec:
            fields.update(flatten(spec, f"{full}."))
            continue
        fields[full] = spec["type"]
        for sub, sub_spec in spec.get("fields", {}).items():
            fields[f"{full}.{sub}"] = sub_spec["type"]
    return fields


def _kql_fields(query: str) -> list[str]:
    return re.findall(r"([A-Za-z_@][\w.]*)\s*:", query)


def field_uses(objects: list[dict[str, Any]]) -> Iterator[tuple[str, str, str, str]]:
    """(object id, data view id, field, how it is used) for every field an object names."""
    for obj in objects:
        attrs, kind = obj["attributes"], obj["type"]
        refs = {r["name"]: r["id"] for r in obj["references"]}
        if kind == "index-pattern":
            view = obj["id"]
            yield obj["id"], view, attrs["timeFieldName"], "time"
            for name in json.loads(attrs["fieldFormatMap"]):
                yield obj["id"], view, name, "format"
            for name in json.loads(attrs["fieldAttrs"]):
                yield obj["id"], view, name, "label"
            continue
        if kind == "dashboard":
            continue
        source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
        view = refs[source["indexRefName"]]
        for name in _kql_fields(source["query"]["query"]):
            yield obj["id"], view, name, "query"
        for f in source.get("filter", []):
            for name in f.get("query", {}).get("match_phrase", {}):
                yield obj["id"], view, name, "filter"
        if kind == "search":
            for name in attrs["columns"]:
                yield obj["id"], view, name, "column"
            for name, _direction in attrs["sort"]:
                yield obj["id"], view, name, "sort"
        if kind == "visualization":
            for agg in json.loads(attrs["visState"])["aggs"]:
                if "field" in agg["params"]:
                    yield obj["id"], view, agg["params"]["field"], agg["type"]


def check_fields(objects: list[dict[str, Any]], views: dict[str, dict[str, str]]) -> list[str]:
    """Every problem with a field an object uses, against each data view's index fields."""
    problems = []
    uses = list(field_uses(objects))
    assert uses, "no field found in any object"
    for obj_id, view, name, how in uses:
        fields = views[view]
        if name not in fields:
            problems.append(f"{obj_id}: {how} field {name!r} is not in the {view} mapping")
            continue
        kind = fields[name]
        if how in AGG_TYPES and kind not in AGG_TYPES[how]:
            problems.append(f"{obj_id}: {how} on {name!r} of type {kind}")
        if how in ("sort", "query", "filter") and kind not in AGGREGATABLE:
            problems.append(f"{obj_id}: {how} on {name!r} of type {kind} (not exact)")
        if how == "time" and kind != "date":
            problems.append(f"{obj_id}: time field {name!r} is a {kind}")
    return problems


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return NDJSON.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return load()


def test_every_line_parses_as_one_saved_object(lines: list[str]) -> None:
    assert len(lines) >= 10
    for number, line in enumerate(lines, 1):
        obj = json.loads(line)
        assert isinstance(obj, dict), f"line {number}"
        assert {"type", "id", "attributes", "references"} <= set(obj), f"line {number}"
        assert obj["type"] in KNOWN_TYPES, f"line {number}: {obj['type']}"
        assert obj["attributes"]["title"], f"line {number} has no title"


def test_the_shipped_file_is_what_the_definitions_build(objects: list[dict[str, Any]]) -> None:
    assert to_ndjson(build()) == NDJSON.read_text(encoding="utf-8"), (
        "dropsift.ndjson is stale: run python -m search.kibana.objects"
    )
    assert objects == build()


def test_ids_are_unique(objects: list[dict[str, Any]]) -> None:
    ids = [o["id"] for o in objects]
    assert len(ids) == len(set(ids))


def test_every_reference_resolves_within_the_file(objects: list[dict[str, Any]]) -> None:
    present = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        names = [r["name"] for r in obj["references"]]
        assert len(names) == len(set(names)), f"{obj['id']}: duplicate reference names"
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in present, f"{obj['id']} -> {ref}"
        if "kibanaSavedObjectMeta" in obj["attributes"]:
            source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
            if obj["type"] != "dashboard":
                assert source["indexRefName"] in names, obj["id"]
            assert "index" not in source, f"{obj['id']}: an inline index id bypasses references"


def test_dashboard_panels_match_their_references(objects: list[dict[str, Any]]) -> None:
    dashboards = [o for o in objects if o["type"] == "dashboard"]
    assert len(dashboards) == 1
    dashboard = dashboards[0]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    refs = {r["name"]: r for r in dashboard["references"]}
    expected = {f"{p['panelIndex']}:{p['panelRefName']}" for p in panels}
    assert expected == set(refs)
    for panel in panels:
        ref = refs[f"{panel['panelIndex']}:{panel['panelRefName']}"]
        assert panel["type"] == ref["type"]
        assert panel["gridData"]["i"] == panel["panelIndex"]
        grid = panel["gridData"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 48, panel
    shown = {r["id"] for r in dashboard["references"]}
    everything_else = {o["id"] for o in objects if o["type"] == "visualization"}
    assert everything_else <= shown, f"not on the dashboard: {everything_else - shown}"


def test_outcome_panels_show_the_last_week_and_documents_the_dashboards_years(
    objects: list[dict[str, Any]],
) -> None:
    by_id = {o["id"]: o for o in objects}
    dashboard = by_id["dropsift-overview"]
    assert dashboard["attributes"]["timeFrom"] == "now-5y"
    assert dashboard["attributes"]["timeRestore"] is True
    refs = {r["name"]: r["id"] for r in dashboard["references"]}
    kinds = set()
    for panel in json.loads(dashboard["attributes"]["panelsJSON"]):
        shown = by_id[refs[f"{panel['panelIndex']}:{panel['panelRefName']}"]]
        view = shown["references"][0]["id"]
        kinds.add(view)
        custom = panel["embeddableConfig"].get("timeRange")
        if view == EVENTS_VIEW:
            assert custom == {"from": "now-7d", "to": "now"}, shown["id"]
        else:
            assert custom is None, shown["id"]
    assert kinds == {DOCS_VIEW, EVENTS_VIEW}


def test_stamps_are_not_newer_than_the_lowest_supported_kibana(
    objects: list[dict[str, Any]],
) -> None:
    lowest = _version(LOWEST_KIBANA)
    assert lowest < (8, 6), "Lens-free objects are written for a Kibana before 8.6"
    for obj in objects:
        # typeMigrationVersion appeared in 8.8: a Kibana before it refuses the object.
        assert "typeMigrationVersion" not in obj, obj["id"]
        assert _version(obj["coreMigrationVersion"]) <= lowest, obj["id"]
        assert set(obj["migrationVersion"]) == {obj["type"]}, obj["id"]
        assert _version(obj["migrationVersion"][obj["type"]]) <= lowest, obj["id"]
        if obj["type"] == "dashboard":
            for panel in json.loads(obj["attributes"]["panelsJSON"]):
                assert _version(panel["version"]) <= lowest, panel
    # The dashboard migration 7.17.3 shipped after 8.0.0, which refuses a stamp it lacks.
    assert next(o for o in objects if o["type"] == "dashboard")["migrationVersion"] == {
        "dashboard": "7.14.0"
    }


def test_saved_searches_sort_by_time_newest_first(objects: list[dict[str, Any]]) -> None:
    times = {
        o["id"]: o["attributes"]["timeFieldName"] for o in objects if o["type"] == "index-pattern"
    }
    searches = [o for o in objects if o["type"] == "search"]
    assert len(searches) == 3
    for search in searches:
        view = search["references"][0]["id"]
        assert search["attributes"]["sort"] == [[times[view], "desc"]]
        assert search["attributes"]["columns"]


def test_data_views_have_the_time_fields_and_formats(objects: list[dict[str, Any]]) -> None:
    views = {o["id"]: o["attributes"] for o in objects if o["type"] == "index-pattern"}
    assert views[DOCS_VIEW]["title"] == Settings().alias
    assert views[DOCS_VIEW]["timeFieldName"] == "published"
    formats = json.loads(views[DOCS_VIEW]["fieldFormatMap"])
    assert formats["url"]["id"] == "url" and formats["url"]["params"]["type"] == "a"
    assert formats["body"]["id"] == "string"
    assert views[EVENTS_VIEW]["title"] == events_pattern(Settings().index_prefix)
    assert views[EVENTS_VIEW]["timeFieldName"] == "time"


def test_fields_exist_in_the_mappings_with_usable_types(objects: list[dict[str, Any]]) -> None:
    views = {DOCS_VIEW: flatten(MAPPINGS), EVENTS_VIEW: flatten(EVENTS_MAPPINGS)}
    assert check_fields(objects, views) == []


# Aggregation schemas each legacy visualization type offers.
VIS_SCHEMAS = {
    "histogram": {"metric", "segment", "group", "split"},
    "table": {"metric", "bucket", "split"},
    "tagcloud": {"metric", "segment"},
}


def test_visualizations_use_their_types_schemas_and_order_by_their_metrics(
    objects: list[dict[str, Any]],
) -> None:
    for obj in objects:
        if obj["type"] != "visualization":
            continue
        state = json.loads(obj["attributes"]["visState"])
        assert state["title"] == obj["attributes"]["title"]
        aggs = state["aggs"]
        assert {a["schema"] for a in aggs} <= VIS_SCHEMAS[state["type"]], obj["id"]
        metrics = {a["id"] for a in aggs if a["schema"] == "metric"}
        assert metrics, obj["id"]
        assert len({a["id"] for a in aggs}) == len(aggs), obj["id"]
        for agg in aggs:
            if agg["type"] == "terms":
                assert agg["params"]["orderBy"] in metrics, obj["id"]
        for series in state["params"].get("seriesParams", []):
            assert series["data"]["id"] in metrics, obj["id"]


def test_nothing_depends_on_sub_fields_of_the_documents(objects: list[dict[str, Any]]) -> None:
    # title.keyword, or the .exact sub-fields search adds, may change with the mapping.
    used = {name for _, view, name, _ in field_uses(objects) if view == DOCS_VIEW}
    assert not {name for name in used if "." in name}


def test_the_field_check_catches_a_text_field_in_a_chart(objects: list[dict[str, Any]]) -> None:
    broken = json.loads(json.dumps(objects))
    vis = next(o for o in broken if o["id"] == "dropsift-vis-sites")
    state = json.loads(vis["attributes"]["visState"])
    state["aggs"][1]["params"]["field"] = "body"
    vis["attributes"]["visState"] = json.dumps(state)
    search = next(o for o in broken if o["type"] == "search")
    search["attributes"]["columns"].append("no_such_field")
    views = {DOCS_VIEW: flatten(MAPPINGS), EVENTS_VIEW: flatten(EVENTS_MAPPINGS)}
    problems = check_fields(broken, views)
    assert any("terms on 'body' of type text" in p for p in problems), problems
    assert any("'no_such_field' is not in" in p for p in problems), problems


def test_another_prefix_renames_only_the_data_view_patterns(
    objects: list[dict[str, Any]],
) -> None:
    renamed = for_prefix(objects, "acme")
    titles = {o["id"]: o["attributes"]["title"] for o in renamed if o["type"] == "index-pattern"}
    assert titles == {DOCS_VIEW: "acme-docs", EVENTS_VIEW: "acme-events-*"}
    assert [o for o in renamed if o["type"] != "index-pattern"] == [
        o for o in objects if o["type"] != "index-pattern"
    ]
    assert objects == load(), "the shipped objects were changed in place"


def test_the_objects_ship_in_the_package() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["search"]
    shipped = NDJSON.relative_to(PROJECT_ROOT / "search")
    assert any(shipped.match(g) for g in globs), f"{shipped} is not in package-data {globs}"
    deps = pyproject["project"]["dependencies"]
    assert any(d.startswith("httpx==") for d in deps), "the install command needs httpx"


@pytest.mark.integration
def test_fields_exist_in_the_mappings_elasticsearch_returns(
    es: Elasticsearch, settings: Settings, objects: list[dict[str, Any]]
) -> None:
    # The `es` fixture created the documents' index through search.index.ensure_index.
    docs = next(iter(es.indices.get_mapping(index=settings.alias).values()))["mappings"]
    drop_events(es, settings.index_prefix)
    try:
        index = ensure_events_index(es, settings.index_prefix)
        events = es.indices.get_mapping(index=index)[index]["mappings"]
    finally:
        drop_events(es, settings.index_prefix)
    views = {DOCS_VIEW: flatten(docs), EVENTS_VIEW: flatten(events)}
    assert check_fields(objects, views) == []

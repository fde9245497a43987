"""dropsift's Kibana saved objects, written for Kibana 8.0.0 so every 8.x and 9.x imports them.

Kibana refuses an object stamped newer than the last migration it knows for the type, and
migrates older stamps forward on import. So each object carries `coreMigrationVersion` 8.0.0
and a `migrationVersion` that Kibana 8.0.0 knew (as its own sample data and exports carry
them), and no stamp a later Kibana introduced (`typeMigrationVersion`, 8.8). The charts are
legacy aggregation-based `visualization` objects, whose saved shape every version since
7.12 reads; Lens changed its saved shape in 8.6.

`python -m search.kibana.objects` rewrites dropsift.ndjson from these definitions; a test
keeps the two equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from search.events import events_pattern

LOWEST_KIBANA = "8.0.0"
CORE_MIGRATION_VERSION = "8.0.0"
# A migration version each type had in Kibana 8.0.0, never a newer one: 8.0.0 for the data
# view and visualizations (as an 8.0 export stamps them), the stamps of 8.0's own sample
# data for saved searches (7.9.3) and dashboards (7.14.0; 8.0.0 does not know the dashboard
# migration 7.17.3, released after it).
MIGRATION_VERSIONS: dict[str, str] = {
    "index-pattern": "8.0.0",
    "search": "7.9.3",
    "visualization": "8.0.0",
    "dashboard": "7.14.0",
}

NDJSON = Path(__file__).with_name("dropsift.ndjson")
DEFAULT_PREFIX = "dropsift"

DOCS_VIEW = "dropsift-docs"
EVENTS_VIEW = "dropsift-events"
DASHBOARD = "dropsift-overview"
SEARCH_LATEST = "dropsift-latest-documents"
SEARCH_CANONICAL = "dropsift-one-per-cluster"
SEARCH_QUARANTINED = "dropsift-quarantined-files"

# Data view id -> its index pattern for a prefix (what the install rewrites).
VIEW_PATTERNS: dict[str, Callable[[str], str]] = {
    DOCS_VIEW: lambda prefix: f"{prefix}-docs",  # the alias, as Settings.alias names it
    EVENTS_VIEW: events_pattern,
}

_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
_DOC_COLUMNS = ["title", "site", "language", "people"]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _saved_object(
    type_: str, id_: str, attributes: dict[str, Any], references: list[dict[str, str]]
) -> dict[str, Any]:
    return {
        "attributes": attributes,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "id": id_,
        "migrationVersion": {type_: MIGRATION_VERSIONS[type_]},
        "references": references,
        "type": type_,
    }


def _search_source(query: str = "", view: str | None = None, **extra: Any) -> dict[str, str]:
    source: dict[str, Any] = {"query": {"query": query, "language": "kuery"}, "filter": [], **extra}
    if view:
        source["indexRefName"] = _INDEX_REF
    return {"searchSourceJSON": _dumps(source)}


def _view_ref(view: str) -> list[dict[str, str]]:
    return [{"id": view, "name": _INDEX_REF, "type": "index-pattern"}]


def data_view(
    id_: str, title: str, time_field: str, formats: dict[str, Any], labels: dict[str, str]
) -> dict[str, Any]:
    return _saved_object(
        "index-pattern",
        id_,
        {
            "fieldAttrs": _dumps({name: {"customLabel": label} for name, label in labels.items()}),
            "fieldFormatMap": _dumps(formats),
            "fields": "[]",
            "runtimeFieldMap": "{}",
            "timeFieldName": time_field,
            "title": title,
        },
        [],
    )


def saved_search(
    id_: str,
    title: str,
    view: str,
    columns: list[str],
    sort_field: str,
    query: str,
    description: str,
) -> dict[str, Any]:
    return _saved_object(
        "search",
        id_,
        {
            "columns": columns,
            "description": description,
            "hits": 0,
            "kibanaSavedObjectMeta": _search_source(query, view, highlightAll=True, version=True),
            "sort": [[sort_field, "desc"]],
            "title": title,
            "version": 1,
        },
        _view_ref(view),
    )


# --- aggregations of legacy visualizations -----------------------------------------------


def _count() -> dict[str, Any]:
    return {"id": "1", "enabled": True, "type": "count", "params": {}, "schema": "metric"}


def _metric(id_: str, type_: str, field: str, label: str) -> dict[str, Any]:
    params = {"field": field, "customLabel": label}
    return {"id": id_, "enabled": True, "type": type_, "params": params, "schema": "metric"}


def _terms(id_: str, field: str, size: int, schema: str, label: str) -> dict[str, Any]:
    return {
        "id": id_,
        "enabled": True,
        "type": "terms",
        "params": {
            "field": field,
            "orderBy": "1",
            "order": "desc",
            "size": size,
            "otherBucket": False,
            "otherBucketLabel": "Other",
            "missingBucket": False,
            "missingBucketLabel": "Missing",
            "customLabel": label,
        },
        "schema": schema,
    }


def _date_histogram(id_: str, field: str) -> dict[str, Any]:
    return {
        "id": id_,
        "enabled": True,
        "type": "date_histogram",
        "params": {
            "field": field,
            "useNormalizedEsInterval": True,
            "scaleMetricValues": False,
            "interval": "auto",
            "drop_partials": False,
            "min_doc_count": 1,
            "extended_bounds": {},
        },
        "schema": "segment",
    }


# --- legacy visualization types ----------------------------------------------------------


def _bar_params(y_label: str, mode: str = "stacked") -> dict[str, Any]:
    return {
        "type": "histogram",
        "grid": {"categoryLines": False},
        "categoryAxes": [
            {
                "id": "CategoryAxis-1",
                "type": "category",
                "position": "bottom",
                "show": True,
                "style": {},
                "scale": {"type": "linear"},
                "labels": {"show": True, "filter": True, "truncate": 100},
                "title": {},
            }
        ],
        "valueAxes": [
            {
                "id": "ValueAxis-1",
                "name": "LeftAxis-1",
                "type": "value",
                "position": "left",
                "show": True,
                "style": {},
                "scale": {"type": "linear", "mode": "normal"},
                "labels": {"show": True, "rotate": 0, "filter": True, "truncate": 100},
                "title": {"text": y_label},
            }
        ],
        "seriesParams": [
            {
                "show": True,
                "type": "histogram",
                "mode": mode,
                "data": {"label": y_label, "id": "1"},
                "valueAxis": "ValueAxis-1",
                "drawLinesBetweenPoints": True,
                "lineWidth": 2,
                "interpolate": "linear",
                "showCircles": True,
                "circlesRadius": 1,
            }
        ],
        "addTooltip": True,
        "detailedTooltip": True,
        "palette": {"type": "palette", "name": "default"},
        "addLegend": True,
        "legendPosition": "right",
        "times": [],
        "addTimeMarker": False,
        "truncateLegend": True,
        "maxLegendLines": 1,
        "radiusRatio": 0,
        "labels": {"show": False},
        "thresholdLine": {
            "show": False,
            "value": 10,
            "width": 1,
            "style": "full",
            "color": "#E7664C",
        },
    }


_TABLE_PARAMS = {
    "perPage": 10,
    "showPartialRows": False,
    "showMetricsAtAllLevels": False,
    "showTotal": False,
    "showToolbar": True,
    "totalFunc": "sum",
    "percentageCol": "",
    "autoFitRowToContent": False,
}

_TAGCLOUD_PARAMS = {
    "scale": "linear",
    "orientation": "single",
    "minFontSize": 14,
    "maxFontSize": 56,
    "showLabel": False,
    "palette": {"type": "palette", "name": "default"},
}


def visualization(
    id_: str,
    title: str,
    vis_type: str,
    params: dict[str, Any],
    aggs: list[dict[str, Any]],
    view: str,
    query: str = "",
    description: str = "",
) -> dict[str, Any]:
    vis_state = {"title": title, "type": vis_type, "aggs": aggs, "params": params}
    return _saved_object(
        "visualization",
        id_,
        {
            "description": description,
            "kibanaSavedObjectMeta": _search_source(query, view),
            "title": title,
            "uiStateJSON": "{}",
            "version": 1,
            "visState": _dumps(vis_state),
        },
        _view_ref(view),
    )


def _bars(
    id_: str, title: str, view: str, aggs: list[dict[str, Any]], y_label: str = "Count", **kw: Any
) -> dict[str, Any]:
    return visualization(id_, title, "histogram", _bar_params(y_label), aggs, view, **kw)


def _table(
    id_: str, title: str, view: str, aggs: list[dict[str, Any]], **kw: Any
) -> dict[str, Any]:
    return visualization(id_, title, "table", dict(_TABLE_PARAMS), aggs, view, **kw)


def _cloud(id_: str, title: str, field: str, label: str) -> dict[str, Any]:
    aggs = [_count(), _terms("2", field, 50, "segment", label)]
    return visualization(id_, title, "tagcloud", dict(_TAGCLOUD_PARAMS), aggs, DOCS_VIEW)


# --- the set -----------------------------------------------------------------------------


def _views() -> list[dict[str, Any]]:
    docs = data_view(
        DOCS_VIEW,
        VIEW_PATTERNS[DOCS_VIEW](DEFAULT_PREFIX),
        "published",
        {
            # The string format without transform: Discover renders the body with its
            # search-term highlights.
            "body": {"id": "string", "params": {"transform": False}},
            "url": {
                "id": "url",
                "params": {"type": "a", "urlTemplate": None, "labelTemplate": None},
            },
            "similarity": {"id": "percent", "params": {"pattern": "0.0%"}},
            "reading_time_minutes": {"id": "number", "params": {"pattern": "0.0"}},
        },
        {
            "body": "Body",
            "url": "URL",
            "published": "Published",
            "people": "People",
            "places": "Places",
            "organizations": "Organisations",
            "cluster_id": "Near-duplicate cluster",
            "story_id": "Story",
        },
    )
    events = data_view(
        EVENTS_VIEW,
        VIEW_PATTERNS[EVENTS_VIEW](DEFAULT_PREFIX),
        "time",
        {
            "bytes": {"id": "bytes", "params": {}},
            "lag_seconds": {
                "id": "duration",
                "params": {
                    "inputFormat": "seconds",
                    "outputFormat": "humanize",
                    "outputPrecision": 1,
                },
            },
        },
        {
            "path": "File or item",
            "lag_seconds": "Drop to outcome",
            "state": "Outcome",
            "phase": "Phase (1 searchable, 2 enriched)",
        },
    )
    return [docs, events]


def _searches() -> list[dict[str, Any]]:
    return [
        saved_search(
            SEARCH_LATEST,
            "dropsift: latest documents",
            DOCS_VIEW,
            _DOC_COLUMNS,
            "published",
            "",
            "Every document, newest first.",
        ),
        saved_search(
            SEARCH_CANONICAL,
            "dropsift: one document per near-duplicate cluster",
            DOCS_VIEW,
            [*_DOC_COLUMNS, "cluster_id"],
            "published",
            "canonical:true",
            "Canonical documents only: near-copies are left out.",
        ),
        saved_search(
            SEARCH_QUARANTINED,
            "dropsift: quarantined files",
            EVENTS_VIEW,
            ["path", "reason", "detail", "format", "site", "attempts"],
            "time",
            "state:quarantined",
            "Files and items that never became searchable, with the reason.",
        ),
    ]


def _visualizations() -> list[dict[str, Any]]:
    return [
        _bars(
            "dropsift-vis-documents-over-time",
            "dropsift: documents over time",
            DOCS_VIEW,
            [_count(), _date_histogram("2", "published")],
            "Documents",
        ),
        _table(
            "dropsift-vis-sites",
            "dropsift: documents by site",
            DOCS_VIEW,
            [
                _count(),
                _terms("2", "site", 20, "bucket", "Site"),
                _metric("3", "max", "published", "Latest"),
            ],
        ),
        _bars(
            "dropsift-vis-languages",
            "dropsift: documents by language",
            DOCS_VIEW,
            [_count(), _terms("2", "language", 15, "segment", "Language")],
            "Documents",
        ),
        _cloud("dropsift-vis-people", "dropsift: people", "people", "Person"),
        _cloud("dropsift-vis-places", "dropsift: places", "places", "Place"),
        _table(
            "dropsift-vis-organizations",
            "dropsift: organisations",
            DOCS_VIEW,
            [_count(), _terms("2", "organizations", 20, "bucket", "Organisation")],
        ),
        _table(
            "dropsift-vis-clusters",
            "dropsift: near-duplicate clusters",
            DOCS_VIEW,
            [
                _count(),
                _terms("2", "cluster_id", 20, "bucket", "Cluster"),
                _metric("3", "avg", "similarity", "Mean similarity"),
                _metric("4", "cardinality", "site", "Sites"),
            ],
            query="canonical:false",
            description="Near-copies per cluster (the canonical document is not counted).",
        ),
        _table(
            "dropsift-vis-stories",
            "dropsift: stories across outlets",
            DOCS_VIEW,
            [
                _count(),
                _terms("2", "story_id", 20, "bucket", "Story"),
                _metric("3", "cardinality", "site", "Outlets"),
                _metric("4", "min", "published", "First"),
            ],
        ),
        _bars(
            "dropsift-vis-outcomes",
            "dropsift: pipeline outcomes over time",
            EVENTS_VIEW,
            [_count(), _date_histogram("2", "time"), _terms("3", "state", 10, "group", "Outcome")],
            "Files and items",
        ),
        _bars(
            "dropsift-vis-quarantine-reasons",
            "dropsift: quarantine reasons over time",
            EVENTS_VIEW,
            [_count(), _date_histogram("2", "time"), _terms("3", "reason", 20, "group", "Reason")],
            "Files and items",
            query="state:quarantined",
        ),
        _table(
            "dropsift-vis-freshness",
            "dropsift: drop to searchable",
            EVENTS_VIEW,
            [
                _count(),
                _terms("2", "site", 20, "bucket", "Site"),
                _metric("3", "avg", "lag_seconds", "Mean seconds"),
                _metric("4", "max", "lag_seconds", "Slowest seconds"),
                _metric("5", "max", "time", "Last indexed"),
            ],
            query="state:indexed",
            description="How fresh the index is: seconds from a file landing to searchable.",
        ),
    ]


# The dashboard spans years, as scraped documents do; outcome panels show the last week
# (a panel's own time range), since a pipeline's health is a matter of days.
DASHBOARD_FROM = "now-5y"
OUTCOMES_FROM = "now-7d"

# Dashboard layout: (panel object id, type, x, y, w, h) on Kibana's 48-column grid.
_LAYOUT: list[tuple[str, str, int, int, int, int]] = [
    ("dropsift-vis-documents-over-time", "visualization", 0, 0, 32, 12),
    ("dropsift-vis-languages", "visualization", 32, 0, 16, 12),
    ("dropsift-vis-sites", "visualization", 0, 12, 16, 14),
    ("dropsift-vis-people", "visualization", 16, 12, 16, 14),
    ("dropsift-vis-places", "visualization", 32, 12, 16, 14),
    ("dropsift-vis-organizations", "visualization", 0, 26, 16, 14),
    ("dropsift-vis-clusters", "visualization", 16, 26, 16, 14),
    ("dropsift-vis-stories", "visualization", 32, 26, 16, 14),
    ("dropsift-vis-outcomes", "visualization", 0, 40, 24, 14),
    ("dropsift-vis-quarantine-reasons", "visualization", 24, 40, 24, 14),
    ("dropsift-vis-freshness", "visualization", 0, 54, 24, 14),
    (SEARCH_QUARANTINED, "search", 24, 54, 24, 14),
    (SEARCH_LATEST, "search", 0, 68, 48, 16),
]


def _dashboard(objects: list[dict[str, Any]]) -> dict[str, Any]:
    views = {o["id"]: o["references"][0]["id"] for o in objects if o["references"]}
    panels = []
    references = []
    for number, (object_id, object_type, x, y, w, h) in enumerate(_LAYOUT, 1):
        index = str(number)
        config: dict[str, Any] = {"enhancements": {}}
        if views[object_id] == EVENTS_VIEW:
            config["timeRange"] = {"from": OUTCOMES_FROM, "to": "now"}
        panels.append(
            {
                "version": LOWEST_KIBANA,
                "type": object_type,
                "gridData": {"x": x, "y": y, "w": w, "h": h, "i": index},
                "panelIndex": index,
                "embeddableConfig": config,
                "panelRefName": f"panel_{index}",
            }
        )
        # As Kibana 8 names them: the panel's index, then the panel's own reference name.
        references.append({"id": object_id, "name": f"{index}:panel_{index}", "type": object_type})
    return _saved_object(
        "dashboard",
        DASHBOARD,
        {
            "description": "What dropsift made searchable, and what happened to every file.",
            "hits": 0,
            "kibanaSavedObjectMeta": _search_source(),
            "optionsJSON": _dumps(
                {"hidePanelTitles": False, "syncColors": False, "useMargins": True}
            ),
            "panelsJSON": _dumps(panels),
            "refreshInterval": {"pause": False, "value": 60000},
            "timeFrom": DASHBOARD_FROM,
            "timeRestore": True,
            "timeTo": "now",
            "title": "dropsift",
            "version": 1,
        },
        references,
    )


def build() -> list[dict[str, Any]]:
    """Every object, referenced objects before the objects that refer to them."""
    parts = [*_views(), *_searches(), *_visualizations()]
    return [*parts, _dashboard(parts)]


def to_ndjson(objects: list[dict[str, Any]]) -> str:
    return "".join(_dumps(o) + "\n" for o in objects)


def for_prefix(objects: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """The objects with each data view's pattern named for another index prefix."""
    rewritten = []
    for obj in objects:
        if obj["type"] == "index-pattern" and obj["id"] in VIEW_PATTERNS:
            title = VIEW_PATTERNS[obj["id"]](prefix)
            obj = {**obj, "attributes": {**obj["attributes"], "title": title}}
        rewritten.append(obj)
    return rewritten


def load(path: Path = NDJSON) -> list[dict[str, Any]]:
    """The shipped objects, one per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


if __name__ == "__main__":
    NDJSON.write_text(to_ndjson(build()), encoding="utf-8")
    print(f"wrote {NDJSON}")

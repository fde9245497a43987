"""The local stack without Docker: Debian's redis-server and Elastic's zip distribution.

Each service is reused when something already answers at its URL; otherwise it is started
in the background with its files under the state folder, and `down` stops what was started.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import redis
import structlog
from elasticsearch import ApiError, Elasticsearch
from redis.exceptions import BusyLoadingError

from worker import analysis_plugin
from worker.analysis_plugin import ECJ_ARTIFACT
from worker.es_java import Choice, Java, NoJava, choose_for
from worker.settings import Settings

log = structlog.get_logger(__name__)

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_ES_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"


class StackError(RuntimeError):
    """A service could not be started; the message says what is missing and how to get it."""


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    url: str
    up: bool
    pid: int | None
    detail: str = ""


# --- helpers ------------------------------------------------------------------------------


def _read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by another user
    return pid


def _stop_pid(pid_file: Path, name: str, timeout: float = 60.0) -> bool:
    pid = _read_pid(pid_file)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        log.warning("stack_kill", service=name, pid=pid)
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    log.info("stack_stopped", service=name, pid=pid)
    return True


def _local(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    if host not in _LOCAL_HOSTS:
        raise StackError(f"{url} does not answer, and it is not on this machine: start it there")
    return host, parsed.port or 0


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- Redis --------------------------------------------------------------------------------


def redis_dir(settings: Settings) -> Path:
    return settings.state_dir / "redis"


def redis_state(settings: Settings) -> str:
    """ "up", "loading" (answering, still reading its data from disk) or "down"."""
    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1).ping()
    except BusyLoadingError:
        return "loading"
    except (redis.ConnectionError, redis.TimeoutError):
        return "down"
    return "up"


def redis_alive(settings: Settings) -> bool:
    return redis_state(settings) == "up"


def _wait_for_redis(settings: Settings, wait: float, folder: Path) -> None:
    """Until Redis answers; StackError after `wait` seconds of silence.

    A Redis replaying a big append-only file answers "loading" for as long as that takes
    (seconds per million keys): it is alive, so the wait goes on, with a note every 5 s.
    """
    deadline = time.monotonic() + wait
    noted = 0.0
    while (state := redis_state(settings)) != "up":
        now = time.monotonic()
        if state == "loading":
            deadline = now + wait
            if now - noted >= 5:
                log.info("redis_loading", url=settings.redis_url)
                noted = now
        elif now >= deadline:
            raise StackError(
                f"redis-server did not answer in {wait:.0f}s:\n{_tail(folder / 'redis.log')}"
            )
        time.sleep(0.1)


def redis_up(settings: Settings, wait: float = 15.0) -> str:
    """Reuse or start Redis; returns "reused" or "started"."""
    folder = redis_dir(settings)
    state = redis_state(settings)
    if state == "loading":
        _wait_for_redis(settings, wait, folder)
    if state != "down":
        return "reused"
    host, port = _local(settings.redis_url)
    binary = shutil.which("redis-server")
    if binary is None:
        raise StackError(
            "redis-server is not installed: `apt-get install redis-server` (Debian), "
            "or set DROPSIFT_REDIS_URL to a running Redis"
        )
    folder.mkdir(parents=True, exist_ok=True)
    # Append-only persistence: the ledger and the queue survive a restart of Redis.
    subprocess.run(
        [
            binary,
            "--bind",
            host,
            "--port",
            str(port or 6379),
            "--dir",
            str(folder),
            "--daemonize",
            "yes",
            "--pidfile",
            str(folder / "redis.pid"),
            "--logfile",
            str(folder / "redis.log"),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        check=True,
    )
    _wait_for_redis(settings, wait, folder)
    log.info("stack_started", service="redis", url=settings.redis_url)
    return "started"


# --- Elasticsearch ------------------------------------------------------------------------


def _traversable_by_others(path: Path) -> bool:
    """Whether a user other than the owner can reach `path` (every parent has o+x)."""
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def es_dir(settings: Settings) -> Path:
    """Where the Elasticsearch install, config, data and logs live (an absolute path: the
    node is started from inside it)."""
    base = settings.state_dir.resolve()
    if os.geteuid() == 0 and not _traversable_by_others(base.parent):
        # Elasticsearch runs as an unprivileged user that could not reach a folder under
        # a private home: keep its files in a system location instead, one per state
        # folder, so two nodes (a project's and the 8.19 check's) never share their data.
        tag = hashlib.sha1(str(base).encode()).hexdigest()[:12]
        base = Path("/var/lib/dropsift") / tag
    return base / "elasticsearch"


def es_client(settings: Settings, timeout: float = 5) -> Elasticsearch:
    from worker.compose import es_client as client

    return client(settings, timeout)


def es_version_running(es: Elasticsearch) -> str:
    """The version of the node that answers (the integ-test-zip has no `GET /`)."""
    try:
        nodes = es.nodes.info(node_id="_local", metric="settings")["nodes"]
        return str(next(iter(nodes.values()))["version"])
    except ApiError:  # a user without the monitor privilege: ask the root endpoint
        return str(es.info()["version"]["number"])


def es_health(settings: Settings) -> str | None:
    """The cluster status colour, or None when nothing answers."""
    try:
        return str(es_client(settings).cluster.health()["status"])
    except Exception:
        return None


def _mvn_copy(artifact: str, cache: Path, target: Path, what: str) -> Path:
    """One artifact from Maven Central into the cache, with `mvn dependency:copy`."""
    if target.exists():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            f"Maven is needed once to fetch {what}: `apt-get install maven`, or put "
            f"{artifact} at {target}"
        )
    cache.mkdir(parents=True, exist_ok=True)
    log.info("stack_fetching", artifact=artifact)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "dependency:copy",
            f"-Dartifact={artifact}",
            f"-DoutputDirectory={cache.resolve()}",
            "-Dmdep.useBaseVersion=true",
        ],
        capture_output=True,
        text=True,
        cwd=cache,
    )
    if result.returncode != 0 or not target.exists():
        raise StackError(
            f"mvn could not fetch {artifact}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return target


def fetch_es_zip(settings: Settings, version: str) -> Path:
    """The distribution zip, fetched once from Maven Central."""
    cache = settings.state_dir / "cache"
    artifact = _ES_ARTIFACT.format(version=version)
    return _mvn_copy(artifact, cache, cache / f"elasticsearch-{version}.zip", "Elasticsearch")


def fetch_ecj(settings: Settings) -> Path:
    """Eclipse's Java compiler, for machines with a Java runtime but no javac."""
    cache = settings.state_dir / "cache"
    name = ECJ_ARTIFACT.split(":")
    return _mvn_copy(ECJ_ARTIFACT, cache, cache / f"{name[1]}-{name[2]}.jar", "a Java compiler")


def choose_es(settings: Settings) -> tuple[Choice, list[Java]]:
    """The Elasticsearch version and the Java for it (the 8.19 fallback said loudly)."""
    # DROPSIFT_ES_VERSION set explicitly is a requirement; the default is a preference.
    requested = settings.es_version if "es_version" in settings.model_fields_set else None
    try:
        return choose_for(requested, settings.es_java_home)
    except NoJava as exc:
        raise StackError(str(exc)) from exc


def _run_user(settings: Settings) -> pwd.struct_passwd | None:
    """The unprivileged user for Elasticsearch when we are root (it refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(settings.es_run_user)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                settings.es_run_user,
            ],
            check=True,
        )
        return pwd.getpwnam(settings.es_run_user)


def _install_es(settings: Settings, folder: Path, version: str) -> Path:
    home = folder / f"elasticsearch-{version}"
    if not (home / "bin" / "elasticsearch").exists():
        archive = fetch_es_zip(settings, version)
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                extracted = Path(zf.extract(info, folder))
                # zipfile drops permission bits; the launch scripts need their x bits.
                mode = (info.external_attr >> 16) & 0o777
                if mode:
                    extracted.chmod(mode)
    return home


def transport_port(http_port: int) -> int:
    """The node's transport port: beside its HTTP port, so each local node has its own."""
    return http_port + 100


def es_up(settings: Settings, wait: float = 180.0) -> str:
    """Reuse or start Elasticsearch; returns "reused" or "started"."""
    if es_health(settings) in {"green", "yellow"}:
        return "reused"
    host, port = _local(settings.es_url)
    folder = es_dir(settings)
    choice, javas = choose_es(settings)
    version = choice.es_version
    home = _install_es(settings, folder, version)
    user = _run_user(settings)
    # Each version its own config (their jvm.options differ); the data folder is shared,
    # so documents survive the move from 8.19 to 9.x (then reindexed to the new mapping).
    config, data, logs = folder / f"config-{version}", folder / "data", folder / "logs"
    if not config.exists():
        shutil.copytree(home / "config", config)
    try:
        plugin = analysis_plugin.build(
            home, version, javas, settings.state_dir / "cache", lambda: fetch_ecj(settings)
        )
        analysis_plugin.install(home, config, plugin, choice.java)
    except analysis_plugin.PluginError as exc:
        raise StackError(str(exc)) from exc
    for sub in (data, logs):
        sub.mkdir(parents=True, exist_ok=True)
    pid_file = folder / "es.pid"
    if user is not None:
        for path in (
            folder,
            config,
            data,
            logs,
            *config.rglob("*"),
            *data.rglob("*"),
            *logs.rglob("*"),
        ):
            os.chown(path, user.pw_uid, user.pw_gid)
    env = {
        **os.environ,
        "ES_JAVA_HOME": str(choice.java.home),
        "ES_PATH_CONF": str(config),
        "ES_JAVA_OPTS": f"-Xms{settings.es_heap} -Xmx{settings.es_heap}",
    }
    env.pop("JAVA_HOME", None)
    # Single node on loopback: development mode, so production bootstrap checks stay off.
    # Security is off because nothing but this machine can reach it.
    command = [
        str(home / "bin" / "elasticsearch"),
        "-d",
        "-p",
        str(pid_file),
        "-Ediscovery.type=single-node",
        f"-Enetwork.host={host}",
        f"-Ehttp.port={port or 9200}",
        # Explicit, so two local nodes never take each other's (9200 -> 9300, 9201 -> 9301).
        f"-Etransport.port={transport_port(port or 9200)}",
        "-Expack.security.enabled=false",
        f"-Epath.data={data}",
        f"-Epath.logs={logs}",
        "-Ecluster.routing.allocation.disk.threshold_enabled=false",
        # 9.x counts a document at about five times its size against indexing pressure, 10% of
        # the heap by default: on 1 GB nothing over ~21 MB would ever be accepted, and
        # DROPSIFT_MAX_FILE_BYTES allows 50 MB.
        "-Eindexing_pressure.memory.limit=25%",
    ]
    log.info(
        "stack_starting",
        service="elasticsearch",
        version=version,
        java_home=str(choice.java.home),
        java=choice.java.major,
        user=user.pw_name if user else None,
    )
    started = subprocess.run(
        command,
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        user=user.pw_uid if user else None,
        group=user.pw_gid if user else None,
    )
    if started.returncode != 0:
        raise StackError(
            f"Elasticsearch did not start:\n{started.stdout[-3000:]}{started.stderr[-3000:]}"
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if es_health(settings) in {"green", "yellow"}:
            log.info("stack_started", service="elasticsearch", url=settings.es_url)
            return "started"
        if pid_file.exists() and _read_pid(pid_file) is None:
            break
        time.sleep(1)
    raise StackError(
        f"Elasticsearch is not healthy after {wait:.0f}s:\n{_tail(logs / 'elasticsearch.log')}"
    )


# --- the stack ----------------------------------------------------------------------------


def up(settings: Settings) -> dict[str, str]:
    """Start (or reuse) Redis and Elasticsearch and wait until both answer."""
    return {"redis": redis_up(settings), "elasticsearch": es_up(settings)}


def down(settings: Settings, only: set[str] | None = None) -> dict[str, bool]:
    """Stop the services this stack started (all, or those named); others are left alone."""
    pid_files = {
        "elasticsearch": es_dir(settings) / "es.pid",
        "redis": redis_dir(settings) / "redis.pid",
    }
    return {
        name: _stop_pid(pid_file, name)
        for name, pid_file in pid_files.items()
        if only is None or name in only
    }


def status(settings: Settings) -> list[ServiceStatus]:
    health = es_health(settings)
    return [
        ServiceStatus(
            "redis",
            settings.redis_url,
            redis_alive(settings),
            _read_pid(redis_dir(settings) / "redis.pid"),
        ),
        ServiceStatus(
            "elasticsearch",
            settings.es_url,
            health in {"green", "yellow"},
            _read_pid(es_dir(settings) / "es.pid"),
            health or "not answering",
        ),
    ]

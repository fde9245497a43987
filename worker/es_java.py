"""Which Elasticsearch the local stack runs, and on which Java.

Elasticsearch 9 needs Java 21 or newer with the `jdk.incubator.vector` module; 8.19 runs on
Java 17. The default is 9.x; a machine with no such Java gets 8.19, and says so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

ES_DEFAULT_VERSION = "9.2.8"
"""The newest 9.x integ-test-zip on Maven Central (9.3.0 and 9.2.9 are not published there)."""
ES_FALLBACK_VERSION = "8.19.21"
"""What a machine without a Java 21+ (with the vector module) runs instead."""
SYSTEM_JVMS = Path("/usr/lib/jvm")
VECTOR_MODULE = "jdk.incubator.vector"

_SPEC_VERSION = re.compile(r"java\.specification\.version = (\d+)")


class NoJava(RuntimeError):
    """No Java on this machine can run the Elasticsearch asked for."""


@dataclass(frozen=True)
class Java:
    home: Path
    major: int
    vector: bool
    """Whether it carries jdk.incubator.vector (Elasticsearch 9 will not start without)."""
    javac: bool

    @property
    def java(self) -> Path:
        return self.home / "bin" / "java"


@dataclass(frozen=True)
class Choice:
    es_version: str
    java: Java
    fallback: bool
    """The default 9.x could not run here: the 8.19 fallback was chosen instead."""


def es_major(version: str) -> int:
    return int(version.split(".", 1)[0])


def java_release(es_version: str) -> int:
    """The Java release an Elasticsearch version needs (and its plugins are compiled for)."""
    return 21 if es_major(es_version) >= 9 else 17


def runs(java: Java, es_version: str) -> bool:
    """Whether `java` can run Elasticsearch `es_version`."""
    if java.major < java_release(es_version):
        return False
    return java.vector or es_major(es_version) < 9


def parse_probe(output: str) -> tuple[int, bool] | None:
    """(major, has the vector module) from `java -XshowSettings:properties --list-modules`."""
    match = _SPEC_VERSION.search(output)
    if match is None:
        return None
    modules = {line.split("@", 1)[0].strip() for line in output.splitlines() if "@" in line}
    return int(match.group(1)), VECTOR_MODULE in modules


def choose(javas: Iterable[Java], requested: str | None) -> Choice:
    """The Elasticsearch version and the Java to run it on, in the candidates' order.

    `requested` is a version the user set explicitly: only a Java that runs it will do.
    Otherwise the default 9.x on the first Java that runs it, else the 8.19 fallback.
    """
    javas = list(javas)
    if requested:
        for java in javas:
            if runs(java, requested):
                return Choice(requested, java, fallback=False)
        raise NoJava(_missing(requested, javas))
    for java in javas:
        if runs(java, ES_DEFAULT_VERSION):
            return Choice(ES_DEFAULT_VERSION, java, fallback=False)
    for java in javas:
        if runs(java, ES_FALLBACK_VERSION):
            return Choice(ES_FALLBACK_VERSION, java, fallback=True)
    raise NoJava(_missing(ES_DEFAULT_VERSION, javas))


def _missing(es_version: str, javas: list[Java]) -> str:
    found = ", ".join(
        f"{j.home} (Java {j.major}{'' if j.vector else ', no ' + VECTOR_MODULE})" for j in javas
    )
    need = f"Java {java_release(es_version)} or newer"
    if es_major(es_version) >= 9:
        need += f" with the {VECTOR_MODULE} module (a full JDK, not a trimmed runtime)"
    return (
        f"Elasticsearch {es_version} needs {need}; found: {found or 'no Java'}. Install one "
        "(Debian: `apt-get install openjdk-17-jdk-headless` runs the 8.19 fallback) or set "
        "DROPSIFT_ES_JAVA_HOME"
    )


def candidate_homes(explicit: Path | None) -> list[Path]:
    """Java homes to try, in order: DROPSIFT_ES_JAVA_HOME alone when set, else JAVA_HOME,
    the `java` on PATH, then the JDKs under /usr/lib/jvm (by name, descending)."""
    if explicit is not None:
        return [explicit]
    homes: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        homes.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path:
        homes.append(Path(on_path).resolve().parent.parent)
    if SYSTEM_JVMS.is_dir():
        homes += sorted((p for p in SYSTEM_JVMS.iterdir() if p.is_dir()), reverse=True)
    unique: list[Path] = []
    for home in homes:
        if home.resolve() not in {u.resolve() for u in unique}:
            unique.append(home)
    return unique


def probe(home: Path) -> Java | None:
    """What the Java at `home` is, or None when there is none there."""
    binary = home / "bin" / "java"
    if not binary.exists():
        return None
    try:
        run = subprocess.run(
            [str(binary), "-XshowSettings:properties", "--list-modules"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parsed = parse_probe(run.stdout + run.stderr)
    if parsed is None:
        return None
    return Java(home, parsed[0], parsed[1], (home / "bin" / "javac").exists())


def find_javas(explicit: Path | None) -> list[Java]:
    return [java for home in candidate_homes(explicit) if (java := probe(home)) is not None]


def choose_for(es_version: str | None, java_home: Path | None) -> tuple[Choice, list[Java]]:
    """Probe this machine's Javas and choose; the fallback is logged loudly."""
    javas = find_javas(java_home)
    choice = choose(javas, es_version)
    if choice.fallback:
        log.warning(
            "es_version_fallback",
            wanted=ES_DEFAULT_VERSION,
            running=choice.es_version,
            java_home=str(choice.java.home),
            java=choice.java.major,
            reason=f"no Java 21+ with {VECTOR_MODULE} found",
        )
    return choice, javas

"""The English analysis filters for Elastic's integ-test-zip, as a stable analysis plugin.

That distribution carries only core analysis (no `stemmer`, no `asciifolding`). The plugin
in worker/es_analysis/ provides those two names with Lucene's filters, so the one index
mapping works there as it does on full distributions, which have them from their
analysis-common module and never get this plugin. It is compiled against the distribution's
own lib/ jars, for the Java release that Elasticsearch version runs on, and cached by
version and source hash.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import structlog

from search.index import ANALYSIS_PLUGIN
from worker.es_java import Java, java_release

log = structlog.get_logger(__name__)

PLUGIN_NAME = ANALYSIS_PLUGIN
SOURCES = Path(__file__).resolve().parent / "es_analysis" / "src"
# Eclipse's batch compiler, when no javac of a suitable release is on the machine.
ECJ_ARTIFACT = "org.eclipse.jdt:ecj:3.42.0"
_API_JARS = (
    "elasticsearch-plugin-api-",
    "elasticsearch-plugin-analysis-api-",
    "lucene-core-",
    "lucene-analysis-common-",
)


class PluginError(RuntimeError):
    """The plugin could not be built or installed; the message says why."""


def source_hash() -> str:
    """Short hash of the plugin's sources: a change rebuilds and reinstalls it."""
    digest = hashlib.sha256()
    for path in sorted(SOURCES.rglob("*.java")):
        digest.update(path.relative_to(SOURCES).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def descriptor(es_version: str, version: str) -> str:
    """stable-plugin-descriptor.properties; Elasticsearch loads it only for `es_version`."""
    return (
        f"name={PLUGIN_NAME}\n"
        "description=English analysis (stemmer, asciifolding) for distributions without "
        "analysis-common\n"
        f"version={version}\n"
        f"elasticsearch.version={es_version}\n"
        f"java.version={java_release(es_version)}\n"
    )


def classpath(home: Path) -> list[Path]:
    """The distribution's plugin API and Lucene jars the sources compile against."""
    jars = []
    for prefix in _API_JARS:
        found = sorted((home / "lib").glob(f"{prefix}[0-9]*.jar"))
        if not found:
            raise PluginError(f"{home / 'lib'} has no {prefix}*.jar to compile the plugin against")
        jars.append(found[-1])
    return jars


def compiler_command(
    javas: list[Java], release: int, fetch_ecj: Callable[[], Path] | None = None
) -> list[str]:
    """A javac of at least `release` (with --release), else ecj run by a Java that can."""
    for java in javas:
        if java.javac and java.major >= release:
            return [str(java.home / "bin" / "javac"), "--release", str(release)]
    # ecj 3.42 runs on Java 17+; it compiles against the running Java's class library.
    runners = [j for j in javas if j.major >= release]
    if not runners or fetch_ecj is None:
        raise PluginError(
            f"no javac for Java {release} and no Java {release}+ to run the Eclipse compiler: "
            "install a JDK (Debian: openjdk-17-jdk-headless) or set DROPSIFT_ES_JAVA_HOME to one"
        )
    ecj = fetch_ecj()
    runner = str(runners[0].java)
    return [runner, "-jar", str(ecj), "-source", str(release), "-target", str(release)]


def build(
    home: Path,
    es_version: str,
    javas: list[Java],
    cache: Path,
    fetch_ecj: Callable[[], Path] | None = None,
) -> Path:
    """The plugin zip for this distribution, built once per version and source hash."""
    version = source_hash()
    target = cache / f"{PLUGIN_NAME}-{es_version}-{version}.zip"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    release = java_release(es_version)
    command = compiler_command(javas, release, fetch_ecj)
    sources = sorted(str(p) for p in SOURCES.rglob("*.java"))
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        classes = Path(tmp) / "classes"
        cp = os.pathsep.join(str(j) for j in classpath(home))
        run = subprocess.run(
            [*command, "-proc:none", "-cp", cp, "-d", str(classes), *sources],
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise PluginError(f"compiling the analysis plugin failed:\n{run.stdout}{run.stderr}")
        jar = Path(tmp) / f"{PLUGIN_NAME}.jar"
        with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(classes.rglob("*.class")):
                zf.write(path, path.relative_to(classes).as_posix())
        partial = Path(tmp) / target.name
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(jar, jar.name)
            zf.writestr("stable-plugin-descriptor.properties", descriptor(es_version, version))
        partial.replace(target)
    log.info("es_plugin_built", plugin=PLUGIN_NAME, es_version=es_version, release=release)
    return target


def installed_version(home: Path) -> str | None:
    """The source hash of the plugin installed in this distribution, if any."""
    props = home / "plugins" / PLUGIN_NAME / "stable-plugin-descriptor.properties"
    try:
        lines = props.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "version":
            return value.strip()
    return None


def install(home: Path, config: Path, zip_path: Path, java: Java) -> bool:
    """Install (or replace) the plugin in a stopped distribution; False when already there."""
    version = zip_path.stem.rsplit("-", 1)[1]
    if installed_version(home) == version:
        return False
    cli = str(home / "bin" / "elasticsearch-plugin")
    env = {
        **os.environ,
        "ES_JAVA_HOME": str(java.home),
        "ES_PATH_CONF": str(config),
        # The installer scans the plugin's classes for named components: 1 GB, or it runs
        # out of heap.
        "CLI_JAVA_OPTS": "-Xmx1g",
    }
    env.pop("JAVA_HOME", None)
    if (home / "plugins" / PLUGIN_NAME).exists():
        subprocess.run([cli, "remove", PLUGIN_NAME], env=env, capture_output=True, text=True)
        shutil.rmtree(home / "plugins" / PLUGIN_NAME, ignore_errors=True)
    run = subprocess.run(
        [cli, "install", "--batch", zip_path.resolve().as_uri()],
        env=env,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise PluginError(f"installing the analysis plugin failed:\n{run.stdout}{run.stderr}")
    log.info("es_plugin_installed", plugin=PLUGIN_NAME, version=version, home=str(home))
    return True

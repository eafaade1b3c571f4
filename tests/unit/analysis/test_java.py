"""Java archives built with zipfile: pom.properties, nested jars, MANIFEST.MF and file-name fallbacks."""

from __future__ import annotations

import random

from portside.analysis.model import Limits, Notes
from portside.analysis.packages.java import parse_archive

from .tarballs import analyse, file, jar, layer, pom_properties

JACKSON = pom_properties("com.fasterxml.jackson.core", "jackson-databind", "2.9.10.1")
SPRING_APP = jar({
    "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\nStart-Class: com.example.App\n",
    "META-INF/maven/com.example/app/pom.properties": pom_properties("com.example", "app", "0.0.1-SNAPSHOT"),
    "BOOT-INF/lib/jackson-databind-2.9.10.1.jar": jar({
        "META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties": JACKSON}),
    "BOOT-INF/lib/log4j-core-2.14.1.jar": jar({
        "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties":
            pom_properties("org.apache.logging.log4j", "log4j-core", "2.14.1")}),
})


def _packages(path: str, data: bytes, limits: Limits = Limits()) -> tuple[list[tuple[str, str, str]], tuple[str, ...]]:
    notes = Notes(10)
    result = parse_archive(path, data, "", limits, notes)
    return [(p.name, p.version, p.path) for p in result.packages], notes.as_tuple()


def test_pom_properties_of_the_archive_and_of_nested_jars_are_all_found() -> None:
    packages, _ = _packages("app/app.jar", SPRING_APP)

    assert packages == [
        ("com.example:app", "0.0.1-SNAPSHOT", "app/app.jar"),
        ("com.fasterxml.jackson.core:jackson-databind", "2.9.10.1",
         "app/app.jar!/BOOT-INF/lib/jackson-databind-2.9.10.1.jar"),
        ("org.apache.logging.log4j:log4j-core", "2.14.1", "app/app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar"),
    ]


def test_maven_purls_split_group_and_artifact() -> None:
    notes = Notes(1)

    result = parse_archive("x.jar", jar({"META-INF/maven/g.h/a/pom.properties": pom_properties("g.h", "a", "1.2")}),
                           "", Limits(), notes)

    assert [p.purl for p in result.packages] == ["pkg:maven/g.h/a@1.2"]


def test_the_manifest_names_an_archive_without_its_own_pom_properties() -> None:
    manifest = ("Manifest-Version: 1.0\nImplementation-Title: commons-text\nImplementation-Version: 1.9\n"
                "Implementation-Vendor-Id: org.apache.commons\n\nName: org/apache/\nImplementation-Title: other\n")

    packages, _ = _packages("lib/commons-text.jar", jar({"META-INF/MANIFEST.MF": manifest}))

    assert packages == [("org.apache.commons:commons-text", "1.9", "lib/commons-text.jar")]


def test_the_file_name_names_an_archive_without_metadata() -> None:
    packages, _ = _packages("lib/guava-31.1-jre.jar", jar({"com/google/Foo.class": b"\xca\xfe"}))

    assert packages == [("guava", "31.1-jre", "lib/guava-31.1-jre.jar")]


def test_nesting_beyond_the_depth_limit_is_skipped_with_a_note() -> None:
    innermost = jar({"META-INF/maven/g/deep/pom.properties": pom_properties("g", "deep", "1")})
    archive = jar({"lib/middle.jar": jar({"lib/inner.jar": innermost})})

    packages, notes = _packages("outer.jar", archive, Limits(max_archive_depth=1))

    assert packages == []
    assert notes == ("outer.jar!/lib/middle.jar!/lib/inner.jar: nested deeper than 1, skipped",)


def test_nested_archives_share_one_byte_budget() -> None:
    incompressible = random.Random(0).randbytes(16 * 1024)
    nested = jar({"META-INF/maven/g/a/pom.properties": pom_properties("g", "a", "1"), "pad": incompressible})
    archive = jar({f"lib/a{n}.jar": nested for n in range(4)})
    room_for_two = len(archive) + 2 * len(nested) + 1000  # + the small pom.properties reads

    packages, notes = _packages("outer.jar", archive, Limits(max_archive_bytes=room_for_two))

    assert len(packages) == 2
    assert notes == ("outer.jar!/lib/a2.jar: archive byte budget exhausted, skipped",
                     "outer.jar!/lib/a3.jar: archive byte budget exhausted, skipped")


def test_a_corrupt_archive_is_skipped_with_a_note() -> None:
    packages, notes = _packages("lib/broken.jar", b"PK\x03\x04 not really a zip")

    assert (packages, notes) == ([], ("lib/broken.jar: not a zip archive or too many entries, skipped",))


def test_an_archive_with_too_many_entries_is_not_opened() -> None:
    archive = jar({f"f{n}": b"" for n in range(20)})

    packages, notes = _packages("lib/many-1.0.jar", archive, Limits(max_archive_entries=10))

    assert (packages, notes) == ([], ("lib/many-1.0.jar: not a zip archive or too many entries, skipped",))


def test_war_files_in_a_layer_are_read() -> None:
    war = jar({"WEB-INF/lib/log4j-core-2.14.1.jar": jar({
        "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties":
            pom_properties("org.apache.logging.log4j", "log4j-core", "2.14.1")})})

    analysis = analyse(layer(file("usr/local/tomcat/webapps/ROOT.war", war)))

    assert [(p.name, p.version) for s in analysis.sources for p in s.packages] == [
        ("org.apache.logging.log4j:log4j-core", "2.14.1")]

"""OSV parsing and matching, on the real advisories in shared/testdata/osv (CC-BY-4.0, see its
README) and a few hand-written records marked synthetic."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from portside.domain.osv import (
    UNDATED,
    Advisory,
    Affected,
    MalformedAdvisory,
    cvss3_base_score,
    fix_version,
    is_affected,
    parse_advisory,
)

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "osv"


def advisory(name: str) -> Advisory:
    return parse_advisory(json.loads((TESTDATA / f"{name}.json").read_text(encoding="utf-8")))


def package(record: Advisory, name: str, ecosystem: str | None = None) -> list[Affected]:
    return [entry for entry in record.affected
            if entry.package == name and (ecosystem is None or entry.ecosystem == ecosystem)]


def affected(record: Advisory, name: str, version: str, ecosystem: str | None = None) -> bool:
    return any(is_affected(entry, version) for entry in package(record, name, ecosystem))


def synthetic(**fields: Any) -> dict[str, Any]:
    """A hand-written record (not published data) with the given fields."""
    return {"id": "SYNTHETIC-1", "modified": "2024-01-01T00:00:00Z", **fields}


def ranges_only(entries: list[Affected]) -> list[Affected]:
    return [replace(entry, versions=()) for entry in entries]


# --- PYSEC-2023-192: unsorted events, a GIT range, an explicit versions list --------------------

@pytest.mark.parametrize(("version", "expected"), [("2.0.3", True), ("2.0.6", False), ("1.26.16", True),
                                                   ("1.26.17", False), ("2.0.0", True), ("1.26.18", False)])
def test_unsorted_events_are_sorted_before_walking(version: str, expected: bool) -> None:
    entries = ranges_only(package(advisory("PYSEC-2023-192"), "urllib3"))
    assert any(is_affected(entry, version) for entry in entries) is expected


def test_git_ranges_are_skipped() -> None:
    (entry,) = package(advisory("PYSEC-2023-192"), "urllib3")
    git_only = replace(entry, ranges=tuple(r for r in entry.ranges if r.type == "GIT"), versions=())
    assert git_only.ranges  # the record really has one, with commit hashes PEP 440 cannot order
    assert is_affected(git_only, "2.0.3") is False


def test_the_versions_list_matches_exactly() -> None:
    (entry,) = package(advisory("PYSEC-2023-192"), "urllib3")
    without_ranges = replace(entry, ranges=())
    assert is_affected(without_ranges, "1.26.16") is True
    assert is_affected(without_ranges, "1.26.17") is False


# --- Go: toolchain names, prerelease boundaries, pseudo-versions ---------------------------------

@pytest.mark.parametrize(("version", "expected"), [("go1.21rc3", True), ("1.21.0-rc.3", True), ("go1.21rc4", False),
                                                   ("go1.21.0", False), ("go1.20.6", True), ("go1.20.7", False)])
def test_go_toolchain_versions_against_prerelease_boundaries(version: str, expected: bool) -> None:
    assert affected(advisory("GO-2023-1987"), "stdlib", version) is expected


def test_a_pseudo_version_before_the_fix_is_affected() -> None:
    assert affected(advisory("GO-2022-0969"), "golang.org/x/net", "v0.0.0-20220722155237-a158d28d115b") is True


def test_the_fixing_pseudo_version_and_later_releases_are_not() -> None:
    record = advisory("GO-2022-0969")
    assert affected(record, "golang.org/x/net", "v0.0.0-20220906165146-f3363e06e74c") is False
    assert affected(record, "golang.org/x/net", "v0.1.0") is False


def test_the_fix_of_a_pseudo_version_is_the_pseudo_version() -> None:
    entries = package(advisory("GO-2022-0969"), "golang.org/x/net")
    assert fix_version(entries, "v0.0.0-20220722155237-a158d28d115b") == "0.0.0-20220906165146-f3363e06e74c"


def test_golang_vulndb_zero_modified_is_undated() -> None:
    assert advisory("GO-2023-1987").modified == UNDATED


# --- names, aliases, severity ---------------------------------------------------------------------

def test_pypi_names_are_normalised() -> None:
    (entry,) = advisory("GHSA-8q59-q68h-6hv4").affected
    assert entry.package == "pyyaml"  # the record says "PyYAML"; PYSEC-2021-142 says "pyyaml"
    assert advisory("PYSEC-2021-142").affected[0].package == "pyyaml"


def test_the_cvss_v3_base_score_is_computed() -> None:
    record = advisory("GHSA-44wm-f244-xhp3")
    assert record.cvss_vector == "CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:U/C:H/I:H/A:H"
    assert record.cvss_score == 6.7
    assert record.severity == "Medium"


@pytest.mark.parametrize(("vector", "score"), [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", 6.1),  # scope changed (GHSA-j8r2)
    ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
    ("CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
])
def test_cvss_v3_base_scores(vector: str, score: float) -> None:
    assert cvss3_base_score(vector) == score


def test_an_incomplete_vector_is_rejected() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        cvss3_base_score("CVSS:3.1/AV:N/AC:L")


def test_a_v4_vector_alone_defers_to_the_advisory_label() -> None:
    record = parse_advisory(synthetic(
        severity=[{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
        database_specific={"severity": "MODERATE"}))
    assert (record.severity, record.cvss_score) == ("Medium", None)


def test_without_vector_or_label_the_severity_is_unknown() -> None:
    assert parse_advisory(synthetic()).severity == "Unknown"


def test_aliases_put_the_cve_first_and_it_is_displayed() -> None:
    record = parse_advisory(synthetic(aliases=["GHSA-aaaa-bbbb-cccc", "CVE-2024-0001"]))
    assert record.aliases == ("CVE-2024-0001", "GHSA-aaaa-bbbb-cccc")
    assert record.display_id == "CVE-2024-0001"


def test_upstream_counts_as_aliases_when_there_are_none() -> None:
    record = advisory("derived-ALPINE-CVE-2019-5747")
    assert record.aliases == ("CVE-2019-5747",)
    assert record.display_id == "CVE-2019-5747"


def test_withdrawn_records_are_flagged() -> None:
    record = parse_advisory(synthetic(withdrawn="2024-02-01T10:00:00Z"))
    assert record.withdrawn == datetime(2024, 2, 1, 10, 0, tzinfo=UTC)


# --- Alpine (derived records) -----------------------------------------------------------------------

def test_alpine_records_match_per_release() -> None:
    record = advisory("derived-ALPINE-CVE-2019-5747")
    assert affected(record, "busybox", "1.30.1-r1", "Alpine:v3.11") is True
    assert affected(record, "busybox", "1.30.1-r2", "Alpine:v3.11") is False
    assert package(record, "busybox", "Alpine:v3.12") == []


def test_a_record_without_modified_is_undated() -> None:
    assert advisory("derived-ALPINE-CVE-2019-1551").modified == UNDATED


# --- range semantics on synthetic records -----------------------------------------------------------

def one_package(*events: dict[str, str], ecosystem: str = "PyPI", **extra: Any) -> Affected:
    record = synthetic(affected=[{"package": {"ecosystem": ecosystem, "name": "demo"},
                                  "ranges": [{"type": "ECOSYSTEM", "events": list(events)}], **extra}])
    return parse_advisory(record).affected[0]


@pytest.mark.parametrize(("version", "expected"), [("1.0", False), ("1.1", True), ("1.4", True), ("1.4.1", False)])
def test_last_affected_is_inclusive(version: str, expected: bool) -> None:
    entry = one_package({"introduced": "1.1"}, {"last_affected": "1.4"})
    assert is_affected(entry, version) is expected


@pytest.mark.parametrize(("version", "expected"), [("1.9", True), ("2.0", False), ("3.0", False)])
def test_a_limit_caps_the_range(version: str, expected: bool) -> None:
    entry = one_package({"introduced": "0"}, {"limit": "2.0"})
    assert is_affected(entry, version) is expected


def test_introduced_without_fix_affects_everything_after() -> None:
    entry = one_package({"introduced": "0"})
    assert is_affected(entry, "99.0") is True
    assert fix_version([entry], "99.0") == ""


def test_the_fix_is_the_smallest_fixed_above_the_version() -> None:
    entries = package(advisory("GHSA-v845-jxx5-vc9f"), "urllib3")
    assert fix_version(entries, "1.26.5") == "1.26.17"
    assert fix_version(entries, "2.0.3") == "2.0.6"


def test_a_range_that_cannot_be_ordered_raises() -> None:
    entry = one_package({"introduced": "0"}, {"fixed": "2.0"})
    with pytest.raises(ValueError, match="PEP 440"):
        is_affected(entry, "not a version")


# --- Debian (synthetic: no published record is reachable offline) ---------------------------------------

DEBIAN_SYNTHETIC = {
    "id": "DEBIAN-CVE-2099-0001", "modified": "2024-05-01T00:00:00Z", "upstream": ["CVE-2099-0001"],
    "affected": [
        {"package": {"ecosystem": "Debian:12", "name": "glibc"}, "ecosystem_specific": {"urgency": "high"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u4"}]}]},
        {"package": {"ecosystem": "Debian:12", "name": "tar"}, "ecosystem_specific": {"urgency": "unimportant"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]},
        {"package": {"ecosystem": "Debian:12", "name": "shadow"}, "ecosystem_specific": {"urgency": "not yet assigned"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:4.13+dfsg1-1+deb12u1"}]}]},
    ],
}


def test_debian_fixed_versions() -> None:
    record = parse_advisory(DEBIAN_SYNTHETIC)
    assert affected(record, "glibc", "2.36-9+deb12u3") is True
    assert affected(record, "glibc", "2.36-9+deb12u4") is False


def test_debian_epochs_are_compared() -> None:
    record = parse_advisory(DEBIAN_SYNTHETIC)
    assert affected(record, "shadow", "4.13+dfsg1-1+deb12u2") is True  # epoch 0 < 1
    assert affected(record, "shadow", "1:4.13+dfsg1-1+deb12u1") is False


def test_debian_urgency_is_the_package_severity() -> None:
    glibc, tar, shadow = parse_advisory(DEBIAN_SYNTHETIC).affected
    assert (glibc.severity, tar.severity, shadow.severity) == ("High", "Negligible", None)


# --- malformed records -------------------------------------------------------------------------------

@pytest.mark.parametrize(("record", "reason"), [
    ({"modified": "2024-01-01T00:00:00Z"}, "no id"),
    ([], "object"),
    (synthetic(affected={"package": "x"}), "affected must be a list"),
    (synthetic(affected=[{"package": {"name": "x"}}]), "ecosystem"),
    (synthetic(affected=[{"package": {"ecosystem": "PyPI", "name": "x"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]),
     "exactly one"),
    (synthetic(modified="yesterday"), "RFC 3339"),
])
def test_malformed_records_are_rejected_with_a_reason(record: object, reason: str) -> None:
    with pytest.raises(MalformedAdvisory, match=reason):
        parse_advisory(record)

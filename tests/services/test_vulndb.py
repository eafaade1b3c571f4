"""The vulnerability database: importing OSV data (directory, zip, incremental, withdrawn,
malformed) and matching inventories against it, on the real advisories in
shared/testdata/osv (CC-BY-4.0, see its README) plus records marked synthetic."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from portside.domain.inventory import Finding, Inventory, OSInfo, Package
from portside.services.bundle import Services
from portside.services.vulndb import ImportProgress, VulnerabilityDatabase
from portside.vulndb_cli import vulndb_app

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "osv"
RECORD_COUNT = 19

# Synthetic: no published Debian record is reachable offline; shaped like osv.dev's DEBIAN-CVE-… records.
DEBIAN_SYNTHETIC = {
    "id": "DEBIAN-CVE-2099-0001", "modified": "2024-05-01T00:00:00Z", "upstream": ["CVE-2099-0001"],
    "affected": [
        {"package": {"ecosystem": "Debian:12", "name": "glibc"}, "ecosystem_specific": {"urgency": "high"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u4"}]}]},
        {"package": {"ecosystem": "Debian:12", "name": "tar"}, "ecosystem_specific": {"urgency": "unimportant"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]},
    ],
}
# Synthetic, with the ranges GHSA-jfh8-c2jp-5v3q (Log4Shell) publishes for log4j-core.
MAVEN_SYNTHETIC = {
    "id": "SYNTHETIC-MAVEN-1", "modified": "2024-05-01T00:00:00Z", "aliases": ["CVE-2021-44228"],
    "database_specific": {"severity": "CRITICAL"},
    "affected": [{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]},
                             {"type": "ECOSYSTEM", "events": [{"introduced": "2.4"}, {"fixed": "2.12.2"}]}]}],
}


def write_record(directory: Path, record: dict[str, Any], name: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name or record['id']}.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def load_testdata(name: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((TESTDATA / f"{name}.json").read_text(encoding="utf-8"))
    return record


@pytest.fixture
def vulndb(services: Services) -> VulnerabilityDatabase:
    return VulnerabilityDatabase(services.db)


@pytest.fixture
async def loaded(vulndb: VulnerabilityDatabase, tmp_path: Path) -> VulnerabilityDatabase:
    """The test data plus the synthetic Debian and Maven records."""
    await vulndb.import_path(TESTDATA)
    write_record(tmp_path / "synthetic", DEBIAN_SYNTHETIC)
    write_record(tmp_path / "synthetic", MAVEN_SYNTHETIC)
    await vulndb.import_path(tmp_path / "synthetic")
    return vulndb


def by_id(findings: list[Finding]) -> dict[tuple[str, str], Finding]:
    return {(finding.package, finding.id): finding for finding in findings}


def fixes(findings: list[Finding]) -> dict[tuple[str, str], str]:
    return {(finding.package, finding.id): finding.fix_version for finding in findings}


# --- import ----------------------------------------------------------------------------------------

async def test_a_directory_imports_every_record(vulndb: VulnerabilityDatabase) -> None:
    result = await vulndb.import_path(TESTDATA)
    assert (result.imported, result.unchanged, result.skipped, result.errors) == (RECORD_COUNT, 0, 0, ())


async def test_a_single_file_imports_one_record(vulndb: VulnerabilityDatabase) -> None:
    result = await vulndb.import_path(TESTDATA / "GHSA-35jh-r3h4-6jhm.json")
    assert result.imported == 1
    assert (await vulndb.status()).per_ecosystem == {"npm": 1}


async def test_a_zip_export_imports_every_member(vulndb: VulnerabilityDatabase, tmp_path: Path) -> None:
    archive = tmp_path / "osv-all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(TESTDATA.glob("*.json")):
            zipped.write(path, path.name)
    result = await vulndb.import_path(archive)
    assert (result.imported, result.errors) == (RECORD_COUNT, ())


async def test_zip_exports_inside_a_directory_are_imported(vulndb: VulnerabilityDatabase, tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "npm.zip", "w") as zipped:
        zipped.write(TESTDATA / "GHSA-35jh-r3h4-6jhm.json", "GHSA-35jh-r3h4-6jhm.json")
    write_record(tmp_path, load_testdata("GHSA-xvch-5gv4-984h"))
    result = await vulndb.import_path(tmp_path)
    assert (result.imported, result.errors) == (2, ())


async def test_a_broken_archive_is_reported_and_the_rest_imports(vulndb: VulnerabilityDatabase,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "truncated.zip").write_bytes(b"PK\x03\x04 not really a zip")
    write_record(tmp_path, load_testdata("GHSA-xvch-5gv4-984h"))
    result = await vulndb.import_path(tmp_path)
    assert result.imported == 1
    assert [(Path(problem.file).name, problem.error.split(":")[0]) for problem in result.errors] == [
        ("truncated.zip", "unreadable zip")]


async def test_a_json_array_holds_several_records(vulndb: VulnerabilityDatabase, tmp_path: Path) -> None:
    records = [load_testdata("GHSA-35jh-r3h4-6jhm"), load_testdata("GHSA-xvch-5gv4-984h")]
    (tmp_path / "two.json").write_text(json.dumps(records), encoding="utf-8")
    assert (await vulndb.import_path(tmp_path / "two.json")).imported == 2


async def test_status_counts_advisories_per_ecosystem(vulndb: VulnerabilityDatabase) -> None:
    await vulndb.import_path(TESTDATA)
    status = await vulndb.status()
    assert status.advisories == RECORD_COUNT
    assert status.per_ecosystem == {"Alpine:v3.10": 2, "Alpine:v3.11": 3, "Alpine:v3.9": 2, "Go": 4, "PyPI": 10,
                                    "npm": 2}


async def test_reimporting_unchanged_data_counts_everything_unchanged(vulndb: VulnerabilityDatabase) -> None:
    await vulndb.import_path(TESTDATA)
    again = await vulndb.import_path(TESTDATA)
    assert (again.imported, again.unchanged) == (0, RECORD_COUNT)


async def test_small_batches_import_the_same(services: Services) -> None:
    result = await VulnerabilityDatabase(services.db, batch_size=4).import_path(TESTDATA)
    assert (result.imported, result.unchanged) == (RECORD_COUNT, 0)


async def test_a_newer_modified_replaces_the_record(vulndb: VulnerabilityDatabase, tmp_path: Path) -> None:
    await vulndb.import_path(TESTDATA)
    record = load_testdata("GHSA-35jh-r3h4-6jhm")
    record["modified"] = "2025-01-01T00:00:00Z"
    record["affected"][0]["ranges"][0]["events"][1] = {"fixed": "4.17.22"}
    result = await vulndb.import_path(write_record(tmp_path / "update", record))
    assert (result.imported, result.unchanged) == (1, 0)
    findings = await vulndb.find(Inventory(None, (Package("npm", "lodash", "4.17.21"),)))
    assert fixes(findings) == {("lodash", "CVE-2021-23337"): "4.17.22"}


async def test_an_older_copy_does_not_replace_the_record(vulndb: VulnerabilityDatabase, tmp_path: Path) -> None:
    await vulndb.import_path(TESTDATA)
    record = load_testdata("GHSA-35jh-r3h4-6jhm")
    record["modified"] = "2020-01-01T00:00:00Z"
    record["affected"][0]["ranges"][0]["events"][1] = {"fixed": "4.17.22"}
    result = await vulndb.import_path(write_record(tmp_path / "old", record))
    assert (result.imported, result.unchanged) == (0, 1)
    findings = await vulndb.find(Inventory(None, (Package("npm", "lodash", "4.17.21"),)))
    assert findings == []


async def test_an_undated_record_is_compared_by_content(vulndb: VulnerabilityDatabase, tmp_path: Path) -> None:
    await vulndb.import_path(TESTDATA)
    record = load_testdata("GO-2023-2102")  # modified 0001-01-01, like every golang/vulndb file
    record["affected"][1]["ranges"][0]["events"][1] = {"fixed": "0.18.0"}
    result = await vulndb.import_path(write_record(tmp_path / "go", record))
    assert (result.imported, result.unchanged) == (1, 0)
    findings = await vulndb.find(Inventory(None, (Package("golang", "golang.org/x/net", "v0.17.0"),)))
    assert fixes(findings) == {("golang.org/x/net", "CVE-2023-39325"): "0.18.0",
                               ("golang.org/x/net", "CVE-2023-45288"): "0.23.0"}


async def test_a_withdrawn_record_removes_the_advisory(vulndb: VulnerabilityDatabase, tmp_path: Path) -> None:
    await vulndb.import_path(TESTDATA / "GHSA-35jh-r3h4-6jhm.json")
    record = load_testdata("GHSA-35jh-r3h4-6jhm")
    record["modified"] = "2025-01-01T00:00:00Z"
    record["withdrawn"] = "2025-01-01T00:00:00Z"
    result = await vulndb.import_path(write_record(tmp_path / "withdrawn", record))
    assert (result.withdrawn, result.imported) == (1, 0)
    assert await vulndb.find(Inventory(None, (Package("npm", "lodash", "4.17.20"),))) == []


async def test_a_malformed_file_is_reported_and_skipped(vulndb: VulnerabilityDatabase, tmp_path: Path) -> None:
    source = tmp_path / "mixed"
    write_record(source, load_testdata("GHSA-35jh-r3h4-6jhm"))
    (source / "broken.json").write_text("{not json", encoding="utf-8")
    write_record(source, {"modified": "2024-01-01T00:00:00Z", "affected": []}, name="no-id")
    result = await vulndb.import_path(source)
    assert result.imported == 1
    assert result.skipped == 2
    assert [(Path(problem.file).name, problem.error.split(":")[0]) for problem in result.errors] == [
        ("broken.json", "not JSON"), ("no-id.json", "the record has no id")]


async def test_each_import_is_recorded(vulndb: VulnerabilityDatabase) -> None:
    await vulndb.import_path(TESTDATA)
    await vulndb.import_path(TESTDATA)
    last = (await vulndb.status()).last_import
    assert last is not None
    assert (last.source, last.status, last.imported, last.unchanged) == (str(TESTDATA), "Success", 0, RECORD_COUNT)
    assert last.finished_at is not None and last.finished_at >= last.started_at


async def test_progress_reaches_every_file(vulndb: VulnerabilityDatabase) -> None:
    updates: list[ImportProgress] = []
    await vulndb.import_path(TESTDATA, progress=updates.append)
    assert (updates[-1].files_done, updates[-1].files_total, updates[-1].imported) == (19, 19, 19)


async def test_a_missing_path_raises(vulndb: VulnerabilityDatabase, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await vulndb.import_path(tmp_path / "absent")


# --- matching ----------------------------------------------------------------------------------------

async def test_debian_packages_match_on_source_package_and_version(loaded: VulnerabilityDatabase) -> None:
    inventory = Inventory(OSInfo("debian", "12"), (
        Package("deb", "libc6", "2.36-9+deb12u3", source_name="glibc", source_version="2.36-9+deb12u3"),
        Package("deb", "tar", "1.34+dfsg-1.2", source_name="tar", source_version="1.34+dfsg-1.2"),
        Package("deb", "libc-bin", "2.36-9+deb12u4", source_name="glibc", source_version="2.36-9+deb12u4"),
    ))
    findings = by_id(await loaded.find(inventory))
    assert set(findings) == {("libc6", "CVE-2099-0001"), ("tar", "CVE-2099-0001")}
    assert (findings["libc6", "CVE-2099-0001"].fix_version, findings["libc6", "CVE-2099-0001"].severity) == (
        "2.36-9+deb12u4", "High")
    assert (findings["tar", "CVE-2099-0001"].fix_version, findings["tar", "CVE-2099-0001"].severity) == (
        "", "Negligible")


async def test_alpine_packages_match_on_origin_in_their_release(loaded: VulnerabilityDatabase) -> None:
    inventory = Inventory(OSInfo("alpine", "3.11.6"), (
        Package("apk", "libcrypto1.1", "1.1.1d-r2", source_name="openssl", source_version="1.1.1d-r2"),
        Package("apk", "libssl1.1", "1.1.1d-r2", source_name="openssl", source_version="1.1.1d-r2"),
        Package("apk", "busybox", "1.30.1-r1", source_name="busybox", source_version="1.30.1-r1"),
        Package("apk", "musl", "1.1.23-r1", source_name="musl", source_version="1.1.23-r1"),
        Package("apk", "ssl_client", "1.30.1-r2", source_name="busybox", source_version="1.30.1-r2"),
    ))
    assert fixes(await loaded.find(inventory)) == {
        ("libcrypto1.1", "CVE-2019-1551"): "1.1.1d-r3",
        ("libssl1.1", "CVE-2019-1551"): "1.1.1d-r3",
        ("busybox", "CVE-2019-5747"): "1.30.1-r2",
        ("musl", "CVE-2019-14697"): "1.1.23-r2",
    }


async def test_another_alpine_release_does_not_match(loaded: VulnerabilityDatabase) -> None:
    inventory = Inventory(OSInfo("alpine", "3.12.0"), (Package("apk", "busybox", "1.30.1-r1", "busybox"),))
    assert await loaded.find(inventory) == []


async def test_pypi_packages_match_by_normalised_name(loaded: VulnerabilityDatabase) -> None:
    inventory = Inventory(None, (
        Package("pypi", "urllib3", "2.0.3"), Package("pypi", "PyYAML", "5.3.1"), Package("pypi", "Jinja2", "2.11.2"),
        Package("pypi", "requests", "2.31.0"), Package("pypi", "Pillow", "10.2.0"),
    ))
    assert fixes(await loaded.find(inventory)) == {
        ("urllib3", "CVE-2023-43804"): "2.0.6",
        ("urllib3", "CVE-2023-45803"): "2.0.7",
        ("urllib3", "CVE-2024-37891"): "2.2.2",
        ("PyYAML", "CVE-2020-14343"): "5.4",
        ("Jinja2", "CVE-2024-22195"): "3.1.3",
        ("Jinja2", "CVE-2020-28493"): "2.11.3",
        ("Pillow", "CVE-2024-28219"): "10.3.0",
    }


async def test_advisories_for_one_cve_merge_into_one_finding(loaded: VulnerabilityDatabase) -> None:
    (finding,) = [f for f in await loaded.find(Inventory(None, (Package("pypi", "urllib3", "1.26.5"),)))
                  if f.id == "CVE-2023-43804"]
    assert finding.advisory_id == "GHSA-v845-jxx5-vc9f"
    assert set(finding.aliases) == {"GHSA-v845-jxx5-vc9f", "PYSEC-2023-192"}
    assert (finding.fix_version, finding.severity, finding.cvss_score) == ("1.26.17", "Medium", 5.9)


async def test_npm_packages_match(loaded: VulnerabilityDatabase) -> None:
    inventory = Inventory(None, (Package("npm", "lodash", "4.17.20"), Package("npm", "lodash-es", "4.17.15"),
                                 Package("npm", "minimist", "0.2.3"), Package("npm", "minimist", "1.2.6")))
    assert fixes(await loaded.find(inventory)) == {
        ("lodash", "CVE-2021-23337"): "4.17.21",
        ("lodash-es", "CVE-2021-23337"): "4.17.21",
        ("minimist", "CVE-2021-44906"): "0.2.4",
    }


async def test_go_modules_and_the_standard_library_match(loaded: VulnerabilityDatabase) -> None:
    inventory = Inventory(None, (
        Package("golang", "stdlib", "go1.21rc3"),
        Package("golang", "golang.org/x/net", "v0.0.0-20220722155237-a158d28d115b"),
    ))
    assert fixes(await loaded.find(inventory)) == {
        ("stdlib", "CVE-2023-29409"): "1.21.0-rc.4",
        ("stdlib", "CVE-2023-39325"): "1.21.3",
        ("stdlib", "CVE-2023-45288"): "1.21.9",
        ("golang.org/x/net", "CVE-2022-27664"): "0.0.0-20220906165146-f3363e06e74c",
        ("golang.org/x/net", "CVE-2023-39325"): "0.17.0",
        ("golang.org/x/net", "CVE-2023-45288"): "0.23.0",
    }


async def test_maven_packages_match(loaded: VulnerabilityDatabase) -> None:
    name = "org.apache.logging.log4j:log4j-core"
    inventory = Inventory(None, (Package("maven", name, "2.14.1"), Package("maven", name, "2.12.1"),
                                 Package("maven", name, "2.15.0"), Package("maven", name, "2.3")))
    findings = await loaded.find(inventory)
    assert [(f.version, f.id, f.fix_version, f.severity) for f in findings] == [
        ("2.12.1", "CVE-2021-44228", "2.12.2", "Critical"), ("2.14.1", "CVE-2021-44228", "2.15.0", "Critical")]


async def test_a_finding_carries_the_package_and_advisory_details(loaded: VulnerabilityDatabase) -> None:
    package = Package("pypi", "Pillow", "10.2.0", path="usr/lib/python3/site-packages/pillow-10.2.0.dist-info",
                      layer="sha256:abc", purl="pkg:pypi/pillow@10.2.0")
    (finding,) = await loaded.find(Inventory(None, (package,)))
    assert (finding.advisory_id, finding.package_type, finding.layer, finding.purl) == (
        "GHSA-44wm-f244-xhp3", "pypi", "sha256:abc", "pkg:pypi/pillow@10.2.0")
    assert (finding.cvss_vector, finding.cvss_score) == ("CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:U/C:H/I:H/A:H", 6.7)
    assert finding.cwe_ids == ("CWE-120", "CWE-676", "CWE-680")
    assert finding.links[0] == "https://nvd.nist.gov/vuln/detail/CVE-2024-28219"


async def test_an_unorderable_version_matches_nothing(loaded: VulnerabilityDatabase) -> None:
    assert await loaded.find(Inventory(None, (Package("golang", "golang.org/x/net", "(devel)"),))) == []


async def test_fixed_versions_match_nothing(loaded: VulnerabilityDatabase) -> None:
    inventory = Inventory(None, (Package("pypi", "urllib3", "2.2.2"), Package("golang", "stdlib", "1.22.2")))
    assert await loaded.find(inventory) == []


# --- the CLI -------------------------------------------------------------------------------------------

def test_the_cli_imports_and_reports_status(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    options = ["--database-url", database_url, "--data-dir", str(tmp_path / "data")]
    imported = runner.invoke(vulndb_app, ["import", str(TESTDATA), *options])
    assert imported.exit_code == 0, imported.output
    status = runner.invoke(vulndb_app, ["status", *options])
    assert status.exit_code == 0, status.output
    text = " ".join(status.output.split())  # Rich wraps long lines
    assert "19 advisories" in text
    assert f"last import: {TESTDATA} at" in text and "Success: 19 imported, 0 unchanged, 0 skipped" in text


def test_the_cli_exits_1_when_files_were_skipped(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("[", encoding="utf-8")
    result = CliRunner().invoke(vulndb_app, ["import", str(tmp_path / "broken.json"), "--database-url", database_url,
                                             "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 1
    assert "broken.json" in result.output

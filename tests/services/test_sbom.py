"""SBOM generation: images are pushed through /v2 with the `client` fixture, the SBOM is generated
(directly, or by the `sbom` job), and then read back the way clients read accessories: the /v2
referrers API, the accessory manifest and its layer blob."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from sqlalchemy import select, update

from image_push import push
from portside.domain.models import Project
from portside.domain.rbac import Principal, PrincipalKind
from portside.jobs.events import dispatch_events
from portside.jobs.handlers import sbom as sbom_jobs
from portside.jobs.worker import Worker
from portside.services.bundle import Services
from portside.services.sbom import SBOM_REPORT_MIME, sbom_service
from portside.store import events as event_store
from portside.store import repositories as repository_store
from portside.store.tables import manifests, projects, repositories, scan_reports
from scan_images import clean_layers, digest_of, gzip_layer, truncated, vulnerable_layers

CYCLONEDX = "application/vnd.cyclonedx+json"
SPDX = "application/spdx+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REPOSITORY = "proj/app"
EXPECTED_PURLS = {
    "pkg:apk/alpine/musl@1.1.22-r2?arch=x86_64&distro=3.10.9",
    "pkg:apk/alpine/busybox@1.30.1-r1?arch=x86_64&distro=3.10.9",
    "pkg:apk/alpine/libcrypto1.1@1.1.1d-r2?arch=x86_64&distro=3.10.9",
    "pkg:pypi/urllib3@2.0.3", "pkg:pypi/pyyaml@5.3.1", "pkg:pypi/jinja2@2.10",
    "pkg:npm/lodash@4.17.15",
}


async def project(services: Services, name: str = "proj") -> Project:
    async with services.db.read() as conn:
        found = await repository_store.find_project(conn, name)
    assert found is not None
    return found


async def referrers(client: httpx.AsyncClient, digest: str, repository: str = REPOSITORY) -> list[dict[str, Any]]:
    response = await client.get(f"/v2/{repository}/referrers/{digest}")
    assert response.status_code == 200, response.text
    manifests_found: list[dict[str, Any]] = response.json()["manifests"]
    return manifests_found


async def sbom_document(client: httpx.AsyncClient, sbom_digest: str, repository: str = REPOSITORY) -> Any:
    """The SBOM JSON of an accessory manifest: its one layer's blob."""
    manifest = (await client.get(f"/v2/{repository}/manifests/{sbom_digest}",
                                 headers={"Accept": OCI_MANIFEST})).json()
    [layer] = manifest["layers"]
    response = await client.get(f"/v2/{repository}/blobs/{layer['digest']}")
    assert response.status_code == 200
    return response.json()


async def run_sbom_jobs(services: Services) -> int:
    """Dispatch events to the SBOM subscriber and run the SBOM jobs (the lead registers them in
    jobs/kinds.py; until then the test builds its own worker)."""
    dispatched = await dispatch_events(services, sbom_jobs.SUBSCRIBERS)
    worker = Worker(services, {kind.name: kind for kind in sbom_jobs.KINDS})
    return dispatched + await worker.run_until_idle()


async def test_the_sbom_is_a_referrer_of_the_image(client: httpx.AsyncClient, services: Services) -> None:
    image = await push(client, vulnerable_layers())
    result = await sbom_service(services).generate(await project(services), "app", image, None)
    [referrer] = await referrers(client, image)
    assert (referrer["digest"], referrer["artifactType"], referrer["mediaType"]) == (result.digest, CYCLONEDX,
                                                                                     OCI_MANIFEST)


async def test_the_referrers_filter_finds_the_sbom_by_artifact_type(client: httpx.AsyncClient,
                                                                    services: Services) -> None:
    image = await push(client, vulnerable_layers())
    result = await sbom_service(services).generate(await project(services), "app", image, None)
    response = await client.get(f"/v2/{REPOSITORY}/referrers/{image}", params={"artifactType": CYCLONEDX})
    assert [entry["digest"] for entry in response.json()["manifests"]] == [result.digest]


async def test_the_accessory_has_the_empty_config_and_the_image_as_subject(client: httpx.AsyncClient,
                                                                           services: Services) -> None:
    image = await push(client, vulnerable_layers())
    result = await sbom_service(services).generate(await project(services), "app", image, None)
    manifest = (await client.get(f"/v2/{REPOSITORY}/manifests/{result.digest}",
                                 headers={"Accept": OCI_MANIFEST})).json()
    assert manifest["config"] == {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest_of(b"{}"),
                                  "size": 2}
    assert manifest["subject"]["digest"] == image
    assert [layer["mediaType"] for layer in manifest["layers"]] == [CYCLONEDX]


async def test_the_sbom_lists_the_images_packages_by_purl(client: httpx.AsyncClient, services: Services) -> None:
    image = await push(client, vulnerable_layers())
    result = await sbom_service(services).generate(await project(services), "app", image, None)
    document = await sbom_document(client, result.digest)
    assert {c["purl"] for c in document["components"] if c["type"] == "library"} == EXPECTED_PURLS


async def test_the_sbom_names_the_os_and_the_image(client: httpx.AsyncClient, services: Services) -> None:
    image = await push(client, vulnerable_layers())
    result = await sbom_service(services).generate(await project(services), "app", image, None)
    document = await sbom_document(client, result.digest)
    [os_component] = [c for c in document["components"] if c["type"] == "operating-system"]
    assert (os_component["name"], os_component["version"]) == ("alpine", "3.10.9")
    subject = document["metadata"]["component"]
    assert (subject["type"], subject["name"], subject["version"]) == ("container", REPOSITORY, image)
    assert {"name": "portside:image:architecture", "value": "amd64"} in subject["properties"]


async def test_package_licenses_are_in_the_sbom(client: httpx.AsyncClient, services: Services) -> None:
    image = await push(client, vulnerable_layers())
    result = await sbom_service(services).generate(await project(services), "app", image, None)
    document = await sbom_document(client, result.digest)
    lodash = next(c for c in document["components"] if c["name"] == "lodash")
    assert lodash["licenses"] == [{"license": {"name": "MIT"}}]


async def test_the_cyclonedx_document_is_valid_against_the_1_5_schema(client: httpx.AsyncClient,
                                                                      services: Services) -> None:
    image = await push(client, vulnerable_layers())
    result = await sbom_service(services).generate(await project(services), "app", image, None)
    errors = JsonStrictValidator(SchemaVersion.V1_5).validate_str(json.dumps(result.document))
    assert errors is None


async def test_an_spdx_sbom_lists_the_packages_with_purl_references(client: httpx.AsyncClient,
                                                                    services: Services) -> None:
    image = await push(client, vulnerable_layers())
    result = await sbom_service(services).generate(await project(services), "app", image, None, "spdx")
    assert [r["artifactType"] for r in await referrers(client, image)] == [SPDX]
    document = await sbom_document(client, result.digest)
    assert (document["spdxVersion"], document["dataLicense"]) == ("SPDX-2.3", "CC0-1.0")
    purls = {ref["referenceLocator"] for package in document["packages"] for ref in package.get("externalRefs", [])
             if package["SPDXID"] != "SPDXRef-Image"}
    assert purls == EXPECTED_PURLS
    assert document["relationships"][0] == {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                                            "relatedSpdxElement": "SPDXRef-Image"}


async def test_the_sbom_job_records_the_sbom_digest(client: httpx.AsyncClient, services: Services) -> None:
    image = await push(client, clean_layers())
    service = sbom_service(services)
    [report_id] = await service.request(_admin(), await project(services), "app", "1.0")
    assert await run_sbom_jobs(services) >= 1  # the job, plus the outbox events of the pushes
    overview = (await service.overview([image]))[image]
    [referrer] = await referrers(client, image)
    assert (overview["report_id"], overview["scan_status"], overview["sbom_digest"]) == (report_id, "Success",
                                                                                         referrer["digest"])


async def test_auto_sbom_generation_makes_an_sbom_on_push(client: httpx.AsyncClient, services: Services) -> None:
    image = await push(client, clean_layers())
    async with services.db.write() as conn:
        await conn.execute(update(projects).where(projects.c.name == "proj")
                           .values(metadata={"auto_sbom_generation": "true"}))
        row = (await conn.execute(select(manifests.c.id, repositories.c.id.label("repository_id"),
                                         repositories.c.project_id)
                                  .join(repositories, repositories.c.id == manifests.c.repository_id)
                                  .where(manifests.c.digest == image))).one()
        await event_store.add(conn, "artifact.pushed", {"manifest_id": row.id, "repository_id": row.repository_id,
                                                        "project_id": row.project_id, "digest": image})
    await run_sbom_jobs(services)
    assert [r["artifactType"] for r in await referrers(client, image)] == [CYCLONEDX]


async def test_without_auto_sbom_generation_a_push_makes_no_sbom(client: httpx.AsyncClient,
                                                                 services: Services) -> None:
    image = await push(client, clean_layers())
    async with services.db.write() as conn:
        row = (await conn.execute(select(manifests.c.id, manifests.c.repository_id)
                                  .where(manifests.c.digest == image))).one()
        project_id = (await project(services)).id
        await event_store.add(conn, "artifact.pushed", {"manifest_id": row.id, "repository_id": row.repository_id,
                                                        "project_id": project_id, "digest": image})
    await run_sbom_jobs(services)
    assert await referrers(client, image) == []


async def test_an_sbom_accessory_gets_no_sbom_of_its_own(client: httpx.AsyncClient, services: Services) -> None:
    image = await push(client, clean_layers())
    result = await sbom_service(services).generate(await project(services), "app", image, None)
    with pytest.raises(Exception, match="no SBOM can be generated"):
        await sbom_service(services).generate(await project(services), "app", result.digest, None)


async def test_a_corrupt_layer_ends_the_sbom_report_with_an_error(client: httpx.AsyncClient,
                                                                  services: Services) -> None:
    image = await push(client, [truncated(gzip_layer({"etc/os-release": b"ID=alpine\n" * 4000}))])
    await sbom_service(services).request(_admin(), await project(services), "app", "1.0")
    await run_sbom_jobs(services)
    async with services.db.read() as conn:
        row = (await conn.execute(select(scan_reports.c.status, scan_reports.c.status_message)
                                  .where(scan_reports.c.digest == image,
                                         scan_reports.c.mime_type == SBOM_REPORT_MIME))).one()
    assert row.status == "Error"
    assert "cannot be analysed" in row.status_message


def _admin() -> Principal:
    return Principal(PrincipalKind.USER, "admin", user_id=1, sysadmin=True)

"""/api/v2.0/projects/{p}: update (PUT), summary, and the /metadatas routes, in process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from projects_support import API, Accounts, add_member, audit_trail, create_project, error_of, push_image
from starlette.types import ASGIApp

from portside.services.bundle import Services


@pytest.fixture
async def accounts(services: Services, app: ASGIApp) -> AsyncIterator[Accounts]:
    async with Accounts(services, app) as made:
        yield made


async def _metadata(client: httpx.AsyncClient, project: str) -> dict[str, str]:
    response = await client.get(f"{API}/projects/{project}")
    assert response.status_code == 200, response.text
    return dict(response.json()["metadata"])


# --- update -------------------------------------------------------------------------------------

async def test_an_update_merges_metadata(client: httpx.AsyncClient) -> None:
    await create_project(client, "lab", metadata={"auto_scan": "true"})
    response = await client.put(f"{API}/projects/lab", json={"metadata": {"public": "true", "severity": "low"}})
    assert response.status_code == 200, response.text
    assert await _metadata(client, "lab") == {"auto_scan": "true", "public": "true", "severity": "low"}


async def test_a_project_admin_may_make_the_project_public(accounts: Accounts,
                                                           anonymous_client: httpx.AsyncClient) -> None:
    gina = await accounts.client("gina")
    await create_project(gina, "gina-lab")
    assert (await gina.put(f"{API}/projects/gina-lab", json={"public": True})).status_code == 200
    assert (await anonymous_client.get(f"{API}/projects/gina-lab")).status_code == 200


@pytest.mark.parametrize("role_id", [2, 4])
async def test_members_below_project_admin_cannot_update(client: httpx.AsyncClient, accounts: Accounts,
                                                          role_id: int) -> None:
    await create_project(client, "lab")
    member = await accounts.client("member")
    await add_member(client, "lab", "member", role_id)
    response = await member.put(f"{API}/projects/lab", json={"metadata": {"public": "true"}})
    assert response.status_code == 403
    assert await _metadata(client, "lab") == {"public": "false"}


async def test_non_members_cannot_find_a_private_project_to_update(client: httpx.AsyncClient,
                                                                   accounts: Accounts) -> None:
    await create_project(client, "lab")
    outsider = await accounts.client("outsider")
    assert (await outsider.put(f"{API}/projects/lab", json={"public": True})).status_code == 404


async def test_a_project_admin_cannot_change_the_storage_limit(accounts: Accounts) -> None:
    hana = await accounts.client("hana")
    await create_project(hana, "hana-lab")
    response = await hana.put(f"{API}/projects/hana-lab", json={"storage_limit": 10**12})
    assert response.status_code == 403


async def test_an_admin_changes_the_storage_limit(client: httpx.AsyncClient) -> None:
    await create_project(client, "lab")
    assert (await client.put(f"{API}/projects/lab", json={"storage_limit": 4096})).status_code == 200
    assert (await client.get(f"{API}/projects/lab/summary")).json()["quota"]["hard"] == {"storage": 4096}


async def test_an_update_with_bad_metadata_changes_nothing(client: httpx.AsyncClient) -> None:
    await create_project(client, "lab")
    response = await client.put(f"{API}/projects/lab", json={"metadata": {"public": "true", "prevent_vul": "nah"}})
    assert response.status_code == 400
    assert await _metadata(client, "lab") == {"public": "false"}


async def test_the_allowlist_must_belong_to_the_project(client: httpx.AsyncClient) -> None:
    project_id = await create_project(client, "lab")
    response = await client.put(f"{API}/projects/lab", json={
        "cve_allowlist": {"project_id": project_id + 1, "items": [{"cve_id": "CVE-1"}]}})
    assert response.status_code == 400
    assert f"project_id in cve_allowlist must be {project_id}" in error_of(response)["message"]


async def test_an_update_replaces_the_allowlist(client: httpx.AsyncClient) -> None:
    await create_project(client, "lab", cve_allowlist={"items": [{"cve_id": "CVE-1"}]})
    await client.put(f"{API}/projects/lab", json={"cve_allowlist": {"items": [{"cve_id": "CVE-2"}]}})
    assert (await client.get(f"{API}/projects/lab")).json()["cve_allowlist"]["items"] == [{"cve_id": "CVE-2"}]


async def test_updates_are_audited(client: httpx.AsyncClient, services: Services) -> None:
    project_id = await create_project(client, "lab")
    await client.put(f"{API}/projects/lab", json={"metadata": {"auto_scan": "true"}})
    assert (await audit_trail(services, project_id))[-1] == ("update", "project", "lab", "admin")


# --- summary ------------------------------------------------------------------------------------

async def test_the_summary_counts_members_by_role_and_storage(client: httpx.AsyncClient,
                                                              accounts: Accounts) -> None:
    await create_project(client, "lab", storage_limit=10**9)  # admin: projectAdmin member
    for username, role_id in (("m1", 4), ("d1", 2), ("d2", 2), ("g1", 3), ("l1", 5)):
        await accounts.create_user(username)
        await add_member(client, "lab", username, role_id)
    app_bytes = await push_image(client, "lab/app", b"a" * 1000)
    tools_bytes = await push_image(client, "lab/tools", b"b" * 300)
    copy_bytes = await push_image(client, "lab/copy", b"a" * 1000)  # its own config; the layer counts once
    summary = (await client.get(f"{API}/projects/lab/summary")).json()
    assert summary == {
        "repo_count": 3, "project_admin_count": 1, "maintainer_count": 1, "developer_count": 2, "guest_count": 1,
        "limited_guest_count": 1,
        "quota": {"hard": {"storage": 10**9}, "used": {"storage": app_bytes + tools_bytes + copy_bytes - 1000}},
    }


async def test_anonymous_summaries_show_the_repository_count_only(client: httpx.AsyncClient,
                                                                  anonymous_client: httpx.AsyncClient) -> None:
    await create_project(client, "open", public=True)
    await push_image(client, "open/app", b"layer")
    assert (await anonymous_client.get(f"{API}/projects/open/summary")).json() == {"repo_count": 1}


# --- metadatas ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["metadatas/", "metadatas"])
async def test_metadatas_lists_the_map(client: httpx.AsyncClient, path: str) -> None:
    await create_project(client, "lab", metadata={"auto_scan": "true"})
    response = await client.get(f"{API}/projects/lab/{path}")
    assert response.json() == {"auto_scan": "true", "public": "false"}


async def test_metadatas_adds_a_new_key(client: httpx.AsyncClient) -> None:
    await create_project(client, "lab")
    response = await client.post(f"{API}/projects/lab/metadatas/", json={"severity": "Critical"})
    assert response.status_code == 200, response.text
    assert await _metadata(client, "lab") == {"public": "false", "severity": "critical"}


async def test_metadatas_refuses_to_add_an_existing_key(client: httpx.AsyncClient) -> None:
    await create_project(client, "lab")
    response = await client.post(f"{API}/projects/lab/metadatas", json={"public": "true"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "CONFLICT"


async def test_one_metadata_entry_is_read(client: httpx.AsyncClient) -> None:
    await create_project(client, "lab", metadata={"auto_scan": "true"})
    assert (await client.get(f"{API}/projects/lab/metadatas/auto_scan")).json() == {"auto_scan": "true"}
    assert (await client.get(f"{API}/projects/lab/metadatas/severity")).status_code == 404


async def test_one_metadata_entry_is_set(client: httpx.AsyncClient) -> None:
    await create_project(client, "lab")
    response = await client.put(f"{API}/projects/lab/metadatas/public", json={"public": "true"})
    assert response.status_code == 200, response.text
    assert (await client.get(f"{API}/projects/lab")).json()["metadata"]["public"] == "true"


async def test_setting_an_entry_needs_a_matching_body(client: httpx.AsyncClient) -> None:
    await create_project(client, "lab")
    response = await client.put(f"{API}/projects/lab/metadatas/public", json={"auto_scan": "true"})
    assert response.status_code == 400
    assert "exactly one key/value pair" in error_of(response)["message"]


async def test_one_metadata_entry_is_deleted(client: httpx.AsyncClient) -> None:
    await create_project(client, "lab", metadata={"auto_scan": "true"})
    assert (await client.delete(f"{API}/projects/lab/metadatas/auto_scan")).status_code == 200
    assert await _metadata(client, "lab") == {"public": "false"}
    assert (await client.delete(f"{API}/projects/lab/metadatas/auto_scan")).status_code == 404


async def test_deleting_public_makes_the_project_private(client: httpx.AsyncClient) -> None:
    await create_project(client, "lab", public=True)
    await client.delete(f"{API}/projects/lab/metadatas/public")
    assert (await _metadata(client, "lab"))["public"] == "false"


async def test_developers_cannot_read_metadata(client: httpx.AsyncClient, accounts: Accounts) -> None:
    await create_project(client, "lab")
    dev = await accounts.client("dev")
    await add_member(client, "lab", "dev", 2)
    assert (await dev.get(f"{API}/projects/lab/metadatas/")).status_code == 403


async def test_maintainers_read_but_cannot_change_metadata(client: httpx.AsyncClient, accounts: Accounts) -> None:
    await create_project(client, "lab")
    keeper = await accounts.client("keeper")
    await add_member(client, "lab", "keeper", 4)
    assert (await keeper.get(f"{API}/projects/lab/metadatas/")).status_code == 200
    assert (await keeper.put(f"{API}/projects/lab/metadatas/public", json={"public": "true"})).status_code == 403

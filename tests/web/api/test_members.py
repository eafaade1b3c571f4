"""/api/v2.0/projects/{p}/members: list, add, read, change role, remove, and who may do it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from harborapi.models import ProjectMemberEntity as HarborMember
from projects_support import API, Accounts, add_member, audit_trail, create_project, error_of
from starlette.types import ASGIApp

from portside.services.bundle import Services

PROJECT_ADMIN, DEVELOPER, GUEST, MAINTAINER, LIMITED_GUEST = 1, 2, 3, 4, 5
MEMBERS = f"{API}/projects/lab/members"


@pytest.fixture
async def accounts(services: Services, app: ASGIApp) -> AsyncIterator[Accounts]:
    async with Accounts(services, app) as made:
        yield made


@pytest.fixture
async def lab(client: httpx.AsyncClient) -> int:
    """A private project `lab` the administrator created (and so is its projectAdmin member)."""
    return await create_project(client, "lab")


async def _role(client: httpx.AsyncClient, member_id: int) -> int:
    response = await client.get(f"{MEMBERS}/{member_id}")
    assert response.status_code == 200, response.text
    return int(response.json()["role_id"])


# --- the operations -----------------------------------------------------------------------------

async def test_adding_a_member_answers_201_with_its_location(client: httpx.AsyncClient, accounts: Accounts,
                                                             lab: int) -> None:
    await accounts.create_user("ivy")
    response = await client.post(MEMBERS, json={"role_id": DEVELOPER, "member_user": {"username": "ivy"}})
    assert response.status_code == 201, response.text
    member_id = response.headers["location"].rsplit("/", 1)[1]
    assert response.headers["location"] == f"{MEMBERS}/{member_id}"


async def test_a_member_has_harbors_shape(client: httpx.AsyncClient, accounts: Accounts, lab: int) -> None:
    user_id = await accounts.create_user("ivy")
    member_id = await add_member(client, "lab", "ivy", MAINTAINER)
    body = (await client.get(f"{MEMBERS}/{member_id}")).json()
    assert body == {"id": member_id, "project_id": lab, "entity_name": "ivy", "role_name": "maintainer",
                    "role_id": MAINTAINER, "entity_id": user_id, "entity_type": "u"}
    assert HarborMember.model_validate(body).entity_name == "ivy"


async def test_a_member_is_added_by_user_id(client: httpx.AsyncClient, accounts: Accounts, lab: int) -> None:
    user_id = await accounts.create_user("jack")
    response = await client.post(MEMBERS, json={"role_id": GUEST, "member_user": {"user_id": user_id}})
    member_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert (await client.get(f"{MEMBERS}/{member_id}")).json()["entity_name"] == "jack"


async def test_the_list_shows_every_member(client: httpx.AsyncClient, accounts: Accounts, lab: int) -> None:
    await accounts.create_user("kim")
    await add_member(client, "lab", "kim", LIMITED_GUEST)
    listed = (await client.get(MEMBERS)).json()
    assert [(m["entity_name"], m["role_name"]) for m in listed] == [("admin", "projectAdmin"), ("kim", "limitedGuest")]


async def test_the_list_filters_by_name_and_pages(client: httpx.AsyncClient, accounts: Accounts, lab: int) -> None:
    for username in ("ann-1", "ann-2", "bert"):
        await accounts.create_user(username)
        await add_member(client, "lab", username, GUEST)
    response = await client.get(MEMBERS, params={"entityname": "ann", "page_size": 1})
    assert [m["entity_name"] for m in response.json()] == ["ann-1"]
    assert response.headers["x-total-count"] == "2"
    assert 'rel="next"' in response.headers["link"]


async def test_a_role_is_changed(client: httpx.AsyncClient, accounts: Accounts, lab: int) -> None:
    await accounts.create_user("lee")
    member_id = await add_member(client, "lab", "lee", GUEST)
    assert (await client.put(f"{MEMBERS}/{member_id}", json={"role_id": DEVELOPER})).status_code == 200
    assert await _role(client, member_id) == DEVELOPER


async def test_a_member_is_removed(client: httpx.AsyncClient, accounts: Accounts, lab: int) -> None:
    await accounts.create_user("max")
    member_id = await add_member(client, "lab", "max", GUEST)
    assert (await client.delete(f"{MEMBERS}/{member_id}")).status_code == 200
    assert (await client.get(f"{MEMBERS}/{member_id}")).status_code == 404


async def test_a_removed_member_loses_access_at_once(client: httpx.AsyncClient, accounts: Accounts, lab: int) -> None:
    nora = await accounts.client("nora")
    member_id = await add_member(client, "lab", "nora", DEVELOPER)
    assert (await nora.get(f"{API}/projects/lab")).status_code == 200
    await client.delete(f"{MEMBERS}/{member_id}")
    assert (await nora.get(f"{API}/projects/lab")).status_code == 404


async def test_membership_changes_are_audited(client: httpx.AsyncClient, accounts: Accounts, services: Services,
                                              lab: int) -> None:
    await accounts.create_user("olga")
    member_id = await add_member(client, "lab", "olga", GUEST)
    await client.put(f"{MEMBERS}/{member_id}", json={"role_id": DEVELOPER})
    await client.delete(f"{MEMBERS}/{member_id}")
    trail = [entry for entry in await audit_trail(services, lab) if entry[1] == "member"]
    assert trail == [("create", "member", "lab/olga", "admin"), ("update", "member", "lab/olga", "admin"),
                     ("delete", "member", "lab/olga", "admin")]


# --- bad requests -------------------------------------------------------------------------------

async def test_a_user_cannot_be_added_twice(client: httpx.AsyncClient, accounts: Accounts, lab: int) -> None:
    await accounts.create_user("pia")
    await add_member(client, "lab", "pia", GUEST)
    response = await client.post(MEMBERS, json={"role_id": DEVELOPER, "member_user": {"username": "pia"}})
    assert response.status_code == 409
    assert error_of(response)["code"] == "CONFLICT"


@pytest.mark.parametrize("member_user", [{"username": "ghost"}, {"user_id": 4242}, {"user_id": 2**40}])
async def test_an_unknown_user_is_not_found(client: httpx.AsyncClient, lab: int,
                                            member_user: dict[str, object]) -> None:
    response = await client.post(MEMBERS, json={"role_id": GUEST, "member_user": member_user})
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


@pytest.mark.parametrize("body", [{"member_user": {"username": "admin"}},
                                  {"role_id": 0, "member_user": {"username": "admin"}},
                                  {"role_id": 6, "member_user": {"username": "admin"}}])
async def test_a_bad_role_is_refused(client: httpx.AsyncClient, lab: int, body: dict[str, object]) -> None:
    response = await client.post(MEMBERS, json=body)
    assert response.status_code == 400
    assert "role_id must be 1 (projectAdmin), 2 (developer), 3 (guest)" in error_of(response)["message"]


async def test_a_bad_role_change_is_refused(client: httpx.AsyncClient, accounts: Accounts, lab: int) -> None:
    await accounts.create_user("quinn")
    member_id = await add_member(client, "lab", "quinn", GUEST)
    assert (await client.put(f"{MEMBERS}/{member_id}", json={"role_id": 9})).status_code == 400
    assert await _role(client, member_id) == GUEST


async def test_groups_are_not_supported(client: httpx.AsyncClient, lab: int) -> None:
    response = await client.post(MEMBERS, json={"role_id": GUEST, "member_group": {"group_name": "astro"}})
    assert response.status_code == 400
    assert "groups are not supported" in error_of(response)["message"]


async def test_a_member_needs_a_user(client: httpx.AsyncClient, lab: int) -> None:
    response = await client.post(MEMBERS, json={"role_id": GUEST, "member_user": {}})
    assert response.status_code == 400
    assert "user_id or username" in error_of(response)["message"]


@pytest.mark.parametrize("member_id", ["9999", "0", "abc"])
async def test_an_unknown_member_id(client: httpx.AsyncClient, lab: int, member_id: str) -> None:
    assert (await client.get(f"{MEMBERS}/{member_id}")).status_code == (400 if member_id == "abc" else 404)


async def test_a_member_of_another_project_is_not_found_here(client: httpx.AsyncClient, accounts: Accounts,
                                                             lab: int) -> None:
    await create_project(client, "elsewhere")
    await accounts.create_user("rex")
    member_id = await add_member(client, "elsewhere", "rex", GUEST)
    assert (await client.delete(f"{MEMBERS}/{member_id}")).status_code == 404


# --- who may do it ------------------------------------------------------------------------------

async def _member_client(client: httpx.AsyncClient, accounts: Accounts, username: str,
                         role_id: int) -> httpx.AsyncClient:
    signed_in = await accounts.client(username)
    await add_member(client, "lab", username, role_id)
    return signed_in


async def test_a_maintainer_adds_a_developer(client: httpx.AsyncClient, accounts: Accounts, lab: int) -> None:
    keeper = await _member_client(client, accounts, "keeper", MAINTAINER)
    await accounts.create_user("newbie")
    response = await keeper.post(MEMBERS, json={"role_id": DEVELOPER, "member_user": {"username": "newbie"}})
    assert response.status_code == 201, response.text


async def test_a_maintainer_cannot_add_a_project_admin(client: httpx.AsyncClient, accounts: Accounts,
                                                       lab: int) -> None:
    keeper = await _member_client(client, accounts, "keeper", MAINTAINER)
    await accounts.create_user("boss")
    response = await keeper.post(MEMBERS, json={"role_id": PROJECT_ADMIN, "member_user": {"username": "boss"}})
    assert response.status_code == 403
    assert error_of(response) == {"code": "FORBIDDEN",
                                  "message": "only a projectAdmin can grant, change or remove the projectAdmin role"}


async def test_a_maintainer_cannot_promote_to_project_admin(client: httpx.AsyncClient, accounts: Accounts,
                                                            lab: int) -> None:
    keeper = await _member_client(client, accounts, "keeper", MAINTAINER)
    await accounts.create_user("dev")
    member_id = await add_member(client, "lab", "dev", DEVELOPER)
    assert (await keeper.put(f"{MEMBERS}/{member_id}", json={"role_id": PROJECT_ADMIN})).status_code == 403
    assert await _role(client, member_id) == DEVELOPER


async def test_a_maintainer_cannot_demote_a_project_admin(client: httpx.AsyncClient, accounts: Accounts,
                                                          lab: int) -> None:
    keeper = await _member_client(client, accounts, "keeper", MAINTAINER)
    await accounts.create_user("boss")
    boss_id = await add_member(client, "lab", "boss", PROJECT_ADMIN)
    assert (await keeper.put(f"{MEMBERS}/{boss_id}", json={"role_id": GUEST})).status_code == 403
    assert await _role(client, boss_id) == PROJECT_ADMIN


async def test_a_maintainer_cannot_remove_a_project_admin(client: httpx.AsyncClient, accounts: Accounts,
                                                          lab: int) -> None:
    keeper = await _member_client(client, accounts, "keeper", MAINTAINER)
    await accounts.create_user("boss")
    boss_id = await add_member(client, "lab", "boss", PROJECT_ADMIN)
    assert (await keeper.delete(f"{MEMBERS}/{boss_id}")).status_code == 403
    assert await _role(client, boss_id) == PROJECT_ADMIN


async def test_a_maintainer_changes_and_removes_lower_roles(client: httpx.AsyncClient, accounts: Accounts,
                                                            lab: int) -> None:
    keeper = await _member_client(client, accounts, "keeper", MAINTAINER)
    await accounts.create_user("dev")
    member_id = await add_member(client, "lab", "dev", DEVELOPER)
    assert (await keeper.put(f"{MEMBERS}/{member_id}", json={"role_id": MAINTAINER})).status_code == 200
    assert (await keeper.delete(f"{MEMBERS}/{member_id}")).status_code == 200


@pytest.mark.parametrize("role_id", [DEVELOPER, GUEST])
async def test_developers_and_guests_cannot_add_members(client: httpx.AsyncClient, accounts: Accounts, lab: int,
                                                        role_id: int) -> None:
    member = await _member_client(client, accounts, "member", role_id)
    await accounts.create_user("friend")
    response = await member.post(MEMBERS, json={"role_id": GUEST, "member_user": {"username": "friend"}})
    assert response.status_code == 403
    assert [m["entity_name"] for m in (await member.get(MEMBERS)).json()] == ["admin", "member"]


async def test_limited_guests_cannot_list_members(client: httpx.AsyncClient, accounts: Accounts, lab: int) -> None:
    member = await _member_client(client, accounts, "member", LIMITED_GUEST)
    assert (await member.get(MEMBERS)).status_code == 403


async def test_non_members_and_anonymous_callers_see_no_members(client: httpx.AsyncClient, accounts: Accounts,
                                                                anonymous_client: httpx.AsyncClient) -> None:
    await create_project(client, "lab")
    await create_project(client, "open", public=True)
    outsider = await accounts.client("outsider")
    assert (await outsider.get(MEMBERS)).status_code == 404
    assert (await anonymous_client.get(f"{API}/projects/open/members")).status_code == 401


async def test_a_project_admin_adds_another_project_admin(accounts: Accounts) -> None:
    sam = await accounts.client("sam")
    await create_project(sam, "sam-lab")
    await accounts.create_user("tess")
    response = await sam.post(f"{API}/projects/sam-lab/members",
                              json={"role_id": PROJECT_ADMIN, "member_user": {"username": "tess"}})
    assert response.status_code == 201, response.text


async def test_the_last_project_admin_cannot_leave(accounts: Accounts) -> None:
    sam = await accounts.client("sam")
    await create_project(sam, "sam-lab")
    own_id = (await sam.get(f"{API}/projects/sam-lab/members")).json()[0]["id"]
    response = await sam.delete(f"{API}/projects/sam-lab/members/{own_id}")
    assert response.status_code == 412
    assert error_of(response) == {"code": "PRECONDITION",
                                  "message": "the project sam-lab must keep at least one projectAdmin"}


async def test_the_last_project_admin_cannot_step_down(accounts: Accounts) -> None:
    sam = await accounts.client("sam")
    await create_project(sam, "sam-lab")
    own_id = (await sam.get(f"{API}/projects/sam-lab/members")).json()[0]["id"]
    assert (await sam.put(f"{API}/projects/sam-lab/members/{own_id}", json={"role_id": DEVELOPER})).status_code == 412


async def test_a_project_admin_leaves_when_another_remains(accounts: Accounts) -> None:
    sam = await accounts.client("sam")
    await create_project(sam, "sam-lab")
    own_id = (await sam.get(f"{API}/projects/sam-lab/members")).json()[0]["id"]
    await accounts.create_user("tess")
    await add_member(sam, "sam-lab", "tess", PROJECT_ADMIN)
    assert (await sam.delete(f"{API}/projects/sam-lab/members/{own_id}")).status_code == 200


async def test_an_admin_may_remove_the_last_project_admin(client: httpx.AsyncClient, accounts: Accounts) -> None:
    sam = await accounts.client("sam")
    await create_project(sam, "sam-lab")
    own_id = (await client.get(f"{API}/projects/sam-lab/members")).json()[0]["id"]
    assert (await client.delete(f"{API}/projects/sam-lab/members/{own_id}")).status_code == 200

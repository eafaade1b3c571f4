"""Tag lists and the catalog: lexical order and `n`/`last` pagination (dist-spec "Listing tags")."""

from __future__ import annotations

import httpx
import pytest
from factories import EMPTY_CONFIG, image_manifest, push_blob, push_image, put_manifest

REPO = "proj/app"
TAGS = ["v1", "V2", "1.0", "latest", "a_b", "a-b", "A", "a", "b"]
SORTED_TAGS = ["1.0", "A", "V2", "a", "a-b", "a_b", "b", "latest", "v1"]
REPOS = ["proj/zeta", "proj/alpha", "other/app", "proj/alpha/sub", "proj/beta"]


async def _tag_all(client: httpx.AsyncClient, tags: list[str] = TAGS) -> None:
    await push_blob(client, REPO, EMPTY_CONFIG)
    content = image_manifest(EMPTY_CONFIG, [])
    for tag in tags:
        assert (await put_manifest(client, REPO, tag, content)).status_code == 201


async def _follow(client: httpx.AsyncClient, url: str, key: str) -> tuple[list[str], list[str]]:
    """Every item reached by following Link headers from `url`, and the links seen."""
    items: list[str] = []
    links: list[str] = []
    while True:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        items += response.json()[key]
        link = response.headers.get("link")
        if link is None:
            return items, links
        links.append(link)
        assert link.startswith("<") and link.endswith('>; rel="next"'), link
        url = link[1:link.index(">")]


async def test_tags_list_is_sorted_in_byte_order(client: httpx.AsyncClient) -> None:
    await _tag_all(client)
    response = await client.get(f"/v2/{REPO}/tags/list")
    assert response.status_code == 200
    assert response.json() == {"name": REPO, "tags": SORTED_TAGS}
    assert response.headers["content-type"] == "application/json"


async def test_tags_list_without_n_has_no_link(client: httpx.AsyncClient) -> None:
    await _tag_all(client)
    response = await client.get(f"/v2/{REPO}/tags/list")
    assert "link" not in response.headers


async def test_tags_list_with_n_returns_first_page_and_link(client: httpx.AsyncClient) -> None:
    await _tag_all(client)
    response = await client.get(f"/v2/{REPO}/tags/list", params={"n": 2})
    assert response.status_code == 200
    assert response.json()["tags"] == ["1.0", "A"]
    assert response.headers["link"] == f'</v2/{REPO}/tags/list?n=2&last=A>; rel="next"'


async def test_tags_list_with_last_starts_after_it(client: httpx.AsyncClient) -> None:
    await _tag_all(client)
    response = await client.get(f"/v2/{REPO}/tags/list", params={"n": 3, "last": "a"})
    assert response.json()["tags"] == ["a-b", "a_b", "b"]
    assert response.headers["link"] == f'</v2/{REPO}/tags/list?n=3&last=b>; rel="next"'


async def test_tags_list_with_last_only_returns_the_rest(client: httpx.AsyncClient) -> None:
    await _tag_all(client)
    response = await client.get(f"/v2/{REPO}/tags/list", params={"last": "b"})
    assert response.json()["tags"] == ["latest", "v1"]
    assert "link" not in response.headers


async def test_tags_list_with_last_not_a_tag_starts_after_its_position(client: httpx.AsyncClient) -> None:
    await _tag_all(client)
    response = await client.get(f"/v2/{REPO}/tags/list", params={"n": 2, "last": "B"})
    assert response.json()["tags"] == ["V2", "a"]


async def test_following_tag_links_visits_every_tag_once(client: httpx.AsyncClient) -> None:
    await _tag_all(client)
    tags, links = await _follow(client, f"/v2/{REPO}/tags/list?n=2", "tags")
    assert tags == SORTED_TAGS
    assert len(links) == 4


async def test_last_page_exactly_full_has_no_link(client: httpx.AsyncClient) -> None:
    await _tag_all(client)
    response = await client.get(f"/v2/{REPO}/tags/list", params={"n": 3, "last": "a_b"})
    assert response.json()["tags"] == ["b", "latest", "v1"]
    assert "link" not in response.headers


async def test_tags_list_with_n_larger_than_count_returns_all_without_link(client: httpx.AsyncClient) -> None:
    await _tag_all(client)
    response = await client.get(f"/v2/{REPO}/tags/list", params={"n": 100})
    assert response.json()["tags"] == SORTED_TAGS
    assert "link" not in response.headers


async def test_tags_list_with_n_0_returns_empty_list(client: httpx.AsyncClient) -> None:
    await _tag_all(client)
    response = await client.get(f"/v2/{REPO}/tags/list", params={"n": 0})
    assert response.status_code == 200
    assert response.json() == {"name": REPO, "tags": []}
    assert "link" not in response.headers


@pytest.mark.parametrize("n", ["abc", "-1", "1.5", "9" * 30, "\u00b2", "\u0663"])
async def test_tags_list_with_invalid_n_returns_400_pagination_number_invalid(client: httpx.AsyncClient,
                                                                               n: str) -> None:
    await _tag_all(client, ["v1"])
    response = await client.get(f"/v2/{REPO}/tags/list", params={"n": n})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"


async def test_tags_list_with_n_abc_returns_full_error_body(client: httpx.AsyncClient) -> None:
    await _tag_all(client, ["v1"])
    response = await client.get(f"/v2/{REPO}/tags/list", params={"n": "abc"})
    assert response.json() == {"errors": [{"code": "PAGINATION_NUMBER_INVALID",
                                           "message": "n must be a non-negative integer, not 'abc'"}]}


async def test_tags_list_of_unknown_repository_returns_404_name_unknown(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/proj/nothing/tags/list")
    assert response.status_code == 404
    assert response.json() == {"errors": [{"code": "NAME_UNKNOWN",
                                           "message": "repository 'proj/nothing' not known to registry"}]}


async def test_tags_list_of_repository_without_tags_is_empty(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"only a blob")
    response = await client.get(f"/v2/{REPO}/tags/list")
    assert response.status_code == 200
    assert response.json() == {"name": REPO, "tags": []}


async def test_tags_of_other_repositories_are_not_listed(client: httpx.AsyncClient) -> None:
    await push_image(client, "proj/other", "elsewhere")
    await _tag_all(client, ["here"])
    response = await client.get(f"/v2/{REPO}/tags/list")
    assert response.json()["tags"] == ["here"]


async def test_tags_list_of_multi_level_repository(client: httpx.AsyncClient) -> None:
    await push_image(client, "proj/repo/sub", "v1")
    response = await client.get("/v2/proj/repo/sub/tags/list")
    assert response.json() == {"name": "proj/repo/sub", "tags": ["v1"]}


async def _make_repositories(client: httpx.AsyncClient) -> None:
    for repo in REPOS:
        await push_blob(client, repo, b"blob of " + repo.encode())


async def test_catalog_lists_repositories_sorted(client: httpx.AsyncClient) -> None:
    await _make_repositories(client)
    response = await client.get("/v2/_catalog")
    assert response.status_code == 200
    assert response.json() == {"repositories": sorted(REPOS)}
    assert "link" not in response.headers


async def test_catalog_of_empty_registry_is_empty(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/_catalog")
    assert response.status_code == 200
    assert response.json() == {"repositories": []}


async def test_catalog_with_n_returns_first_page_and_link(client: httpx.AsyncClient) -> None:
    await _make_repositories(client)
    response = await client.get("/v2/_catalog", params={"n": 2})
    assert response.json()["repositories"] == ["other/app", "proj/alpha"]
    assert response.headers["link"] == '</v2/_catalog?n=2&last=proj%2Falpha>; rel="next"'


async def test_catalog_with_last_starts_after_it(client: httpx.AsyncClient) -> None:
    await _make_repositories(client)
    response = await client.get("/v2/_catalog", params={"n": 2, "last": "proj/alpha"})
    assert response.json()["repositories"] == ["proj/alpha/sub", "proj/beta"]


async def test_following_catalog_links_visits_every_repository_once(client: httpx.AsyncClient) -> None:
    await _make_repositories(client)
    repositories, links = await _follow(client, "/v2/_catalog?n=2", "repositories")
    assert repositories == sorted(REPOS)
    assert len(links) == 2


async def test_catalog_with_n_0_returns_empty_list(client: httpx.AsyncClient) -> None:
    await _make_repositories(client)
    response = await client.get("/v2/_catalog", params={"n": 0})
    assert response.status_code == 200
    assert response.json() == {"repositories": []}
    assert "link" not in response.headers


async def test_catalog_with_invalid_n_returns_400_pagination_number_invalid(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/_catalog", params={"n": "abc"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"

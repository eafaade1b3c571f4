"""The vulnerability pull policy (`prevent_vul` + `severity`) and CVE allowlists, asked directly
(`PullPolicy.check_pull`), on images scanned against the real advisories in shared/testdata/osv."""

from __future__ import annotations

import httpx
import pytest

from portside.core.clock import utcnow
from portside.domain.errors import BadRequest, PolicyViolation
from portside.domain.models import Repository
from portside.domain.rbac import Principal, PrincipalKind, RobotGrant
from portside.services.bundle import Services
from portside.services.policies import PullPolicy
from portside.store import repositories as repository_store
from scan_images import HIGH_OR_WORSE
from scan_support import artifact_url, import_testdata, push_clean, push_vulnerable, scan, set_metadata

REPO = "astro/app"
MEMBER = Principal(PrincipalKind.USER, "member", user_id=99)
POLICY = "due to configured policy in 'Prevent images with vulnerability severity of \"High\" or higher from running.'"


@pytest.fixture(autouse=True)
async def vulnerability_database(services: Services) -> None:
    await import_testdata(services)


async def _repository(services: Services) -> Repository:
    async with services.db.read() as conn:
        repository = await repository_store.find_repository(conn, REPO)
    assert repository is not None
    return repository


async def _refusal(services: Services, digest: str, principal: Principal = MEMBER) -> str | None:
    """The policy's message for pulling `digest`, or None when allowed (metadata read by the policy)."""
    try:
        await PullPolicy(services.db).check_pull(principal, await _repository(services), digest)
    except PolicyViolation as violation:
        assert (violation.code, violation.status) == ("PROJECTPOLICYVIOLATION", 412)
        return violation.message
    return None


async def _scanned_vulnerable(client: httpx.AsyncClient, services: Services, **metadata: str) -> str:
    pushed = await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    await set_metadata(services, "astro", prevent_vul="true", severity="high", **metadata)
    return pushed.digest


async def test_vulnerable_image_is_refused_with_harbors_message(client: httpx.AsyncClient,
                                                                services: Services) -> None:
    digest = await _scanned_vulnerable(client, services)
    assert await _refusal(services, digest) == (
        f"current image with 9 vulnerabilities cannot be pulled {POLICY} To continue with pull, please contact "
        "your project administrator to exempt matched vulnerabilities through configuring the CVE allowlist.")


async def test_unscanned_image_is_refused(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_clean(client, REPO)
    await set_metadata(services, "astro", prevent_vul="true", severity="high")
    assert await _refusal(services, pushed.digest) == (
        f"current image without vulnerability scanning cannot be pulled {POLICY} To continue with pull, please "
        "contact your project administrator for help.")


async def test_image_with_a_pending_scan_is_refused(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_clean(client, REPO)
    assert (await client.post(f"{artifact_url(REPO, '1.0')}/scan")).status_code == 202
    await set_metadata(services, "astro", prevent_vul="true", severity="high")
    message = await _refusal(services, pushed.digest)
    assert message is not None and message.startswith('current image with "Pending" status of vulnerability scanning')


async def test_policy_off_lets_an_unscanned_image_through(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_clean(client, REPO)
    assert await _refusal(services, pushed.digest) is None


async def test_clean_scanned_image_passes(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_clean(client, REPO)
    await scan(client, services, REPO)
    await set_metadata(services, "astro", prevent_vul="true", severity="low")
    assert await _refusal(services, pushed.digest) is None


async def test_threshold_above_the_worst_finding_passes(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    await set_metadata(services, "astro", prevent_vul="true", severity="critical")
    await PullPolicy(services.db).set_allowlist((await _repository(services)).project_id, ["CVE-2020-14343"], None)
    assert await _refusal(services, pushed.digest) is None


async def test_allowlisting_the_high_findings_lets_it_through(client: httpx.AsyncClient, services: Services) -> None:
    digest = await _scanned_vulnerable(client, services)
    await PullPolicy(services.db).set_allowlist((await _repository(services)).project_id, HIGH_OR_WORSE, None)
    assert await _refusal(services, digest) is None


async def test_allowlisting_some_high_findings_counts_the_rest(client: httpx.AsyncClient, services: Services) -> None:
    digest = await _scanned_vulnerable(client, services)
    await PullPolicy(services.db).set_allowlist((await _repository(services)).project_id, ["CVE-2020-14343"], None)
    message = await _refusal(services, digest)
    assert message is not None and message.startswith("current image with 8 vulnerabilities cannot be pulled")


async def test_expired_allowlist_is_ignored(client: httpx.AsyncClient, services: Services) -> None:
    digest = await _scanned_vulnerable(client, services)
    expired = int(utcnow().timestamp()) - 60
    await PullPolicy(services.db).set_allowlist((await _repository(services)).project_id, HIGH_OR_WORSE, expired)
    message = await _refusal(services, digest)
    assert message is not None and message.startswith("current image with 9 vulnerabilities")


async def test_system_allowlist_applies_when_the_project_reuses_it(client: httpx.AsyncClient,
                                                                   services: Services) -> None:
    digest = await _scanned_vulnerable(client, services, reuse_sys_cve_allowlist="true")
    await PullPolicy(services.db).set_allowlist(None, HIGH_OR_WORSE, None)
    assert await _refusal(services, digest) is None


async def test_system_allowlist_is_ignored_without_reuse(client: httpx.AsyncClient, services: Services) -> None:
    digest = await _scanned_vulnerable(client, services)
    await PullPolicy(services.db).set_allowlist(None, HIGH_OR_WORSE, None)
    assert await _refusal(services, digest) is not None


async def test_allowlist_kept_in_project_metadata_applies(client: httpx.AsyncClient, services: Services) -> None:
    """The projects API currently stores a project's allowlist in its metadata map."""
    digest = await _scanned_vulnerable(client, services, cve_allowlist='{"items": ["CVE-2020-14343", '
                                                                      '"CVE-2021-23337"], "expires_at": null}')
    assert await _refusal(services, digest) is None


async def test_system_administrator_is_never_refused(client: httpx.AsyncClient, services: Services) -> None:
    digest = await _scanned_vulnerable(client, services)
    admin = Principal(PrincipalKind.USER, "admin", user_id=1, sysadmin=True)
    assert await _refusal(services, digest, admin) is None


async def test_scanner_robot_is_never_refused(client: httpx.AsyncClient, services: Services) -> None:
    digest = await _scanned_vulnerable(client, services)
    grant = RobotGrant("project", "astro", frozenset({("repository", "scanner-pull")}))
    robot = Principal(PrincipalKind.ROBOT, "robot$astro+scanner", robot_id=7, robot_grants=(grant,))
    assert await _refusal(services, digest, robot) is None


async def test_pulling_robot_without_scanner_pull_is_refused(client: httpx.AsyncClient, services: Services) -> None:
    digest = await _scanned_vulnerable(client, services)
    grant = RobotGrant("project", "astro", frozenset({("repository", "pull")}))
    robot = Principal(PrincipalKind.ROBOT, "robot$astro+ci", robot_id=8, robot_grants=(grant,))
    assert await _refusal(services, digest, robot) is not None


async def test_invalid_allowlist_expiry_is_refused(services: Services) -> None:
    with pytest.raises(BadRequest, match="expires_at"):
        await PullPolicy(services.db).set_allowlist(None, ["CVE-2021-23337"], -5)

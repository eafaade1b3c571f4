"""The audit recorder: buffered writes, retention purge driven by Settings, query parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portside.core.config import Settings
from portside.domain.errors import BadRequest
from portside.services.audit import Actor, audit_criteria
from portside.services.bundle import Services
from portside.store import audit as audit_store
from portside.store.audit import AuditCriteria, TextMatch

RETENTION_DAYS = 30


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings with a 30-day audit retention."""
    return settings.model_copy(update={"audit_retention_days": RETENTION_DAYS})


async def stored_resources(services: Services) -> list[str]:
    async with services.db.read() as conn:
        entries, _ = await audit_store.list_entries(conn, AuditCriteria(newest_first=False), limit=100)
    return [entry.resource for entry in entries]


async def insert_aged(services: Services, resource: str, age: timedelta) -> None:
    row = {"op_time": datetime.now(UTC) - age, "username": "admin", "operation": "create",
           "resource_type": "artifact", "resource": resource, "project_id": None, "ip_address": "",
           "user_agent": "", "status": "SUCCESS", "description": ""}
    async with services.db.write() as conn:
        await audit_store.add_many(conn, [row])


async def test_recorded_entries_wait_for_a_flush(services: Services) -> None:
    services.audit.record(Actor("admin"), "create", "project", "team")
    assert await stored_resources(services) == []
    assert await services.audit.flush() == 1
    assert await stored_resources(services) == ["team"]


async def test_a_flush_with_nothing_queued_writes_nothing(services: Services) -> None:
    assert await services.audit.flush() == 0


async def test_search_lists_entries_recorded_just_before(services: Services) -> None:
    services.audit.record(Actor("admin", ip_address="192.0.2.1", user_agent="curl/8"), "pull", "artifact", "p/r:v1")
    entries, total = await services.audit.search(AuditCriteria(), offset=0, limit=10)
    assert total == 1
    assert (entries[0].username, entries[0].ip_address, entries[0].user_agent) == ("admin", "192.0.2.1", "curl/8")


async def test_a_failed_operation_is_stored_as_failure(services: Services) -> None:
    services.audit.record(None, "delete", "artifact", "p/r:v1", success=False)
    [entry], _ = await services.audit.search(AuditCriteria(), offset=0, limit=10)
    assert (entry.username, entry.status) == ("system", "FAILURE")


async def test_purge_deletes_entries_older_than_the_retention(services: Services) -> None:
    await insert_aged(services, "old", timedelta(days=RETENTION_DAYS, hours=1))
    await insert_aged(services, "recent", timedelta(days=RETENTION_DAYS - 1))
    assert await services.audit.purge() == 1
    assert await stored_resources(services) == ["recent"]


async def test_purge_with_nothing_old_deletes_nothing(services: Services) -> None:
    await insert_aged(services, "today", timedelta(hours=1))
    assert await services.audit.purge() == 0
    assert await stored_resources(services) == ["today"]


def test_criteria_read_harbors_time_format_as_utc() -> None:
    criteria = audit_criteria('op_time=["2020-04-09 02:36:00"~"2020-04-10 02:36:00"]', None)
    assert (criteria.since, criteria.until) == (datetime(2020, 4, 9, 2, 36, tzinfo=UTC),
                                                datetime(2020, 4, 10, 2, 36, tzinfo=UTC))


def test_criteria_convert_offset_times_to_utc() -> None:
    criteria = audit_criteria("op_time=[2020-04-09T04:36:00+02:00~]", None)
    assert (criteria.since, criteria.until) == (datetime(2020, 4, 9, 2, 36, tzinfo=UTC), None)


def test_criteria_map_text_terms() -> None:
    criteria = audit_criteria("username=bob,operation={pull delete},resource=~lab/", "op_time")
    assert criteria.text == {"username": TextMatch(any_of=("bob",)),
                             "operation": TextMatch(any_of=("pull", "delete")),
                             "resource": TextMatch(contains="lab/")}
    assert criteria.newest_first is False


def test_criteria_reject_an_all_of_list_for_a_text_key() -> None:
    with pytest.raises(BadRequest):
        audit_criteria("operation=(pull delete)", None)

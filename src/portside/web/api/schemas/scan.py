"""Request and response models of the scan API (Harbor's ScanType, Schedule, ScheduleObj,
CVEAllowlist, CVEAllowlistItem, Stats swagger definitions, exact JSON field names)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from portside.domain.vulnerability_report import harbor_time
from portside.services.policies import Allowlist


class ScanType(BaseModel):
    scan_type: Literal["vulnerability", "sbom"] = "vulnerability"


class ScheduleObj(BaseModel):
    type: Literal["Hourly", "Daily", "Weekly", "Custom", "Manual", "None", "Schedule"]
    cron: str | None = Field(default=None, max_length=64)


class Schedule(BaseModel):
    """The body of POST/PUT /system/scanAll/schedule (read-only fields are ignored)."""

    schedule: ScheduleObj
    parameters: dict[str, object] | None = None


class CVEAllowlistItem(BaseModel):
    cve_id: str = Field(max_length=64)


class CVEAllowlistReq(BaseModel):
    """PUT /system/CVEAllowlist; `id`, `project_id` and the times are read-only and ignored."""

    items: list[CVEAllowlistItem] = Field(default_factory=list, max_length=1000)
    expires_at: int | None = None


class Stats(BaseModel):
    total: int
    completed: int
    metrics: dict[str, int]
    ongoing: bool
    trigger: Literal["Manual", "Schedule", "Event"] | None = None


def allowlist_json(allowlist: Allowlist) -> dict[str, object]:
    """Harbor's CVEAllowlist JSON (`project_id` 0 for the system's)."""
    value: dict[str, object] = {"id": allowlist.id, "project_id": allowlist.project_id,
                                "expires_at": allowlist.expires_at,
                                "items": [{"cve_id": cve_id} for cve_id in allowlist.cve_ids]}
    if allowlist.creation_time is not None:
        value["creation_time"] = harbor_time(allowlist.creation_time)
    if allowlist.update_time is not None:
        value["update_time"] = harbor_time(allowlist.update_time)
    return value

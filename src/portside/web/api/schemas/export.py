"""Harbor's scan data export models (swagger: ScanDataExportRequest, ScanDataExportJob,
ScanDataExportExecution, ScanDataExportExecutionList), exact JSON field names."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from portside.services.cve_export import Criteria, parse_list


class ScanDataExportRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    job_name: str = Field(default="", max_length=255)
    projects: list[int] = Field(default_factory=list, max_length=1000)
    labels: list[int] = Field(default_factory=list, max_length=1000)
    repositories: str | None = Field(default=None, max_length=8192)
    cveIds: str | None = Field(default=None, max_length=65536)  # noqa: N815 - Harbor's field name
    tags: str | None = Field(default=None, max_length=8192)

    def to_criteria(self) -> Criteria:
        return Criteria(job_name=self.job_name, project_ids=tuple(self.projects), label_ids=tuple(self.labels),
                        repositories=parse_list(self.repositories), cve_ids=parse_list(self.cveIds),
                        tags=parse_list(self.tags))


class ScanDataExportJob(BaseModel):
    id: int

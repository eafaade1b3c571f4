"""Audit log models, with Harbor's JSON field names (swagger AuditLog, AuditLogExt, AuditLogEventType)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from portside.store.audit import AuditEntry


class AuditLog(BaseModel):
    """Harbor's AuditLog, plus what Portside also records (the user guide's audit entry):
    the client's IP address and User-Agent and whether it succeeded (SUCCESS or FAILURE)."""

    id: int
    username: str
    resource: str
    resource_type: str
    operation: str
    op_time: datetime
    ip_address: str
    user_agent: str
    status: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditLog:
        return cls(id=entry.id, username=entry.username, resource=entry.resource,
                   resource_type=entry.resource_type, operation=entry.operation, op_time=entry.op_time,
                   ip_address=entry.ip_address, user_agent=entry.user_agent, status=entry.status)


class AuditLogExt(BaseModel):
    id: int
    username: str
    resource: str
    resource_type: str
    operation: str
    operation_description: str
    operation_result: bool
    op_time: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditLogExt:
        description = entry.description or f"{entry.operation} {entry.resource_type} {entry.resource}"
        return cls(id=entry.id, username=entry.username, resource=entry.resource,
                   resource_type=entry.resource_type, operation=entry.operation,
                   operation_description=description, operation_result=entry.status == "SUCCESS",
                   op_time=entry.op_time)


class AuditLogEventType(BaseModel):
    event_type: str

"""Harbor API routes: auditlogs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["auditlogs"])

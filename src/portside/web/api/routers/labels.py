"""Harbor API routes: labels."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["labels"])

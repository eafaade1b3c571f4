"""Compare the API we serve with Harbor's swagger: which operations (by operationId) match.

Used by the contract test and by `scripts/harbor_compat.py`, which writes
docs/harbor-compatibility.md. Paths are compared with Harbor's base path and
parameter names, so `/projects/{project_name_or_id}/members/{mid}` matches only
if we kept Harbor's names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head")
#: Routes Portside serves beyond Harbor's swagger, on purpose.
EXTENSIONS = {
    ("post", "/users/current"),  # the user guide's "get authentication token" call
    ("get", "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan/overview"),
}


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str  # without the /api/v2.0 base
    operation_id: str
    tag: str


def harbor_operations(swagger_path: Path) -> list[Operation]:
    """Every operation in Harbor's swagger file."""
    spec: dict[str, Any] = yaml.safe_load(swagger_path.read_text())
    operations = []
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                entry = item[method]
                operations.append(Operation(method, path, entry.get("operationId", ""),
                                            (entry.get("tags") or ["other"])[0]))
    return operations


def served_routes(openapi: dict[str, Any], prefix: str = "/api/v2.0") -> set[tuple[str, str]]:
    """(method, path without prefix) for every route in our OpenAPI document."""
    routes = set()
    for path, item in openapi.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for method in HTTP_METHODS:
            if method in item:
                routes.add((method, path[len(prefix):] or "/"))
    return routes


def _normal(path: str) -> str:
    return path.rstrip("/") or "/"


def compare(harbor: list[Operation], served: set[tuple[str, str]]) -> tuple[list[Operation], list[Operation],
                                                                              set[tuple[str, str]]]:
    """(served Harbor operations, missing Harbor operations, served routes Harbor does not have)."""
    normal_served = {(m, _normal(p)) for m, p in served}
    hits = [op for op in harbor if (op.method, _normal(op.path)) in normal_served]
    misses = [op for op in harbor if (op.method, _normal(op.path)) not in normal_served]
    known = {(op.method, _normal(op.path)) for op in harbor}
    extra = {(m, p) for m, p in normal_served if (m, p) not in known}
    return hits, misses, extra

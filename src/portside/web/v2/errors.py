"""The one place /v2 errors are rendered: `{"errors":[{code,message,detail}]}`."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from portside.domain.errors import RegistryError

API_VERSION_HEADER = {"Docker-Distribution-API-Version": "registry/2.0"}


def error_response(error: RegistryError, *, method: str) -> Response:
    """The spec's error body (none for HEAD) with the error's status and headers."""
    item: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.detail is not None:
        item["detail"] = error.detail
    headers = {**API_VERSION_HEADER, **error.headers}
    if method == "HEAD":
        return Response(status_code=error.status, headers=headers)
    body = json.dumps({"errors": [item]}).encode()
    return Response(body, status_code=error.status, media_type="application/json", headers=headers)

"""Logging set-up: plain lines on stderr. Secrets are never passed to loggers."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str, *, access_log: bool) -> None:
    """Root handler on stderr at `level`; the access logger on or off."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("portside.access").disabled = not access_log
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))

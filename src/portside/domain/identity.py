"""Naming and secret rules for users, projects and robots (Harbor's rules)."""

from __future__ import annotations

import re

from portside.domain.errors import BadRequest

PROJECT_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
USERNAME_RE = re.compile(r"^[^\s#%&*+,/:;<=>?@\\^`{|}~\"']{1,255}$")
ROBOT_PREFIX = "robot$"
PROJECT_NAME_RULE = (
    "project names are 1 to 255 characters: lowercase letters and digits, separated by single "
    "'.', '_' or '-' (for example myteam-radio-analysis)"
)
SECRET_RULE = "8 to 128 characters with at least one uppercase letter, one lowercase letter and one digit"


def validate_project_name(name: str) -> str:
    """`name` if Harbor would accept it as a project name; raises BadRequest citing the rule."""
    if not name or len(name) > 255 or not PROJECT_NAME_RE.match(name):
        raise BadRequest(f"invalid project name {name[:80]!r}: {PROJECT_NAME_RULE}")
    return name


def validate_username(name: str) -> str:
    """`name` if it can be a user name (no spaces or URL-special characters, not a robot name)."""
    if not USERNAME_RE.match(name) or name.startswith(ROBOT_PREFIX):
        raise BadRequest(f"invalid user name {name[:80]!r}: no spaces or special characters, at most 255")
    return name


def validate_secret(secret: str, what: str = "password") -> str:
    """`secret` if it meets the password policy; raises BadRequest naming the rule."""
    ok = (8 <= len(secret) <= 128 and any(c.isupper() for c in secret)
          and any(c.islower() for c in secret) and any(c.isdigit() for c in secret))
    if not ok:
        raise BadRequest(f"the {what} must be {SECRET_RULE}")
    return secret

"""The portal's URLs for projects, repositories and artifacts (names kept readable: `/` and `:` stay)."""

from __future__ import annotations

from urllib.parse import quote


def path_quote(value: str) -> str:
    """A name for a URL path, keeping `/` (repository names) and `:` (digests)."""
    return quote(value, safe="/:@")


def project_path(name: str, tab: str = "") -> str:
    return f"/harbor/projects/{path_quote(name)}" + (f"/{tab}" if tab else "")


def repository_path(repository_name: str) -> str:
    """`/harbor/projects/<p>/repositories/<rest>` of a full repository name `<p>/<rest>`."""
    project, _, rest = repository_name.partition("/")
    return f"{project_path(project)}/repositories/{path_quote(rest)}"


def artifact_path(repository_name: str, reference: str) -> str:
    project, _, rest = repository_name.partition("/")
    return f"{project_path(project)}/artifacts/{path_quote(rest)}/{path_quote(reference)}"

"""Which files of a layer the analysis reads, and how layer paths are normalised.

Only regular files are ever read; a file is read only if its path (and, for executables, its
mode) names one of the parsers below. Everything else is skipped without touching its data.
"""

from __future__ import annotations

import enum
import posixpath

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


class FileKind(enum.Enum):
    OS_RELEASE = "os-release"
    DPKG_STATUS = "dpkg-status"
    DPKG_FILE_LIST = "dpkg-file-list"
    APK_INSTALLED = "apk-installed"
    RPM_SQLITE = "rpm-sqlite"
    RPM_UNSUPPORTED = "rpm-unsupported"
    PYTHON_METADATA = "python-metadata"
    NPM_PACKAGE = "npm-package"
    JAVA_ARCHIVE = "java-archive"
    EXECUTABLE = "executable"


OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release", "etc/debian_version", "etc/alpine-release")
DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_DIR = "var/lib/dpkg/status.d/"
DPKG_INFO_DIR = "var/lib/dpkg/info/"
APK_INSTALLED_PATHS = frozenset({"lib/apk/db/installed", "usr/lib/apk/db/installed"})
_RPM_DIRS = ("var/lib/rpm/", "usr/lib/sysimage/rpm/", "usr/share/rpm/")
JAVA_ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par")
_EXECUTABLE_BITS = 0o111


def normalise_member_path(name: str) -> str | None:
    """The path of a tar member relative to the image root, or None if it escapes the root.

    Leading `/` and `./` are dropped (runtimes apply layers relative to the root, as Trivy
    reads them); `..` that would climb above the root makes the entry unusable. Undecodable
    bytes (kept by tarfile as surrogates) become U+FFFD so results stay valid UTF-8.
    """
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    path = posixpath.normpath(text.lstrip("/")) if text.strip("/") else "."
    if path == ".." or path.startswith("../"):
        return None
    return "" if path == "." else path


def whiteout_target(path: str) -> tuple[str, bool] | None:
    """For a whiteout entry, `(hidden path, is_opaque)`; None for an ordinary entry.

    `dir/.wh.name` hides `dir/name`; `dir/.wh..wh..opq` hides everything lower layers put in
    `dir` (`is_opaque`)."""
    directory, base = posixpath.split(path)
    if base == OPAQUE_MARKER:
        return directory, True
    if base.startswith(WHITEOUT_PREFIX) and len(base) > len(WHITEOUT_PREFIX):
        return posixpath.join(directory, base[len(WHITEOUT_PREFIX):]), False
    return None


def is_npm_package_root(path: str) -> bool:
    """A package.json that names an installed package, not a helper inside one.

    Below the last `node_modules/` only `name/package.json` or `@scope/name/package.json`
    count (`rxjs/ajax/package.json` is a sub-path helper); outside node_modules every
    package.json counts (the application itself)."""
    parts = path.split("/")
    below = [i for i, part in enumerate(parts) if part == "node_modules"]
    if not below:
        return True
    rest = parts[below[-1] + 1:]
    if len(rest) == 2:
        return not rest[0].startswith("@")
    return len(rest) == 3 and rest[0].startswith("@") and len(rest[0]) > 1


def _is_python_metadata(path: str) -> bool:
    directory, base = posixpath.split(path)
    parent = posixpath.basename(directory)
    if base == "METADATA":
        return parent.endswith((".dist-info", ".egg-info"))
    if base == "PKG-INFO":
        return parent.endswith(".egg-info") or parent == "EGG-INFO"
    return base.endswith(".egg-info")  # a distutils egg-info file (not a directory)


def _dpkg_kind(path: str) -> FileKind | None:
    if path == DPKG_STATUS:
        return FileKind.DPKG_STATUS
    if path.startswith(DPKG_STATUS_DIR) and "/" not in path[len(DPKG_STATUS_DIR):]:
        return FileKind.DPKG_FILE_LIST if path.endswith(".md5sums") else FileKind.DPKG_STATUS
    if path.startswith(DPKG_INFO_DIR) and path.endswith((".list", ".md5sums")):
        return FileKind.DPKG_FILE_LIST if "/" not in path[len(DPKG_INFO_DIR):] else None
    return None


def _rpm_kind(path: str) -> FileKind | None:
    directory, base = posixpath.split(path)
    if directory + "/" not in _RPM_DIRS:
        return None
    if base == "rpmdb.sqlite":
        return FileKind.RPM_SQLITE
    if base in ("Packages", "Packages.db"):
        return FileKind.RPM_UNSUPPORTED
    return None


def classify(path: str, mode: int) -> FileKind | None:
    """The parser for the regular file at `path` with permission bits `mode`, if any."""
    if path in OS_RELEASE_PATHS:
        return FileKind.OS_RELEASE
    if path in APK_INSTALLED_PATHS:
        return FileKind.APK_INSTALLED
    kind = _dpkg_kind(path) or _rpm_kind(path)
    if kind is not None:
        return kind
    if _is_python_metadata(path):
        return FileKind.PYTHON_METADATA
    if posixpath.basename(path) == "package.json":
        return FileKind.NPM_PACKAGE if is_npm_package_root(path) else None
    if path.lower().endswith(JAVA_ARCHIVE_SUFFIXES):
        return FileKind.JAVA_ARCHIVE
    if mode & _EXECUTABLE_BITS:
        return FileKind.EXECUTABLE
    return None

"""Which OSV ecosystem and package name an installed package is looked up under.

OS packages are keyed on their distribution release and *source* package (Debian source
package, Alpine origin, source rpm), language packages on their registry:

    deb + debian 12          -> ("Debian:12", source name)
    deb + ubuntu 22.04       -> ("Ubuntu:22.04:LTS", source name)   (LTS: even year, April)
    deb + ubuntu 23.10       -> ("Ubuntu:23.10", source name)
    apk + alpine 3.19.1      -> ("Alpine:v3.19", origin)
    rpm + rocky / almalinux 9 -> ("Rocky Linux:9" / "AlmaLinux:9", source rpm name)
    pypi                     -> ("PyPI", PEP 503-normalised name)
    npm                      -> ("npm", name)
    golang                   -> ("Go", module path; "stdlib" for the standard library)
    maven                    -> ("Maven", "groupId:artifactId")

Red Hat Enterprise Linux is not mapped: its OSV ecosystems are keyed on CPE product
streams ("Red Hat:enterprise_linux:9::appstream") that os-release does not name.
"""

from __future__ import annotations

import re

from portside.domain.inventory import OSInfo, Package

PYPI = "PyPI"
NPM = "npm"
GO = "Go"
MAVEN = "Maven"

_LANGUAGE_ECOSYSTEMS = {"pypi": PYPI, "npm": NPM, "golang": GO, "maven": MAVEN}
_RPM_DISTRIBUTIONS = {"rocky": "Rocky Linux", "almalinux": "AlmaLinux"}
_PEP503_SEPARATORS = re.compile(r"[-_.]+")
_MAJOR = re.compile(r"\d+")
_MAJOR_MINOR = re.compile(r"(\d+)\.(\d+)")


def normalise_package_name(ecosystem: str, name: str) -> str:
    """The name as stored and looked up: PEP 503 for PyPI (`PyYAML` -> `pyyaml`), else unchanged."""
    if ecosystem == PYPI:
        return _PEP503_SEPARATORS.sub("-", name).lower()
    return name


def _ubuntu(version_id: str) -> str | None:
    match = re.fullmatch(r"(\d\d)\.(\d\d)", version_id)
    if match is None:
        return None
    year, month = int(match.group(1)), match.group(2)
    lts = year % 2 == 0 and month == "04"
    return f"Ubuntu:{version_id}:LTS" if lts else f"Ubuntu:{version_id}"


def os_ecosystem(package_type: str, os: OSInfo | None) -> str | None:
    """The OSV ecosystem of an OS package of `package_type` on `os`; None when unknown."""
    if os is None:
        return None
    distribution, version_id = os.id.lower(), os.version_id
    if package_type == "deb" and distribution == "debian":
        major = _MAJOR.match(version_id)
        return f"Debian:{major.group(0)}" if major else None
    if package_type == "deb" and distribution == "ubuntu":
        return _ubuntu(version_id)
    if package_type == "apk" and distribution == "alpine":
        release = _MAJOR_MINOR.match(version_id)
        return f"Alpine:v{release.group(1)}.{release.group(2)}" if release else None
    if package_type == "rpm" and distribution in _RPM_DISTRIBUTIONS:
        major = _MAJOR.match(version_id)
        return f"{_RPM_DISTRIBUTIONS[distribution]}:{major.group(0)}" if major else None
    return None


def advisory_identity(package: Package, os: OSInfo | None) -> tuple[str, str] | None:
    """(ecosystem, normalised name) that advisories for `package` use; None if we cannot match it."""
    language = _LANGUAGE_ECOSYSTEMS.get(package.type)
    if language is not None:
        return language, normalise_package_name(language, package.name)
    ecosystem = os_ecosystem(package.type, os)
    if ecosystem is None:
        return None
    return ecosystem, package.source_name or package.name


def advisory_version(package: Package) -> str:
    """The version advisories are compared with: the source version for OS packages."""
    return package.source_version or package.version

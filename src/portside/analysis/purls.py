"""Package URLs (purl) of installed packages, in the spelling Trivy reports.

OS packages get their purl in two steps: the parser knows the name, version and architecture,
but the distribution (namespace and `distro` qualifier) is known only once all layers are
merged, so `with_distribution` completes it then.
"""

from __future__ import annotations

from packageurl import PackageURL

from portside.domain.inventory import OSInfo


def os_package_purl(package_type: str, name: str, version: str, *, arch: str = "", epoch: str = "") -> str:
    """`pkg:deb/libc6@2.36-9?arch=amd64`: an OS package's purl before its distribution is known.

    `version` excludes the epoch; a non-zero `epoch` becomes a qualifier."""
    qualifiers = {key: value for key, value in (("arch", arch), ("epoch", epoch)) if value and value != "0"}
    return str(PackageURL(type=package_type, name=name, version=version or None, qualifiers=qualifiers).to_string())


def with_distribution(purl: str, os: OSInfo | None) -> str:
    """Add the distribution to an OS package purl: namespace `debian`, `distro=debian-12`
    (Alpine: `distro=3.19.1`). Unchanged when the OS is unknown."""
    if os is None or not purl:
        return purl
    parsed = PackageURL.from_string(purl)
    qualifiers = dict(parsed.qualifiers) if isinstance(parsed.qualifiers, dict) else {}
    distro = os.version_id if parsed.type == "apk" else f"{os.id}-{os.version_id}"
    if os.version_id:
        qualifiers["distro"] = distro
    return str(parsed._replace(namespace=os.id.lower(), qualifiers=qualifiers).to_string())


def language_purl(package_type: str, name: str, version: str) -> str:
    """`pkg:pypi/…`, `pkg:npm/%40scope/name@…`, `pkg:golang/golang.org/x/net@v0.17.0`,
    `pkg:maven/group/artifact@…`. `name` is as stored on the Package (npm `@scope/name`,
    Go module path, Maven `group:artifact`)."""
    namespace: str | None = None
    if package_type == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif package_type in ("npm", "golang") and "/" in name:
        namespace, name = name.rsplit("/", 1)
    unversioned = not version or version == "(devel)"
    return str(PackageURL(type=package_type, namespace=namespace, name=name,
                          version=None if unversioned else version).to_string())

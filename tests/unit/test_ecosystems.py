"""Which OSV ecosystem and name an installed package is looked up under."""

from __future__ import annotations

import pytest

from portside.domain.ecosystems import advisory_identity, advisory_version, normalise_package_name
from portside.domain.inventory import OSInfo, Package

DEBIAN_12 = OSInfo("debian", "12")
ALPINE = OSInfo("alpine", "3.19.1")


def test_debian_packages_use_the_release_and_source_package() -> None:
    libc = Package("deb", "libc6", "2.36-9+deb12u3", source_name="glibc", source_version="2.36-9+deb12u3")
    assert advisory_identity(libc, DEBIAN_12) == ("Debian:12", "glibc")


def test_a_debian_point_release_maps_to_its_major_release() -> None:
    assert advisory_identity(Package("deb", "tar", "1.34"), OSInfo("debian", "12.5")) == ("Debian:12", "tar")


@pytest.mark.parametrize(("version_id", "ecosystem"), [
    ("22.04", "Ubuntu:22.04:LTS"),
    ("24.04", "Ubuntu:24.04:LTS"),
    ("23.10", "Ubuntu:23.10"),
    ("23.04", "Ubuntu:23.04"),  # April, but an odd year: not LTS
])
def test_ubuntu_lts_releases_carry_the_suffix(version_id: str, ecosystem: str) -> None:
    package = Package("deb", "bash", "5.1-6ubuntu1", source_name="bash")
    assert advisory_identity(package, OSInfo("ubuntu", version_id)) == (ecosystem, "bash")


def test_alpine_packages_use_the_minor_release_and_origin() -> None:
    package = Package("apk", "libcrypto3", "3.1.4-r5", source_name="openssl", source_version="3.1.4-r5")
    assert advisory_identity(package, ALPINE) == ("Alpine:v3.19", "openssl")


@pytest.mark.parametrize(("distribution", "ecosystem"), [("rocky", "Rocky Linux:9"), ("almalinux", "AlmaLinux:9")])
def test_rpm_packages_by_distribution(distribution: str, ecosystem: str) -> None:
    package = Package("rpm", "openssl-libs", "1:3.0.7-25.el9_3", source_name="openssl")
    assert advisory_identity(package, OSInfo(distribution, "9.3")) == (ecosystem, "openssl")


def test_red_hat_enterprise_linux_is_not_mapped() -> None:
    assert advisory_identity(Package("rpm", "bash", "5.1.8-6.el9"), OSInfo("rhel", "9.3")) is None


def test_os_packages_without_a_known_os_are_not_mapped() -> None:
    assert advisory_identity(Package("deb", "bash", "5.2"), None) is None
    assert advisory_identity(Package("apk", "musl", "1.2.4-r2"), DEBIAN_12) is None


@pytest.mark.parametrize(("package", "identity"), [
    (Package("pypi", "PyYAML", "5.3.1"), ("PyPI", "pyyaml")),
    (Package("pypi", "zope.interface", "6.0"), ("PyPI", "zope-interface")),
    (Package("npm", "@babel/core", "7.0.0"), ("npm", "@babel/core")),
    (Package("golang", "stdlib", "1.21.1"), ("Go", "stdlib")),
    (Package("golang", "golang.org/x/net", "v0.17.0"), ("Go", "golang.org/x/net")),
    (Package("maven", "org.apache.logging.log4j:log4j-core", "2.14.1"),
     ("Maven", "org.apache.logging.log4j:log4j-core")),
])
def test_language_packages_use_their_registry(package: Package, identity: tuple[str, str]) -> None:
    assert advisory_identity(package, DEBIAN_12) == identity


def test_language_packages_need_no_os() -> None:
    assert advisory_identity(Package("npm", "lodash", "4.17.20"), None) == ("npm", "lodash")


def test_os_packages_are_compared_on_their_source_version() -> None:
    package = Package("deb", "libc6", "2.36-9+deb12u3+b1", source_name="glibc", source_version="2.36-9+deb12u3")
    assert advisory_version(package) == "2.36-9+deb12u3"
    assert advisory_version(Package("pypi", "urllib3", "1.26.5")) == "1.26.5"


def test_only_pypi_names_are_normalised() -> None:
    assert normalise_package_name("PyPI", "Jinja2") == "jinja2"
    assert normalise_package_name("npm", "JSONStream") == "JSONStream"

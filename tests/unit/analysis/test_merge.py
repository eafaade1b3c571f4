"""Merging layer analyses in manifest order: replacement, whiteouts, opaque dirs, ownership, origins."""

from __future__ import annotations

from portside.analysis import LayerAnalysis, merge_layers
from portside.domain.inventory import Inventory, OSInfo

from .tarballs import analyse, file, layer

BASE, APP, FIX = ("sha256:" + c * 64 for c in "123")
SITE = "usr/local/lib/python3.11/site-packages"
DEBIAN_RELEASE = 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'


def _status(*packages: tuple[str, str]) -> str:
    return "\n".join(f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n"
                     for name, version in packages)


def _metadata(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"


def _names(inventory: Inventory) -> list[tuple[str, str, str]]:
    return [(p.type, p.name, p.version) for p in inventory.packages]


def _layers(*blobs: tuple[str, bytes]) -> list[LayerAnalysis]:
    return [analyse(blob, digest=digest) for digest, blob in blobs]


def test_an_upper_package_database_replaces_the_lower_one_wholesale() -> None:
    analyses = _layers((BASE, layer(file("var/lib/dpkg/status", _status(("bash", "5.2-1"), ("curl", "7.88-1"))))),
                       (APP, layer(file("var/lib/dpkg/status", _status(("bash", "5.2-2"))))))

    assert _names(merge_layers(analyses)) == [("deb", "bash", "5.2-2")]


def test_a_whiteout_removes_a_lower_layers_package() -> None:
    analyses = _layers((BASE, layer(file(f"{SITE}/six-1.16.0.dist-info/METADATA", _metadata("six", "1.16.0")),
                                    file(f"{SITE}/idna-3.4.dist-info/METADATA", _metadata("idna", "3.4")))),
                       (APP, layer(file(f"{SITE}/.wh.six-1.16.0.dist-info", b""))))

    assert _names(merge_layers(analyses)) == [("pypi", "idna", "3.4")]


def test_an_opaque_directory_hides_lower_content_but_keeps_its_own_layers_entries() -> None:
    modules = "usr/lib/node_modules"
    analyses = _layers(
        (BASE, layer(file(f"{modules}/lodash/package.json", '{"name": "lodash", "version": "4.17.20"}'))),
        (APP, layer(file(f"{modules}/.wh..wh..opq", b""),
                    file(f"{modules}/minimist/package.json", '{"name": "minimist", "version": "1.2.6"}'))))

    assert _names(merge_layers(analyses)) == [("npm", "minimist", "1.2.6")]


def test_a_whiteout_does_not_hide_an_entry_of_its_own_layer() -> None:
    analyses = _layers((BASE, layer(file(f"{SITE}/.wh.six-1.16.0.dist-info", b""),
                                    file(f"{SITE}/six-1.16.0.dist-info/METADATA", _metadata("six", "1.16.0")))))

    assert _names(merge_layers(analyses)) == [("pypi", "six", "1.16.0")]


def test_a_package_reinstalled_by_a_later_layer_after_a_whiteout_is_back() -> None:
    metadata = file(f"{SITE}/six-1.16.0.dist-info/METADATA", _metadata("six", "1.16.0"))
    analyses = _layers((BASE, layer(metadata)), (APP, layer(file(f"{SITE}/.wh.six-1.16.0.dist-info", b""))),
                       (FIX, layer(metadata)))

    assert _names(merge_layers(analyses)) == [("pypi", "six", "1.16.0")]


def test_a_package_belongs_to_the_first_layer_that_provided_it() -> None:
    analyses = _layers((BASE, layer(file("var/lib/dpkg/status", _status(("bash", "5.2-1"))))),
                       (APP, layer(file("var/lib/dpkg/status", _status(("bash", "5.2-1"), ("curl", "7.88-1"))))))

    assert {p.name: p.layer for p in merge_layers(analyses).packages} == {"bash": BASE, "curl": APP}


def test_a_python_package_owned_by_a_debian_package_is_dropped() -> None:
    dist_packages = "usr/lib/python3/dist-packages"
    analyses = _layers((BASE, layer(
        file("etc/os-release", DEBIAN_RELEASE),
        file("var/lib/dpkg/status", "Package: python3-urllib3\nSource: python-urllib3\nVersion: 1.26.12-1\n"),
        file("var/lib/dpkg/info/python3-urllib3.md5sums",
             f"0123456789abcdef  {dist_packages}/urllib3-1.26.12.egg-info/PKG-INFO\n"),
        file(f"{dist_packages}/urllib3-1.26.12.egg-info/PKG-INFO", _metadata("urllib3", "1.26.12")),
    )), (APP, layer(file(f"{SITE}/urllib3-1.26.5.dist-info/METADATA", _metadata("urllib3", "1.26.5")))))

    assert _names(merge_layers(analyses)) == [("deb", "python3-urllib3", "1.26.12-1"), ("pypi", "urllib3", "1.26.5")]


def test_a_package_owned_through_its_listed_metadata_directory_is_dropped() -> None:
    egg_info = "usr/lib/python3/dist-packages/six-1.16.0.egg-info"
    analyses = _layers((BASE, layer(
        file("var/lib/dpkg/status", "Package: python3-six\nVersion: 1.16.0-4\n"),
        file("var/lib/dpkg/info/python3-six.list", f"/usr/lib/python3/dist-packages\n/{egg_info}\n"),
        file(f"{egg_info}/PKG-INFO", _metadata("six", "1.16.0")),
        file("usr/lib/python3/dist-packages/other-1.0.dist-info/METADATA", _metadata("other", "1.0")),
    )))

    assert _names(merge_layers(analyses)) == [("deb", "python3-six", "1.16.0-4"), ("pypi", "other", "1.0")]


def test_a_node_package_owned_by_an_apk_package_is_dropped() -> None:
    analyses = _layers((BASE, layer(
        file("lib/apk/db/installed", "P:npm\nV:10.2.5-r0\no:nodejs\nF:usr/lib/node_modules/npm\nR:package.json\n"),
        file("usr/lib/node_modules/npm/package.json", '{"name": "npm", "version": "10.2.5"}'),
    )))

    assert _names(merge_layers(analyses)) == [("apk", "npm", "10.2.5-r0")]


def test_os_package_purls_get_the_distribution() -> None:
    analyses = _layers((BASE, layer(file("etc/os-release", DEBIAN_RELEASE),
                                    file("var/lib/dpkg/status", _status(("bash", "5.2.15-2+b2"))))))

    inventory = merge_layers(analyses)

    assert inventory.os == OSInfo("debian", "12", "Debian GNU/Linux 12 (bookworm)")
    assert [p.purl for p in inventory.packages] == ["pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12"]


def test_alpine_purls_carry_the_release_as_distro() -> None:
    analyses = _layers((BASE, layer(file("etc/alpine-release", "3.19.1\n"),
                                    file("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n"))))

    purls = [p.purl for p in merge_layers(analyses).packages]

    assert purls == ["pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.19.1"]


def test_an_upper_os_release_wins_and_a_whiteout_can_remove_it() -> None:
    analyses = _layers((BASE, layer(file("etc/os-release", "ID=debian\nVERSION_ID=11\n"),
                                    file("etc/debian_version", "11.9\n"))),
                       (APP, layer(file("etc/.wh.os-release", b""))))

    assert merge_layers(analyses).os == OSInfo("debian", "11.9")


def test_merging_cached_json_gives_the_same_inventory() -> None:
    analyses = _layers((BASE, layer(file("etc/os-release", DEBIAN_RELEASE),
                                    file("var/lib/dpkg/status", _status(("bash", "5.2-1"))))),
                       (APP, layer(file(f"{SITE}/six-1.16.0.dist-info/METADATA", _metadata("six", "1.16.0")))))

    cached = [LayerAnalysis.from_json(a.to_json()) for a in analyses]

    assert merge_layers(cached) == merge_layers(analyses)

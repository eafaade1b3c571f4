"""Python distribution metadata: dist-info, egg-info directories and files."""

from __future__ import annotations

from portside.analysis.model import Notes
from portside.analysis.packages.python import parse_metadata

from .tarballs import analyse, file, layer, packages_by_name

SITE = "usr/local/lib/python3.12/site-packages"


def _one(text: str) -> tuple[str, str, str, tuple[str, ...]]:
    (package,) = parse_metadata("x/METADATA", text.encode(), "", Notes(10)).packages
    return package.name, package.version, package.purl, package.licenses


def test_a_dist_info_metadata_gives_a_pep_503_named_package() -> None:
    metadata = "Metadata-Version: 2.1\nName: PyYAML\nVersion: 5.3.1\nLicense: MIT\n\nYAML parser and emitter.\n"

    assert _one(metadata) == ("pyyaml", "5.3.1", "pkg:pypi/pyyaml@5.3.1", ("MIT",))


def test_license_expression_wins_over_classifiers_and_license() -> None:
    metadata = ("Name: a\nVersion: 1\nLicense: BSD\nClassifier: License :: OSI Approved :: MIT License\n"
                "License-Expression: Apache-2.0 OR MIT\n")

    assert _one(metadata)[3] == ("Apache-2.0 OR MIT",)


def test_a_license_classifier_wins_over_the_license_field() -> None:
    metadata = "Name: a\nVersion: 1\nLicense: BSD-ish\nClassifier: License :: OSI Approved :: MIT License\n"

    assert _one(metadata)[3] == ("MIT License",)


def test_a_license_field_holding_the_whole_text_is_not_a_name() -> None:
    metadata = "Name: a\nVersion: 1\nLicense: Copyright (c) 2010 someone\n        Permission is hereby granted\n"

    assert _one(metadata)[3] == ()


def test_metadata_without_a_version_is_skipped_with_a_note() -> None:
    notes = Notes(10)

    result = parse_metadata("x.dist-info/METADATA", b"Name: broken\n\nbody", "", notes)

    assert (result.packages, notes.as_tuple()) == ((), ("x.dist-info/METADATA: no Name or Version, skipped",))


def test_every_metadata_location_is_found_in_a_layer() -> None:
    analysis = analyse(layer(
        file(f"{SITE}/urllib3-1.26.5.dist-info/METADATA", "Name: urllib3\nVersion: 1.26.5\n"),
        file(f"{SITE}/requests-2.25.1.egg-info/PKG-INFO", "Name: requests\nVersion: 2.25.1\n"),
        file(f"{SITE}/Jinja2-2.11.2.egg-info", "Name: Jinja2\nVersion: 2.11.2\n"),
        file(f"{SITE}/old.egg/EGG-INFO/PKG-INFO", "Name: old_style.pkg\nVersion: 0.1\n"),
        file(f"{SITE}/urllib3-1.26.5.dist-info/RECORD", "urllib3/__init__.py,,\n"),
    ))

    assert packages_by_name(analysis) == {
        "urllib3": ("1.26.5", f"{SITE}/urllib3-1.26.5.dist-info/METADATA"),
        "requests": ("2.25.1", f"{SITE}/requests-2.25.1.egg-info/PKG-INFO"),
        "jinja2": ("2.11.2", f"{SITE}/Jinja2-2.11.2.egg-info"),
        "old-style-pkg": ("0.1", f"{SITE}/old.egg/EGG-INFO/PKG-INFO"),
    }

"""Unit tests for portside.domain.media_types: base types and Accept negotiation."""

from __future__ import annotations

import pytest

from portside.domain import media_types as mt


def test_base_type_drops_parameters_and_lowercases() -> None:
    assert mt.base_type("Application/JSON; charset=utf-8") == "application/json"


def test_base_type_of_none_is_empty() -> None:
    assert mt.base_type(None) == ""


def test_base_type_of_empty_string_is_empty() -> None:
    assert mt.base_type("") == ""


def test_accepted_types_splits_commas_across_headers() -> None:
    headers = [f"{mt.OCI_MANIFEST}, {mt.OCI_INDEX};q=0.9", mt.DOCKER_MANIFEST]
    assert mt.accepted_types(headers) == {mt.OCI_MANIFEST, mt.OCI_INDEX, mt.DOCKER_MANIFEST}


def test_accepted_types_skips_empty_parts() -> None:
    assert mt.accepted_types([" , ,"]) == set()


def test_media_type_sets_partition_manifest_types() -> None:
    assert mt.MANIFEST_TYPES == {mt.OCI_MANIFEST, mt.DOCKER_MANIFEST, mt.OCI_INDEX, mt.DOCKER_MANIFEST_LIST}


@pytest.mark.parametrize("media_type", [mt.OCI_MANIFEST, mt.DOCKER_MANIFEST])
def test_is_acceptable_serves_image_manifest_to_client_accepting_only_the_other_form(media_type: str) -> None:
    other = mt.DOCKER_MANIFEST if media_type == mt.OCI_MANIFEST else mt.OCI_MANIFEST
    assert mt.is_acceptable(media_type, [other]) is True


def test_is_acceptable_serves_image_manifest_to_client_accepting_only_indexes() -> None:
    assert mt.is_acceptable(mt.OCI_MANIFEST, [mt.OCI_INDEX]) is True


@pytest.mark.parametrize("index_type", [mt.OCI_INDEX, mt.DOCKER_MANIFEST_LIST])
def test_is_acceptable_serves_index_without_accept_header(index_type: str) -> None:
    assert mt.is_acceptable(index_type, []) is True


def test_is_acceptable_serves_index_for_empty_accept_header() -> None:
    assert mt.is_acceptable(mt.OCI_INDEX, [""]) is True


def test_is_acceptable_serves_index_for_any_wildcard() -> None:
    assert mt.is_acceptable(mt.OCI_INDEX, [f"{mt.DOCKER_MANIFEST}, */*"]) is True


def test_is_acceptable_serves_index_for_application_wildcard() -> None:
    assert mt.is_acceptable(mt.OCI_INDEX, [f"{mt.DOCKER_MANIFEST}, application/*"]) is True


def test_is_acceptable_serves_index_to_client_listing_an_index_type() -> None:
    assert mt.is_acceptable(mt.OCI_INDEX, [mt.DOCKER_MANIFEST, mt.DOCKER_MANIFEST_LIST]) is True


def test_is_acceptable_serves_oci_index_to_client_listing_only_docker_list() -> None:
    assert mt.is_acceptable(mt.OCI_INDEX, [mt.DOCKER_MANIFEST_LIST]) is True


def test_is_acceptable_withholds_index_from_client_listing_only_docker_manifest() -> None:
    assert mt.is_acceptable(mt.DOCKER_MANIFEST_LIST, [mt.DOCKER_MANIFEST]) is False


def test_is_acceptable_withholds_index_from_client_listing_only_oci_manifest() -> None:
    assert mt.is_acceptable(mt.OCI_INDEX, [f"{mt.OCI_MANIFEST};q=1"]) is False


def test_is_acceptable_withholds_index_regardless_of_accept_case() -> None:
    assert mt.is_acceptable(mt.OCI_INDEX, [mt.DOCKER_MANIFEST.upper()]) is False


def test_is_acceptable_serves_index_to_client_listing_only_unrelated_types() -> None:
    assert mt.is_acceptable(mt.OCI_INDEX, ["application/json"]) is True


def test_is_acceptable_serves_unknown_media_type() -> None:
    assert mt.is_acceptable("application/vnd.example+json", [mt.DOCKER_MANIFEST]) is True

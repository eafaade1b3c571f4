"""Unit tests for portside.domain.manifest.parse_manifest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portside.domain import media_types as mt
from portside.domain.digest import Digest
from portside.domain.errors import ManifestInvalid, ManifestTooLarge
from portside.domain.manifest import MAX_MANIFEST_BYTES, Descriptor, ParsedManifest, parse_manifest

CONFIG_DIGEST = "sha256:" + "1" * 64
LAYER_DIGEST = "sha256:" + "2" * 64
CHILD_DIGEST = "sha256:" + "3" * 64
SUBJECT_DIGEST = "sha256:" + "4" * 64
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
ARTIFACT = "application/vnd.example.sbom+json"


def descriptor(media_type: str, digest: str, size: int = 10, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest, "size": size, **extra}


def image(media_type: str | None = mt.OCI_MANIFEST, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "config": descriptor(OCI_CONFIG, CONFIG_DIGEST, 2),
        "layers": [descriptor(OCI_LAYER, LAYER_DIGEST, 30)],
    }
    if media_type is not None:
        body["mediaType"] = media_type
    body.update(extra)
    return body


def index(media_type: str | None = mt.OCI_INDEX, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "manifests": [descriptor(mt.OCI_MANIFEST, CHILD_DIGEST, 500, platform={"os": "linux"})],
    }
    if media_type is not None:
        body["mediaType"] = media_type
    body.update(extra)
    return body


def encode(body: Any) -> bytes:
    return json.dumps(body).encode()


def parse(body: Any, content_type: str | None = None) -> ParsedManifest:
    return parse_manifest(encode(body), content_type)


def test_parse_oci_manifest_media_type() -> None:
    assert parse(image(), mt.OCI_MANIFEST).media_type == mt.OCI_MANIFEST


def test_parse_oci_manifest_lists_config_then_layers_as_blobs() -> None:
    parsed = parse(image(), mt.OCI_MANIFEST)
    assert parsed.blobs == (
        Descriptor(OCI_CONFIG, Digest("sha256", "1" * 64), 2),
        Descriptor(OCI_LAYER, Digest("sha256", "2" * 64), 30),
    )


def test_parse_oci_manifest_has_no_children() -> None:
    assert parse(image(), mt.OCI_MANIFEST).children == ()


def test_parse_oci_manifest_records_config_media_type() -> None:
    assert parse(image(), mt.OCI_MANIFEST).config_media_type == OCI_CONFIG


def test_parse_oci_manifest_is_not_index() -> None:
    assert parse(image(), mt.OCI_MANIFEST).is_index is False


def test_parse_oci_manifest_without_layers_has_only_config_blob() -> None:
    body = image()
    del body["layers"]
    assert [str(d.digest) for d in parse(body, mt.OCI_MANIFEST).blobs] == [CONFIG_DIGEST]


def test_parse_oci_manifest_keeps_annotations() -> None:
    parsed = parse(image(annotations={"org.opencontainers.image.created": "2024"}), mt.OCI_MANIFEST)
    assert parsed.annotations == {"org.opencontainers.image.created": "2024"}


def test_parse_manifest_accepts_content_type_with_parameters() -> None:
    assert parse(image(), f"{mt.OCI_MANIFEST}; charset=utf-8").media_type == mt.OCI_MANIFEST


def test_parse_oci_index_media_type() -> None:
    parsed = parse(index(), mt.OCI_INDEX)
    assert (parsed.media_type, parsed.is_index) == (mt.OCI_INDEX, True)


def test_parse_oci_index_lists_children_with_platform() -> None:
    parsed = parse(index(), mt.OCI_INDEX)
    assert parsed.children == (
        Descriptor(mt.OCI_MANIFEST, Digest("sha256", "3" * 64), 500, platform={"os": "linux"}),
    )


def test_parse_oci_index_has_no_blobs() -> None:
    assert parse(index(), mt.OCI_INDEX).blobs == ()


def test_parse_oci_index_accepts_empty_manifests_list() -> None:
    assert parse(index(manifests=[]), mt.OCI_INDEX).children == ()


def test_parse_docker_v2_manifest() -> None:
    body = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST,
        "config": descriptor(DOCKER_CONFIG, CONFIG_DIGEST, 1470),
        "layers": [descriptor(DOCKER_LAYER, LAYER_DIGEST, 977)],
    }
    parsed = parse(body, mt.DOCKER_MANIFEST)
    assert (parsed.media_type, parsed.config_media_type, len(parsed.blobs)) == (mt.DOCKER_MANIFEST, DOCKER_CONFIG, 2)


def test_parse_docker_manifest_list() -> None:
    body = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST_LIST,
        "manifests": [descriptor(mt.DOCKER_MANIFEST, CHILD_DIGEST, 528, platform={"architecture": "amd64"})],
    }
    parsed = parse(body, mt.DOCKER_MANIFEST_LIST)
    assert (parsed.media_type, parsed.is_index, str(parsed.children[0].digest)) == (
        mt.DOCKER_MANIFEST_LIST, True, CHILD_DIGEST,
    )


def test_parse_artifact_manifest_records_artifact_type() -> None:
    body = image(artifactType=ARTIFACT, config=descriptor(mt.OCI_EMPTY, CONFIG_DIGEST, 2))
    assert parse(body, mt.OCI_MANIFEST).artifact_type == ARTIFACT


def test_parse_artifact_manifest_records_subject() -> None:
    body = image(artifactType=ARTIFACT, subject=descriptor(mt.OCI_MANIFEST, SUBJECT_DIGEST, 700))
    assert parse(body, mt.OCI_MANIFEST).subject == Descriptor(mt.OCI_MANIFEST, Digest("sha256", "4" * 64), 700)


def test_parse_index_records_subject_and_artifact_type() -> None:
    body = index(artifactType=ARTIFACT, subject=descriptor(mt.OCI_MANIFEST, SUBJECT_DIGEST, 700))
    parsed = parse(body, mt.OCI_INDEX)
    assert (parsed.artifact_type, str(parsed.subject.digest) if parsed.subject else None) == (ARTIFACT, SUBJECT_DIGEST)


def test_parse_manifest_without_subject_has_none() -> None:
    assert parse(image(), mt.OCI_MANIFEST).subject is None


def test_parse_manifest_treats_null_subject_as_absent() -> None:
    assert parse(image(subject=None), mt.OCI_MANIFEST).subject is None


def test_descriptor_keeps_artifact_type_and_annotations() -> None:
    layer = descriptor(OCI_LAYER, LAYER_DIGEST, 30, artifactType=ARTIFACT, annotations={"k": "v"})
    parsed = parse(image(layers=[layer]), mt.OCI_MANIFEST)
    assert (parsed.blobs[1].artifact_type, parsed.blobs[1].annotations) == (ARTIFACT, {"k": "v"})


def test_referrer_artifact_type_prefers_artifact_type() -> None:
    assert parse(image(artifactType=ARTIFACT), mt.OCI_MANIFEST).referrer_artifact_type == ARTIFACT


def test_referrer_artifact_type_falls_back_to_config_media_type() -> None:
    assert parse(image(), mt.OCI_MANIFEST).referrer_artifact_type == OCI_CONFIG


def test_referrer_artifact_type_of_index_without_artifact_type_is_none() -> None:
    assert parse(index(), mt.OCI_INDEX).referrer_artifact_type is None


@pytest.mark.parametrize("content_type", [None, "", "application/json", "application/octet-stream", "text/plain"])
def test_parse_manifest_infers_oci_manifest_without_media_type(content_type: str | None) -> None:
    assert parse(image(media_type=None), content_type).media_type == mt.OCI_MANIFEST


@pytest.mark.parametrize("content_type", [None, "application/json"])
def test_parse_manifest_infers_oci_index_from_manifests_key(content_type: str | None) -> None:
    assert parse(index(media_type=None), content_type).media_type == mt.OCI_INDEX


def test_parse_manifest_uses_declared_media_type_with_generic_content_type() -> None:
    body = index(media_type=mt.DOCKER_MANIFEST_LIST)
    assert parse(body, "application/json").media_type == mt.DOCKER_MANIFEST_LIST


def test_parse_manifest_uses_content_type_when_media_type_absent() -> None:
    assert parse(image(media_type=None), mt.DOCKER_MANIFEST).media_type == mt.DOCKER_MANIFEST


def test_parse_manifest_rejects_media_type_that_contradicts_content_type() -> None:
    with pytest.raises(ManifestInvalid, match="does not match Content-Type"):
        parse(image(media_type=mt.DOCKER_MANIFEST), mt.OCI_MANIFEST)


def test_parse_manifest_rejects_non_string_media_type() -> None:
    with pytest.raises(ManifestInvalid, match="mediaType must be a string"):
        parse(image(media_type=None, mediaType=5), mt.OCI_MANIFEST)


def test_parse_manifest_rejects_unsupported_media_type() -> None:
    with pytest.raises(ManifestInvalid, match="unsupported manifest media type"):
        parse(image(media_type=None), "application/vnd.example+json")


def test_parse_manifest_rejects_schema1_by_schema_version() -> None:
    body = {"schemaVersion": 1, "name": "a/b", "tag": "latest", "fsLayers": [], "history": []}
    with pytest.raises(ManifestInvalid, match="schema 1"):
        parse(body, "application/json")


@pytest.mark.parametrize("content_type", [mt.DOCKER_SCHEMA1, mt.DOCKER_SCHEMA1_SIGNED])
def test_parse_manifest_rejects_schema1_by_content_type(content_type: str) -> None:
    with pytest.raises(ManifestInvalid, match="schema 1"):
        parse(image(media_type=None), content_type)


def test_parse_manifest_rejects_schema1_by_declared_media_type() -> None:
    with pytest.raises(ManifestInvalid, match="schema 1"):
        parse(image(media_type=mt.DOCKER_SCHEMA1_SIGNED), "application/json")


def test_parse_manifest_rejects_missing_schema_version() -> None:
    body = image()
    del body["schemaVersion"]
    with pytest.raises(ManifestInvalid, match="schemaVersion must be 2"):
        parse(body, mt.OCI_MANIFEST)


def test_parse_manifest_rejects_schema_version_3() -> None:
    with pytest.raises(ManifestInvalid, match="schemaVersion must be 2"):
        parse(image(schemaVersion=3), mt.OCI_MANIFEST)


def test_parse_manifest_accepts_exactly_4_mib() -> None:
    raw = encode(image())
    padded = raw + b" " * (MAX_MANIFEST_BYTES - len(raw))
    assert parse_manifest(padded, mt.OCI_MANIFEST).media_type == mt.OCI_MANIFEST


def test_parse_manifest_rejects_one_byte_over_4_mib() -> None:
    raw = encode(image())
    padded = raw + b" " * (MAX_MANIFEST_BYTES + 1 - len(raw))
    with pytest.raises(ManifestTooLarge):
        parse_manifest(padded, mt.OCI_MANIFEST)


def test_manifest_too_large_has_413_status() -> None:
    assert (ManifestTooLarge.code, ManifestTooLarge.status) == ("MANIFEST_INVALID", 413)


def test_parse_manifest_rejects_invalid_json() -> None:
    with pytest.raises(ManifestInvalid, match="not valid JSON"):
        parse_manifest(b"{not json", mt.OCI_MANIFEST)


def test_parse_manifest_rejects_invalid_utf8() -> None:
    with pytest.raises(ManifestInvalid, match="not valid JSON"):
        parse_manifest(b'{"a": "\xff\xfe\xfd"}', mt.OCI_MANIFEST)


def test_parse_manifest_rejects_empty_body() -> None:
    with pytest.raises(ManifestInvalid):
        parse_manifest(b"", mt.OCI_MANIFEST)


def test_parse_manifest_rejects_deeply_nested_json() -> None:
    with pytest.raises(ManifestInvalid):
        parse_manifest(b"[" * 200_000, mt.OCI_MANIFEST)


def test_parse_manifest_rejects_integer_beyond_conversion_limit() -> None:
    with pytest.raises(ManifestInvalid):
        parse_manifest(b'{"schemaVersion": ' + b"1" * 5000 + b"}", mt.OCI_MANIFEST)


@pytest.mark.parametrize("body", [[], "manifest", 2, None, True])
def test_parse_manifest_rejects_non_object(body: Any) -> None:
    with pytest.raises(ManifestInvalid, match="must be a JSON object"):
        parse(body, mt.OCI_MANIFEST)


def test_parse_manifest_rejects_missing_config() -> None:
    body = image()
    del body["config"]
    with pytest.raises(ManifestInvalid, match="must have a config"):
        parse(body, mt.OCI_MANIFEST)


def test_parse_manifest_rejects_layers_that_are_not_a_list() -> None:
    with pytest.raises(ManifestInvalid, match="layers must be a list"):
        parse(image(layers={"a": 1}), mt.OCI_MANIFEST)


def test_parse_index_rejects_missing_manifests() -> None:
    body = index()
    del body["manifests"]
    with pytest.raises(ManifestInvalid, match="manifests list"):
        parse(body, mt.OCI_INDEX)


def test_parse_manifest_rejects_non_string_annotations() -> None:
    with pytest.raises(ManifestInvalid, match="annotations"):
        parse(image(annotations={"k": 1}), mt.OCI_MANIFEST)


def test_parse_manifest_rejects_non_string_artifact_type() -> None:
    with pytest.raises(ManifestInvalid, match="artifactType must be a string"):
        parse(image(artifactType=["x"]), mt.OCI_MANIFEST)


def test_parse_manifest_rejects_descriptor_without_digest() -> None:
    layer = descriptor(OCI_LAYER, LAYER_DIGEST)
    del layer["digest"]
    with pytest.raises(ManifestInvalid, match=r"layers\[0\]: descriptor has no digest"):
        parse(image(layers=[layer]), mt.OCI_MANIFEST)


def test_parse_manifest_rejects_descriptor_without_media_type() -> None:
    config = descriptor(OCI_CONFIG, CONFIG_DIGEST)
    del config["mediaType"]
    with pytest.raises(ManifestInvalid, match="config: descriptor has no mediaType"):
        parse(image(config=config), mt.OCI_MANIFEST)


def test_parse_manifest_rejects_negative_size() -> None:
    with pytest.raises(ManifestInvalid, match="non-negative integer"):
        parse(image(layers=[descriptor(OCI_LAYER, LAYER_DIGEST, -1)]), mt.OCI_MANIFEST)


def test_parse_manifest_rejects_boolean_size() -> None:
    with pytest.raises(ManifestInvalid, match="non-negative integer"):
        parse(image(layers=[descriptor(OCI_LAYER, LAYER_DIGEST, True)]), mt.OCI_MANIFEST)


def test_parse_manifest_rejects_float_size() -> None:
    with pytest.raises(ManifestInvalid, match="non-negative integer"):
        parse(image(layers=[descriptor(OCI_LAYER, LAYER_DIGEST, 1.5)]), mt.OCI_MANIFEST)  # type: ignore[arg-type]


def test_parse_manifest_accepts_zero_size() -> None:
    assert parse(image(layers=[descriptor(OCI_LAYER, LAYER_DIGEST, 0)]), mt.OCI_MANIFEST).blobs[1].size == 0


def test_parse_manifest_rejects_bad_digest_naming_the_descriptor() -> None:
    with pytest.raises(ManifestInvalid, match=r"layers\[0\]: invalid sha256 digest"):
        parse(image(layers=[descriptor(OCI_LAYER, "sha256:abc")]), mt.OCI_MANIFEST)


def test_parse_manifest_rejects_non_object_descriptor() -> None:
    with pytest.raises(ManifestInvalid, match=r"manifests\[0\]: descriptor must be an object"):
        parse(index(manifests=["sha256:" + "3" * 64]), mt.OCI_INDEX)


def test_parse_manifest_rejects_bad_subject_descriptor() -> None:
    with pytest.raises(ManifestInvalid, match="subject"):
        parse(image(subject={"mediaType": mt.OCI_MANIFEST, "digest": "nope", "size": 1}), mt.OCI_MANIFEST)


def test_parse_manifest_rejects_descriptor_annotations_with_non_string_values() -> None:
    layer = descriptor(OCI_LAYER, LAYER_DIGEST, annotations={"k": None})
    with pytest.raises(ManifestInvalid, match="annotations must map strings to strings"):
        parse(image(layers=[layer]), mt.OCI_MANIFEST)


def test_manifest_invalid_has_oci_code_and_status() -> None:
    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(b"[]", None)
    assert (caught.value.code, caught.value.status) == ("MANIFEST_INVALID", 400)


_content_types = st.one_of(
    st.none(), st.sampled_from(sorted(mt.MANIFEST_TYPES | mt.GENERIC_TYPES)), st.text(max_size=30),
)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
_manifest_keys = st.sampled_from(
    ["schemaVersion", "mediaType", "config", "layers", "manifests", "subject", "artifactType", "annotations"]
)
_descriptor_like = st.fixed_dictionaries(
    {},
    optional={
        "mediaType": st.one_of(st.sampled_from(sorted(mt.MANIFEST_TYPES)), _json_values),
        "digest": st.one_of(st.just(LAYER_DIGEST), _json_values),
        "size": st.one_of(st.integers(), _json_values),
        "annotations": _json_values,
        "platform": _json_values,
        "artifactType": _json_values,
    },
)
_manifest_like = st.dictionaries(
    _manifest_keys,
    st.one_of(
        st.just(2),
        st.sampled_from(sorted(mt.MANIFEST_TYPES | mt.SCHEMA1_TYPES)),
        _descriptor_like,
        st.lists(_descriptor_like, max_size=3),
        _json_values,
    ),
)


@given(st.binary(max_size=512), _content_types)
def test_parse_manifest_of_arbitrary_bytes_raises_only_manifest_errors(data: bytes, content_type: str | None) -> None:
    try:
        parsed = parse_manifest(data, content_type)
    except (ManifestInvalid, ManifestTooLarge):
        return
    assert parsed.media_type in mt.MANIFEST_TYPES


@settings(max_examples=300)
@given(_manifest_like, _content_types)
def test_parse_manifest_of_manifest_shaped_json_raises_only_manifest_invalid(
    body: dict[str, Any], content_type: str | None,
) -> None:
    try:
        parsed = parse(body, content_type)
    except ManifestInvalid:
        return
    assert parsed.media_type in mt.MANIFEST_TYPES
    assert all(d.size >= 0 for d in (*parsed.blobs, *parsed.children))

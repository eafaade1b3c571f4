"""Software bills of materials of an image, as plain JSON: CycloneDX 1.5 and SPDX 2.3.

Both are built from an `Inventory` (the merged layer analysis) and an `ImageInfo`:
- the image itself is the document's subject (CycloneDX `metadata.component` of type
  `container`; SPDX package `SPDXRef-Image` with purpose CONTAINER), with an OCI purl;
- the distribution is an `operating-system` component (SPDX purpose OPERATING-SYSTEM);
- every package is a `library` component with its purl, licences and where it was found.

Pure functions: the caller supplies the time and the serial number, so output is reproducible.
Licences are written as names (CycloneDX `license.name`), never as SPDX ids, because the
package databases hold free text ("MIT License", "GPL-2.0-or-later AND …") that is not always
a valid SPDX id; SPDX documents say NOASSERTION and keep the text in `licenseComments`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL

from portside.domain.inventory import Inventory, Package

CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json"
SPDX_MEDIA_TYPE = "application/spdx+json"
FORMATS = {"cyclonedx": CYCLONEDX_MEDIA_TYPE, "spdx": SPDX_MEDIA_TYPE}
PROPERTY_PREFIX = "portside:"


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What the SBOM says about the image it describes."""

    repository: str  # project/name
    digest: str
    registry: str  # host[:port] the image is pulled from
    architecture: str = ""
    os: str = ""
    created: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def purl(self) -> str:
        qualifiers = {"repository_url": f"{self.registry}/{self.repository}"}
        if self.architecture:
            qualifiers["arch"] = self.architecture
        name = self.repository.rsplit("/", 1)[-1]
        return str(PackageURL(type="oci", name=name, version=self.digest, qualifiers=qualifiers).to_string())


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    version: str


def format_media_type(format_name: str) -> str:
    """The media type of `cyclonedx` or `spdx` (or of a media type given as such); ValueError otherwise."""
    if format_name in FORMATS:
        return FORMATS[format_name]
    if format_name in FORMATS.values():
        return format_name
    raise ValueError(f"unknown SBOM format {format_name[:64]!r}: use cyclonedx or spdx")


def _unique_refs(packages: Sequence[Package]) -> list[str]:
    """A bom-ref per package: its purl, made unique with `#2`, `#3`… when packages share one."""
    seen: dict[str, int] = {}
    refs = []
    for package in packages:
        base = package.purl or f"{package.type}:{package.name}@{package.version}"
        seen[base] = seen.get(base, 0) + 1
        refs.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return refs


def _package_properties(package: Package) -> list[dict[str, str]]:
    values = [("package:type", package.type), ("package:path", package.path), ("layer:digest", package.layer)]
    if package.source_name and (package.source_name, package.source_version) != (package.name, package.version):
        values += [("package:source_name", package.source_name), ("package:source_version", package.source_version)]
    return [{"name": PROPERTY_PREFIX + name, "value": value} for name, value in values if value]


def _image_properties(image: ImageInfo) -> list[dict[str, str]]:
    values = [("image:architecture", image.architecture), ("image:os", image.os), ("image:created", image.created),
              ("image:digest", image.digest)] + [("image:tag", tag) for tag in image.tags]
    return [{"name": PROPERTY_PREFIX + name, "value": value} for name, value in values if value]


def cyclonedx(inventory: Inventory, image: ImageInfo, *, tool: Tool, timestamp: str,
              serial_number: str) -> dict[str, Any]:
    """A CycloneDX 1.5 JSON BOM; `serial_number` is a UUID (written as `urn:uuid:…`)."""
    image_ref = image.purl
    components: list[dict[str, Any]] = []
    if inventory.os is not None:
        os_component: dict[str, Any] = {"bom-ref": f"os:{inventory.os.id}@{inventory.os.version_id}",
                                        "type": "operating-system", "name": inventory.os.id,
                                        "version": inventory.os.version_id}
        if inventory.os.pretty_name:
            os_component["description"] = inventory.os.pretty_name
        components.append(os_component)
    for ref, package in zip(_unique_refs(inventory.packages), inventory.packages, strict=True):
        component: dict[str, Any] = {"bom-ref": ref, "type": "library", "name": package.name,
                                     "version": package.version}
        if package.purl:
            component["purl"] = package.purl
        if package.licenses:
            component["licenses"] = [{"license": {"name": name}} for name in package.licenses]
        properties = _package_properties(package)
        if properties:
            component["properties"] = properties
        components.append(component)
    subject: dict[str, Any] = {"bom-ref": image_ref, "type": "container", "name": image.repository,
                               "version": image.digest, "purl": image_ref}
    properties = _image_properties(image)
    if properties:
        subject["properties"] = properties
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": f"urn:uuid:{serial_number}", "version": 1,
        "metadata": {"timestamp": timestamp,
                     "tools": {"components": [{"type": "application", "name": tool.name, "version": tool.version}]},
                     "component": subject},
        "components": components,
        "dependencies": [{"ref": image_ref, "dependsOn": [c["bom-ref"] for c in components]}],
    }


def _spdx_id(text: str) -> str:
    """SPDX ids allow letters, digits, '.' and '-' only."""
    return "".join(char if char.isascii() and (char.isalnum() or char in ".-") else "-" for char in text)


def spdx(inventory: Inventory, image: ImageInfo, *, tool: Tool, timestamp: str, namespace: str) -> dict[str, Any]:
    """An SPDX 2.3 JSON document; `namespace` is the document's unique URI."""
    image_package = {
        "SPDXID": "SPDXRef-Image", "name": image.repository, "versionInfo": image.digest,
        "downloadLocation": "NOASSERTION", "filesAnalyzed": False, "primaryPackagePurpose": "CONTAINER",
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                          "referenceLocator": image.purl}],
    }
    packages: list[dict[str, Any]] = [image_package]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                      "relatedSpdxElement": "SPDXRef-Image"}]
    if inventory.os is not None:
        packages.append({"SPDXID": "SPDXRef-OperatingSystem", "name": inventory.os.id,
                         "versionInfo": inventory.os.version_id, "downloadLocation": "NOASSERTION",
                         "filesAnalyzed": False, "primaryPackagePurpose": "OPERATING-SYSTEM"})
        relationships.append({"spdxElementId": "SPDXRef-Image", "relationshipType": "CONTAINS",
                              "relatedSpdxElement": "SPDXRef-OperatingSystem"})
    for number, package in enumerate(inventory.packages, start=1):
        spdx_id = _spdx_id(f"SPDXRef-Package-{package.type}-{package.name}-{number}")
        entry: dict[str, Any] = {"SPDXID": spdx_id, "name": package.name, "versionInfo": package.version,
                                 "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
                                 "primaryPackagePurpose": "LIBRARY", "licenseConcluded": "NOASSERTION",
                                 "licenseDeclared": "NOASSERTION"}
        if package.licenses:
            entry["licenseComments"] = "declared: " + "; ".join(package.licenses)
        if package.path:
            entry["sourceInfo"] = f"found in {package.path}" + (f" (layer {package.layer})" if package.layer else "")
        if package.purl:
            entry["externalRefs"] = [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                      "referenceLocator": package.purl}]
        packages.append(entry)
        relationships.append({"spdxElementId": "SPDXRef-Image", "relationshipType": "CONTAINS",
                              "relatedSpdxElement": spdx_id})
    return {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{image.repository}@{image.digest}", "documentNamespace": namespace,
        "creationInfo": {"created": timestamp, "creators": [f"Tool: {tool.name}-{tool.version}"]},
        "packages": packages, "relationships": relationships,
    }

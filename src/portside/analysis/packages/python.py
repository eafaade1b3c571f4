"""Python distributions: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` (or `METADATA`),
`EGG-INFO/PKG-INFO` and distutils' single-file `*.egg-info`.

The core-metadata format is e-mail headers; only the headers are parsed (`email.parser` with
`headersonly`), so a long description costs nothing. Names are PEP 503-normalised
(`PyYAML` → `pyyaml`), the form PyPI advisories and purls use. Licence, best first:
`License-Expression` (PEP 639), the last part of a `Classifier: License :: …`, `License`.
"""

from __future__ import annotations

from email.message import Message
from email.parser import Parser
from email.policy import compat32

from packaging.utils import canonicalize_name

from portside.analysis.model import Notes, SourceResult
from portside.analysis.purls import language_purl
from portside.domain.inventory import Package

_LICENSE_CLASSIFIER = "License ::"
#: A `License` header longer than this is the licence text itself, not a name.
_MAX_LICENSE_NAME = 100


def _licence(headers: Message) -> str:
    expression = str(headers.get("License-Expression", "") or "").strip()
    if expression:
        return expression
    classifiers = [str(c) for c in headers.get_all("Classifier", []) if str(c).startswith(_LICENSE_CLASSIFIER)]
    names = [c.rsplit("::", 1)[1].strip() for c in classifiers if c.count("::") >= 2]
    if names:
        return names[-1]
    licence = str(headers.get("License", "") or "").strip()
    if licence and licence.upper() != "UNKNOWN" and len(licence) <= _MAX_LICENSE_NAME and "\n" not in licence:
        return licence
    return ""


def parse_metadata(path: str, data: bytes, layer: str, notes: Notes) -> SourceResult:
    """The distribution described by one core-metadata file; none if it names no Name/Version."""
    headers = Parser(policy=compat32).parsestr(data.decode("utf-8", "replace"), headersonly=True)
    name = str(headers.get("Name", "") or "").strip()
    version = str(headers.get("Version", "") or "").strip()
    if not name or not version:
        notes.add(f"{path}: no Name or Version, skipped")
        return SourceResult(path)
    normalised = canonicalize_name(name)
    licence = _licence(headers)
    package = Package(type="pypi", name=normalised, version=version, source_name=normalised, source_version=version,
                      path=path, layer=layer, purl=language_purl("pypi", normalised, version),
                      licenses=(licence,) if licence else ())
    return SourceResult(path, packages=(package,))

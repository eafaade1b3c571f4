"""npm package.json trees: package roots under node_modules, helpers skipped."""

from __future__ import annotations

import json

from portside.analysis.model import Notes
from portside.analysis.packages.npm import parse_package_json
from portside.analysis.selection import is_npm_package_root

from .tarballs import analyse, file, layer, packages_by_name


def _json(value: object) -> str:
    return json.dumps(value)


def test_a_node_modules_tree_yields_each_installed_package_once() -> None:
    analysis = analyse(layer(
        file("app/package.json", _json({"name": "my-app", "version": "1.0.0", "dependencies": {"lodash": "^4"}})),
        file("app/node_modules/lodash/package.json", _json({"name": "lodash", "version": "4.17.20"})),
        file("app/node_modules/@babel/core/package.json", _json({"name": "@babel/core", "version": "7.23.2"})),
        file("app/node_modules/express/node_modules/minimist/package.json",
             _json({"name": "minimist", "version": "1.2.5"})),
        file("app/node_modules/rxjs/ajax/package.json", _json({"name": "rxjs/ajax", "version": "7.8.1"})),
        file("app/node_modules/lodash/fp/package.json", _json({"name": "lodash-fp-helper", "version": "0.0.1"})),
        file("app/node_modules/@babel/core/lib/package.json", _json({"name": "inner", "version": "0.0.1"})),
    ))

    assert packages_by_name(analysis) == {
        "my-app": ("1.0.0", "app/package.json"),
        "lodash": ("4.17.20", "app/node_modules/lodash/package.json"),
        "@babel/core": ("7.23.2", "app/node_modules/@babel/core/package.json"),
        "minimist": ("1.2.5", "app/node_modules/express/node_modules/minimist/package.json"),
    }


def test_a_scoped_package_gets_an_encoded_purl() -> None:
    (package,) = parse_package_json("p", b'{"name": "@babel/core", "version": "7.23.2"}', "", Notes(1)).packages

    assert package.purl == "pkg:npm/%40babel/core@7.23.2"


def test_the_licence_is_read_in_its_old_and_new_forms() -> None:
    documents = [b'{"name": "a", "version": "1", "license": "MIT"}',
                 b'{"name": "a", "version": "1", "license": {"type": "ISC"}}',
                 b'{"name": "a", "version": "1", "licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]}']

    licences = [parse_package_json("p", d, "", Notes(1)).packages[0].licenses for d in documents]

    assert licences == [("MIT",), ("ISC",), ("MIT OR Apache-2.0",)]


def test_invalid_json_is_skipped_with_a_note() -> None:
    notes = Notes(10)

    result = parse_package_json("app/package.json", b'{"name": "a", "version":', "", notes)

    assert (result.packages, notes.as_tuple()) == ((), ("app/package.json: not valid JSON, skipped",))


def test_a_package_json_without_a_version_names_no_package() -> None:
    assert parse_package_json("p", b'{"name": "workspace-root", "private": true}', "", Notes(1)).packages == ()


def test_package_roots_follow_the_last_node_modules() -> None:
    verdicts = {path: is_npm_package_root(path) for path in (
        "package.json", "a/node_modules/x/package.json", "a/node_modules/@s/x/package.json",
        "a/node_modules/x/node_modules/y/package.json", "a/node_modules/x/sub/package.json",
        "a/node_modules/@s/package.json", "a/node_modules/package.json")}

    assert verdicts == {"package.json": True, "a/node_modules/x/package.json": True,
                        "a/node_modules/@s/x/package.json": True, "a/node_modules/x/node_modules/y/package.json": True,
                        "a/node_modules/x/sub/package.json": False, "a/node_modules/@s/package.json": False,
                        "a/node_modules/package.json": False}

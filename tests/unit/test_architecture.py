"""Architecture checks: import-linter's layering contracts and module naming."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "src" / "portside"
VAGUE_MODULE_NAMES = {"utils", "helpers", "common"}


def test_repo_root_holds_the_import_linter_configuration() -> None:
    assert "[tool.importlinter]" in (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_vague_module_names_under_src() -> None:
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in PACKAGE.rglob("*")
        if path.stem in VAGUE_MODULE_NAMES and (path.suffix == ".py" or path.is_dir())
    ]
    assert offenders == []

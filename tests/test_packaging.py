"""The wheel installs into a fresh venv with only runtime dependencies, and imports there."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import kiket_sdk

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("kiket_sdk-*.whl")
    return found


def test_wheel_contains_generated_code_spec_and_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "kiket_sdk/py.typed",
        "kiket_sdk/_generated/models.py",
        "kiket_sdk/_generated/catalogue.py",
        "kiket_sdk/_generated/operations.py",
        "kiket_sdk/_generated/spec.json",
    ):
        assert required in names
    page = ROOT / "src" / "kiket_sdk" / "_inspector" / "page"  # the inspector's page assets
    assets = {f"kiket_sdk/_inspector/page/{path.name}" for path in page.iterdir()}
    assert len(assets) >= 3
    assert assets <= names
    assert not any(name.startswith(("tests/", "codegen/")) for name in names)
    metadata = next(n for n in names if n.endswith("METADATA"))
    requires = [
        line
        for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    runtime = " ".join(requires).lower()
    for dev_tool in ("datamodel-code-generator", "pytest", "nox", "mypy", "ruff", "jinja2"):
        assert dev_tool not in runtime


@pytest.mark.slow
def test_wheel_installs_and_imports_without_dev_tools(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "import importlib.util, kiket_sdk;"
        "from kiket_sdk import KiketSDK, allow;"
        "from kiket_sdk.events import IssueCreated;"
        "assert importlib.util.find_spec('datamodel_code_generator') is None;"
        "assert importlib.util.find_spec('pytest') is None;"
        "e = IssueCreated.model_validate({'issue': {'id': 1, 'title': 't'}});"
        "print(kiket_sdk.__version__, e.issue.title)"
    )
    result = subprocess.run([str(python), "-c", probe], check=True, capture_output=True, text=True)
    assert result.stdout.split() == [kiket_sdk.__version__, "t"]

"""Golden snapshot of the generator: a small fixture spec is generated and compared file by file.

A generator change (templates, spec_model.py, the pinned datamodel-code-generator) shows up here
as a readable diff. When the change is intended, refresh the snapshot with::

    python codegen/generate.py --spec tests/codegen/fixture-spec.yaml --out tests/codegen/golden
"""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
GOLDEN = HERE / "golden"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("codegen") / "golden"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "codegen" / "generate.py"),
            "--spec",
            str(HERE / "fixture-spec.yaml"),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out


def _python_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.py"))


@pytest.mark.parametrize("name", _python_files(GOLDEN))
def test_generated_file_matches_golden(generated: Path, name: str) -> None:
    expected = (GOLDEN / name).read_text()
    actual = (generated / name).read_text()
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            f"golden/{name}",
            f"generated/{name}",
        )
    )
    assert actual == expected, f"generator output changed:\n{diff}"


def test_golden_covers_every_generated_file(generated: Path) -> None:
    assert _python_files(generated) == _python_files(GOLDEN)


def test_fixture_catalogue_is_typed(generated: Path) -> None:
    text = (generated / "catalogue.py").read_text()
    assert '("widget.created", "v2"): WidgetCreatedV2' in text
    assert 'event: Literal["widget.created"]' in text


def test_fixture_scope_is_generated(generated: Path) -> None:
    text = (generated / "resources" / "widgets.py").read_text()
    assert "class ProjectWidgetsScope:" in text
    assert "class AsyncProjectWidgetsScope:" in text
    assert "since: str | datetime.datetime | NotGiven = NOT_GIVEN" in text
    endpoints = (generated / "endpoints.py").read_text()
    assert "def project_widgets(self, project_id: int | str | None) -> ProjectWidgetsScope:" in (
        endpoints
    )


def test_second_run_changes_nothing(generated: Path, tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "codegen" / "generate.py"),
            "--spec",
            str(HERE / "fixture-spec.yaml"),
            "--out",
            str(generated),
            "--check",
        ],
        check=True,
        capture_output=True,
    )

"""Developer tasks. ``nox -l`` lists them; every check CI runs is here.

nox -s tests            pytest (real servers on loopback; Redis tests need redis-server)
nox -s lint             ruff check + ruff format --check
nox -s typecheck        mypy --strict and pyright strict over src/ (generated code included)
nox -s codegen          regenerate src/kiket_sdk/_generated/ from openapi/
nox -s codegen_check    fail when regeneration would change a file
nox -s layers           import-linter: the architecture contracts in pyproject.toml
nox -s verifytypes      pyright --verifytypes: share of the public API with a known type >= 95 %
nox -s typed_usage      mypy --strict and pyright strict over examples/typed_usage.py
"""

from __future__ import annotations

import json
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = [
    "lint",
    "typecheck",
    "layers",
    "codegen_check",
    "verifytypes",
    "typed_usage",
    "tests",
]
nox.options.reuse_existing_virtualenvs = True

PYTHON = None  # the interpreter nox runs on (CI: the machine's Python 3.11)
PYRIGHT = "pyright==1.1.414"  # a pip wrapper: it runs the machine's node, or installs one (npm)
VERIFYTYPES_BAR = 0.95
"""The least share of exported symbols whose type pyright can tell without guessing."""


def _groups(session: nox.Session, *groups: str) -> list[str]:
    # `pip install --group` (PEP 735) needs pip >= 25.1; a fresh venv may bring an older one.
    session.install("pip>=25.1")
    return [arg for group in groups for arg in ("--group", group)]


def _install(session: nox.Session, *groups: str) -> None:
    session.install("-e", ".", *_groups(session, *groups))


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite (extra arguments go to pytest)."""
    _install(session, "test", "codegen")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.install(*_groups(session, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src/, then pyright strict over src/ and examples/ (the generated
    package included; settings in [tool.pyright])."""
    _install(session, "lint")
    session.install(PYRIGHT)
    session.run("mypy")
    session.run("pyright")


@nox.session(python=PYTHON)
def layers(session: nox.Session) -> None:
    """import-linter: the layering of the inbound path, no cycles ([tool.importlinter])."""
    _install(session, "lint")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def codegen(session: nox.Session) -> None:
    """Regenerate src/kiket_sdk/_generated/ (pass --check to only compare)."""
    session.install("pyyaml", *_groups(session, "codegen"))
    session.run("python", "codegen/generate.py", *session.posargs)


@nox.session(python=PYTHON)
def codegen_check(session: nox.Session) -> None:
    """Fail when `nox -s codegen` would change a committed file."""
    session.install("pyyaml", *_groups(session, "codegen"))
    session.run("python", "codegen/generate.py", "--check")


def _completeness(report: dict[str, object]) -> tuple[float, list[str]]:
    """The completeness score and the exported symbols of ambiguous or unknown type, from
    ``pyright --verifytypes --outputjson`` (``typeCompleteness``)."""
    completeness = report["typeCompleteness"]
    assert isinstance(completeness, dict)
    unsure = [
        str(symbol["name"])
        for symbol in completeness["symbols"]
        if symbol["isExported"] and not symbol["isTypeKnown"]
    ]
    return float(completeness["completenessScore"]), unsure


@nox.session(python=PYTHON)
def verifytypes(session: nox.Session) -> None:
    """pyright --verifytypes kiket_sdk: fails below VERIFYTYPES_BAR (listing what is missing)."""
    session.install("-e", ".", PYRIGHT)
    report_path = Path(session.create_tmp()) / "verifytypes.json"
    with report_path.open("w") as report_file:
        session.run(
            "pyright",
            "--verifytypes",
            "kiket_sdk",
            "--ignoreexternal",
            "--outputjson",
            stdout=report_file,
            stderr=None,
            success_codes=[0, 1],  # 1: some symbol is not fully typed; the bar decides
        )
    score, unsure = _completeness(json.loads(report_path.read_text()))
    for name in unsure:
        session.log(f"not fully typed: {name}")
    if score < VERIFYTYPES_BAR:
        session.error(f"type completeness {score:.1%} is below the bar of {VERIFYTYPES_BAR:.0%}")
    session.log(f"type completeness {score:.1%} (bar {VERIFYTYPES_BAR:.0%})")


@nox.session(python=PYTHON)
def typed_usage(session: nox.Session) -> None:
    """The public API as a user types against it: mypy --strict and pyright strict over
    examples/typed_usage.py (the module itself asks pyright for strict mode)."""
    _install(session, "lint")
    session.install(PYRIGHT)
    session.run("mypy", "--strict", "examples/typed_usage.py")
    session.run("pyright", "examples/typed_usage.py")

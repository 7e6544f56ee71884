"""Developer tasks. ``nox -l`` lists them; every check CI runs is here.

nox -s tests            pytest (real servers on loopback; Redis tests need redis-server)
nox -s lint             ruff check + ruff format --check
nox -s typecheck        mypy --strict over src/ (generated code included)
nox -s codegen          regenerate src/kiket_sdk/_generated/ from openapi/
nox -s codegen_check    fail when regeneration would change a file
nox -s layers           import-linter: the architecture contracts in pyproject.toml
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "typecheck", "layers", "codegen_check", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = None  # the interpreter nox runs on (CI: the machine's Python 3.11)


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
    """mypy --strict over src/ (the generated package included)."""
    _install(session, "lint")
    session.run("mypy")


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

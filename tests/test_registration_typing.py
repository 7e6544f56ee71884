"""The typed ``webhook()`` overloads reject, for mypy --strict and pyright, the registrations
that `tests/test_registration_mistakes.py` shows fail at run time: a context of the other handler
kind, a parameter nothing is passed to, the decorator without its event. Correct handlers (with
or without a context, with an un-annotated one) type-check clean, keeping their types.

Each snippet line marked ``# WRONG`` must have an error, and no other line may have one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import mypy.api as mypy_api
import pytest

import kiket_sdk

ROOT = Path(__file__).resolve().parent.parent
SRC = Path(kiket_sdk.__file__).resolve().parent.parent

RIGHT = """\
# mypy: disable-error-code="no-untyped-def"
from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from kiket_sdk import (
    Allow,
    BaseHandlerContext,
    HandlerContext,
    KiketSDK,
    SyncHandlerContext,
    allow,
    webhook,
)
from kiket_sdk.events import IssueCreated

sdk = KiketSDK(webhook_secret="s")


@sdk.webhook("issue.created")
async def a1(event: IssueCreated, ctx: HandlerContext) -> Allow:
    return allow()


@sdk.webhook("issue.created", version="v1")
def a2(event: IssueCreated, ctx: SyncHandlerContext) -> Allow:
    return allow()


@sdk.webhook("issue.created")
async def a3(event: IssueCreated) -> None: ...


@sdk.webhook("issue.created")
def a4(event: IssueCreated) -> dict[str, Any]:
    return {}


@sdk.webhook("issue.created")
async def a5(event: dict[str, Any], ctx: HandlerContext) -> None: ...


@sdk.webhook("issue.created")
def a6(event: dict[str, Any], ctx: SyncHandlerContext) -> Any: ...


@sdk.webhook("issue.created")
def a7(event: IssueCreated, ctx: BaseHandlerContext) -> None: ...


@sdk.webhook("issue.created")
async def a8(event: IssueCreated, ctx) -> None: ...


@sdk.webhook("issue.created")
def a9(event: IssueCreated, ctx) -> None: ...


@sdk.webhook("custom.x")
async def b1(event: dict[str, Any], ctx: HandlerContext) -> None: ...


@sdk.webhook("custom.x")
def b2(event: dict[str, Any], ctx: SyncHandlerContext) -> list[int]:
    return []


@sdk.webhook("custom.x")
async def b3(event: Any) -> None: ...


@sdk.webhook("custom.x")
def b4(event: dict[str, Any], ctx: SyncHandlerContext, extra: int = 1) -> None: ...


@sdk.webhook("custom.x")
async def b5(event, ctx): ...


@sdk.webhook("custom.x")
def b6(event, ctx): ...


@webhook("issue.created")
async def c1(event: IssueCreated, ctx: HandlerContext) -> None: ...


@webhook("custom.x")
def c2(event: dict[str, Any], ctx: SyncHandlerContext) -> None: ...


kept: Callable[[IssueCreated, HandlerContext], Coroutine[Any, Any, Allow]] = a1
same: Callable[[dict[str, Any], SyncHandlerContext], None] = b4
"""
WRONG = """\
from __future__ import annotations

from typing import Any

from kiket_sdk import Allow, HandlerContext, KiketSDK, SyncHandlerContext, allow, webhook
from kiket_sdk.events import IssueCreated

sdk = KiketSDK(webhook_secret="s")


@sdk.webhook("issue.created")  # WRONG
async def w1(event: IssueCreated, ctx: SyncHandlerContext) -> Allow:
    return allow()


@sdk.webhook("issue.created")  # WRONG
def w2(event: IssueCreated, ctx: HandlerContext) -> Allow:
    return allow()


@sdk.webhook("issue.created")  # WRONG
async def w3(event: dict[str, Any], ctx: SyncHandlerContext) -> None: ...


@sdk.webhook("issue.created")  # WRONG
def w4(event: dict[str, Any], ctx: HandlerContext) -> None: ...


@sdk.webhook("custom.x")  # WRONG
async def w5(event: dict[str, Any], ctx: SyncHandlerContext) -> Any: ...


@sdk.webhook("custom.x")  # WRONG
def w6(event: dict[str, Any], ctx: HandlerContext) -> None: ...


@webhook("issue.created")  # WRONG
async def w7(event: IssueCreated, ctx: SyncHandlerContext) -> None: ...


@webhook("custom.x")  # WRONG
def w8(event: IssueCreated, ctx: HandlerContext) -> None: ...


@sdk.webhook  # WRONG
async def w9(event: IssueCreated, ctx: HandlerContext) -> None: ...


@sdk.webhook("issue.created")  # WRONG
def w10(event: IssueCreated, ctx: SyncHandlerContext, extra: int) -> None: ...


@sdk.webhook("custom.x")  # WRONG
def w11(event: dict[str, Any], ctx: SyncHandlerContext, extra: int) -> None: ...


def f(event: dict[str, Any]) -> None: ...


sdk.webhook(f)  # WRONG
webhook(f)  # WRONG
"""


def _wrong_lines(source: str) -> set[int]:
    return {n for n, line in enumerate(source.splitlines(), 1) if "# WRONG" in line}


@pytest.fixture(scope="module")
def snippets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("registration_typing")
    (folder / "right.py").write_text(RIGHT)
    (folder / "wrong.py").write_text(WRONG)
    return folder


def _by_file(errors: list[tuple[str, int]]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {"right.py": set(), "wrong.py": set()}
    for name, line in errors:
        found.setdefault(Path(name).name, set()).add(line)
    return found


@pytest.fixture(scope="module")
def mypy_errors(snippets: Path) -> dict[str, set[int]]:
    stdout, stderr, _ = mypy_api.run(
        [
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(snippets / ".mypy_cache"),
            "--no-incremental",
            str(snippets / "right.py"),
            str(snippets / "wrong.py"),
        ]
    )
    errors = []
    for line in (stdout + stderr).splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[2].strip() == "error":
            errors.append((parts[0], int(parts[1])))
    return _by_file(errors)


def test_mypy_accepts_matching_handlers(mypy_errors: dict[str, set[int]]) -> None:
    assert mypy_errors["right.py"] == set()


def test_mypy_rejects_each_mismatch(mypy_errors: dict[str, set[int]]) -> None:
    assert mypy_errors["wrong.py"] == _wrong_lines(WRONG)


@pytest.fixture(scope="module")
def pyright_errors(snippets: Path) -> dict[str, set[int]]:
    pyright = shutil.which("pyright")
    if pyright is None:
        pytest.skip("pyright is not installed (python3 -m pip install pyright)")
    (snippets / "pyrightconfig.json").write_text(
        json.dumps(
            {
                "extraPaths": [str(SRC)],
                "pythonVersion": "3.11",
                "typeCheckingMode": "strict",
                # the un-annotated handlers are deliberate (strict reports the annotation gaps)
                "reportMissingParameterType": False,
                "reportUnknownParameterType": False,
            }
        )
    )
    done = subprocess.run(
        [pyright, "--outputjson", "--pythonpath", sys.executable, "right.py", "wrong.py"],
        cwd=snippets,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads(done.stdout)
    return _by_file(
        [
            (d["file"], d["range"]["start"]["line"] + 1)
            for d in report["generalDiagnostics"]
            if d["severity"] == "error" and d.get("rule") != "reportUntypedFunctionDecorator"
        ]
    )


def test_pyright_accepts_matching_handlers(pyright_errors: dict[str, set[int]]) -> None:
    assert pyright_errors["right.py"] == set()


def test_pyright_rejects_each_mismatch(pyright_errors: dict[str, set[int]]) -> None:
    assert pyright_errors["wrong.py"] == _wrong_lines(WRONG)

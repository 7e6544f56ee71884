"""The typed ``webhook()`` overloads reject, for mypy --strict and pyright, the registrations
that `tests/test_registration_mistakes.py` shows fail at run time: a context of the other handler
kind, a parameter nothing is passed to, the decorator without its event, a payload model of
another event (or version). Correct handlers (with or without a context, with an un-annotated
one, at any spelling of a catalogued version) type-check clean, keeping their types: parameter
names included, so a decorated handler can be called with keywords.

Each snippet line marked ``# WRONG`` must have an error, and no other line may have one; a line
marked ``# WRONG: <Model>`` must have a message (error or note) that names the expected model.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args, get_origin, get_overloads, get_type_hints

import mypy.api as mypy_api
import pytest

import kiket_sdk
from kiket_sdk._delivery.handlers import check_route
from kiket_sdk._generated.catalogue import EVENT_PAYLOADS, WebhookRegistry

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
from kiket_sdk.events import IssueCreated, IssueCreatedV2, SlaBreach

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


@sdk.webhook("issue.created", version="V1")
async def d1(event: IssueCreated, ctx: HandlerContext) -> None: ...


@sdk.webhook("issue.created", version="1")
def d2(event: IssueCreated, ctx: SyncHandlerContext) -> None: ...


@sdk.webhook("issue.created", version="2")
async def d3(event: IssueCreatedV2, ctx: HandlerContext) -> None: ...


@sdk.webhook("issue.created", version="V2")
def d4(event: IssueCreatedV2) -> None: ...


@webhook("sla.breach", version="V1")
async def d5(event: SlaBreach, ctx: HandlerContext) -> None: ...


kept: Callable[[IssueCreated, HandlerContext], Coroutine[Any, Any, Allow]] = a1
same: Callable[[dict[str, Any], SyncHandlerContext], None] = b4


async def call_by_keyword(
    event: IssueCreated, sla: SlaBreach, ctx: HandlerContext, sync_ctx: SyncHandlerContext
) -> None:
    answer: Allow = await a1(event=event, ctx=ctx)
    sync_answer: Allow = a2(event=event, ctx=sync_ctx)
    b4(event={}, ctx=sync_ctx, extra=2)
    await c1(event=event, ctx=ctx)
    await d5(event=sla, ctx=ctx)
    print(answer, sync_answer)
"""
WRONG = """\
from __future__ import annotations

from typing import Any

from kiket_sdk import Allow, HandlerContext, KiketSDK, SyncHandlerContext, allow, webhook
from kiket_sdk.events import IssueCreated, IssueCreatedV2, SlaWarning

sdk = KiketSDK(webhook_secret="s")


@sdk.webhook("issue.created")  # WRONG: IssueCreated
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


@sdk.webhook("sla.breach")  # WRONG: SlaBreach
async def w12(event: SlaWarning, ctx: HandlerContext) -> None: ...


@webhook("sla.breach")  # WRONG: SlaBreach
def w13(event: SlaWarning, ctx: SyncHandlerContext) -> None: ...


@sdk.webhook("issue.created", version="V1")  # WRONG: IssueCreated
async def w14(event: IssueCreatedV2, ctx: HandlerContext) -> None: ...


@sdk.webhook("issue.created", version="1")  # WRONG: IssueCreated
def w15(event: IssueCreatedV2) -> None: ...


@sdk.webhook("issue.created")
async def w16(event: IssueCreated, ctx: HandlerContext) -> None: ...


async def call_wrongly(event: IssueCreated, ctx: HandlerContext) -> None:
    await w16(event=event, context=ctx)  # WRONG
"""


def _wrong_lines(source: str) -> set[int]:
    return {n for n, line in enumerate(source.splitlines(), 1) if "# WRONG" in line}


def _expected_models(source: str) -> dict[int, str]:
    """Line -> the model its ``# WRONG: <Model>`` marker says the message must name."""
    return {
        n: line.split("# WRONG:", 1)[1].strip()
        for n, line in enumerate(source.splitlines(), 1)
        if "# WRONG:" in line
    }


@dataclass
class Report:
    """One checker's findings on the two snippets: error lines per file, and every message
    (errors and notes) on each line of ``wrong.py``."""

    errors: dict[str, set[int]] = field(
        default_factory=lambda: {"right.py": set(), "wrong.py": set()}
    )
    messages: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, file: str, line: int, severity: str, text: str) -> None:
        name = Path(file).name
        if severity == "error":
            self.errors.setdefault(name, set()).add(line)
        if name == "wrong.py":
            self.messages[line].append(text)


@pytest.fixture(scope="module")
def snippets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("registration_typing")
    (folder / "right.py").write_text(RIGHT)
    (folder / "wrong.py").write_text(WRONG)
    return folder


@pytest.fixture(scope="module")
def mypy_report(snippets: Path) -> Report:
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
    report = Report()
    for line in (stdout + stderr).splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[1].isdigit():
            report.add(parts[0], int(parts[1]), parts[2].strip(), parts[3])
    return report


def _names(text: str, model: str) -> bool:
    return re.search(rf"\b{model}\b", text) is not None


def test_mypy_accepts_matching_handlers(mypy_report: Report) -> None:
    assert mypy_report.errors["right.py"] == set()


def test_mypy_rejects_each_mismatch(mypy_report: Report) -> None:
    assert mypy_report.errors["wrong.py"] == _wrong_lines(WRONG)


@pytest.mark.parametrize(("line", "model"), sorted(_expected_models(WRONG).items()))
def test_mypy_names_the_expected_model(mypy_report: Report, line: int, model: str) -> None:
    text = "\n".join(mypy_report.messages[line])
    assert _names(text, model), text


@pytest.fixture(scope="module")
def pyright_report(snippets: Path) -> Report:
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
    report = Report()
    for d in json.loads(done.stdout)["generalDiagnostics"]:
        if d.get("rule") != "reportUntypedFunctionDecorator":
            report.add(d["file"], d["range"]["start"]["line"] + 1, d["severity"], d["message"])
    return report


def test_pyright_accepts_matching_handlers(pyright_report: Report) -> None:
    assert pyright_report.errors["right.py"] == set()


def test_pyright_rejects_each_mismatch(pyright_report: Report) -> None:
    assert pyright_report.errors["wrong.py"] == _wrong_lines(WRONG)


@pytest.mark.parametrize(("line", "model"), sorted(_expected_models(WRONG).items()))
def test_pyright_names_the_expected_model(pyright_report: Report, line: int, model: str) -> None:
    text = "\n".join(pyright_report.messages[line])
    assert _names(text, model), text


def test_typed_versions_are_the_spellings_registration_accepts() -> None:
    """Each catalogued (event, version) has one overload whose ``version`` literals are the
    spellings `check_route` folds into that version (``v1``, ``V1``, ``1``)."""
    typed: dict[tuple[str, str], set[str]] = {}
    for signature in get_overloads(WebhookRegistry.webhook):
        hints = get_type_hints(signature)
        if get_origin(hints["event"]) is not Literal:
            continue  # the str fallback
        (event,) = get_args(hints["event"])
        spellings = set(get_args(hints["version"]))
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # a catalogued version never warns
            versions = {check_route(event, spelling)[1] for spelling in spellings}
        assert len(versions) == 1, (event, spellings)
        version = versions.pop()
        assert {version, version.upper(), version.removeprefix("v")} <= spellings
        typed[event, version] = spellings
    assert set(typed) == set(EVENT_PAYLOADS)

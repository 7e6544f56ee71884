"""The two OpenAPI checkers the documents must pass: openapi-spec-validator (PyPI, a test
dependency) and Redocly's ``redocly lint`` (npm ``@redocly/cli``, pinned in `REDOCLY`).

Redocly is installed with npm into `redocly_dir` (``~/.cache/kiket-sdk/redocly-<version>``,
or ``$KIKET_REDOCLY_DIR``) the first time a test needs it; ``.ci/run`` installs it there before
the tests with ``python3 tests/docs/_linters.py``. Version 1.34.20: it runs on Node.js 18.17 and
later (Debian's own ``nodejs`` included), where the 2.x line needs 20.19 or 22.12.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REDOCLY_VERSION = "1.34.20"
REDOCLY = f"@redocly/cli@{REDOCLY_VERSION}"
_INSTALL_TIMEOUT = 600  # seconds; about 40 s on a fresh machine
_QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}


def redocly_dir() -> Path:
    """Where ``@redocly/cli`` is installed (``node_modules`` inside)."""
    configured = os.environ.get("KIKET_REDOCLY_DIR")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "kiket-sdk" / f"redocly-{REDOCLY_VERSION}"


def install_redocly() -> Path | None:
    """The ``redocly`` executable, installed with npm first if needed; ``None`` when npm is not
    on this machine. Raises ``subprocess.CalledProcessError`` when npm fails.

    npm installs into a fresh folder that is then renamed into place, so two test processes
    installing at once both end with a whole installation.
    """
    target = redocly_dir()
    executable = target / "node_modules" / ".bin" / "redocly"
    if executable.exists():
        return executable
    npm = shutil.which("npm")
    if npm is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="redocly-", dir=target.parent))
    try:
        subprocess.run(
            [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund", REDOCLY],
            check=True,
            capture_output=True,
            timeout=_INSTALL_TIMEOUT,
        )
        staging.rename(target)
    except OSError:  # another process put its installation there first
        pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return executable


def redocly_lint(
    executable: Path, document: dict[str, Any], folder: Path, *, rules_off: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``redocly lint`` of ``document`` with the recommended rules (less ``rules_off``): its
    JSON report, ``{"totals": {"errors": N, "warnings": N, ...}, "problems": [...]}``."""
    path = folder / "openapi.json"
    path.write_text(json.dumps(document))
    config = folder / "redocly.yaml"
    rules = "".join(f"\n  {rule}: off" for rule in rules_off)
    config.write_text("extends:\n  - recommended\n" + (f"rules:{rules}\n" if rules else ""))
    result = subprocess.run(
        [str(executable), "lint", str(path), "--format=json", f"--config={config}"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **_QUIET},
        cwd=folder,
    )
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"redocly gave no report:\n{result.stdout}\n{result.stderr}") from exc
    return report


def redocly_errors(report: dict[str, Any]) -> list[str]:
    """The report's errors, one line each (rule, pointer, message)."""
    return [
        f"{p['ruleId']} at {p['location'][0].get('pointer')}: {p['message']}"
        for p in report.get("problems", [])
        if p.get("severity") == "error"
    ]


if __name__ == "__main__":  # .ci/run: install before the tests
    installed = install_redocly()
    if installed is None:
        sys.exit("npm is not installed: cannot install " + REDOCLY)
    print(f"redocly {REDOCLY_VERSION} at {installed}")

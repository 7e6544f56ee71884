"""``kiket-sdk new``: scaffold a ready-to-run extension project.

The generated project is the smallest complete extension: a flat ``extension.yaml``
manifest, an ``app.py`` with one typed ``issue.created`` handler, tests that deliver a signed
event in-process (and prove a bad signature is refused), a ``pyproject.toml`` so ``pytest``
finds ``app``, and a Dockerfile that serves it with ``kiket-sdk run`` on ``$PORT``.

The templates are ``str.format`` strings: ``{name}`` and ``{ext_id}`` are filled in, so
literal braces in the generated code are doubled (``{{greeting}}``). Templates without
placeholders (the Dockerfile, the tests) are written as they are.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kiket_sdk._cli._common import CLIError, out
from kiket_sdk._cli._network import os_reason

__all__ = ["cmd_new"]

_MANIFEST = """\
# Kiket extension manifest (flat layout).
id: {ext_id}
version: "0.1.0"
name: {name}
# Kiket signs each delivery with this secret; the sdk reads it from the environment.
delivery_secret: env.KIKET_WEBHOOK_SECRET
settings:
  - key: GREETING
    default: "Thanks for the report"
  - key: API_KEY
    secret: true
"""

_APP = '''\
"""{name}: a Kiket extension."""

from __future__ import annotations

from pathlib import Path

from kiket_sdk import Allow, HandlerContext, KiketSDK, allow
from kiket_sdk.events import IssueCreated

# Configuration comes from extension.yaml and the environment (KIKET_WEBHOOK_SECRET, ...).
sdk = KiketSDK(manifest_path=Path(__file__).with_name("extension.yaml"))


@sdk.webhook("issue.created", version="v1")
async def on_issue_created(event: IssueCreated, ctx: HandlerContext) -> Allow:
    greeting = ctx.settings.get("GREETING", "Thanks")
    message = f"{{greeting}}: {{event.issue.title}}"
    return allow(message=message, data={{"issue_id": event.issue.id}})
'''

_CONFTEST = """\
import os

# A webhook secret for the tests, set before `app` is imported (the sdk reads it at import).
os.environ.setdefault("KIKET_WEBHOOK_SECRET", "test-secret")
"""

_TEST_APP = """\
from kiket_sdk.testing import deliver_sync, event_payload

from app import sdk


def test_issue_created_is_allowed(kiket_deliver):
    answer = kiket_deliver(sdk, "issue.created", issue__title="Printer on fire")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "allow"
    assert "Printer on fire" in answer.json()["message"]


def test_wrong_signature_is_refused():
    answer = deliver_sync(sdk, "issue.created", event_payload("issue.created"), secret="wrong")
    assert answer.status_code == 401
"""

_PYPROJECT = """\
[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["kiket-sdk"]

[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
"""

_DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV PORT=8080
EXPOSE 8080
HEALTHCHECK CMD python -c "import urllib.request,os;urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\\"PORT\\",\\"8080\\")}/health')"
CMD kiket-sdk run app:sdk --host 0.0.0.0
"""

_README = """\
# {name}

A Kiket extension built with kiket-sdk.

```bash
pip install -r requirements.txt pytest
pytest                          # run the tests
kiket-sdk dev app:sdk           # local server + fake Kiket API; prints a ready `send` line
kiket-sdk send issue.created --set issue.title="Printer on fire" --secret <secret>
kiket-sdk manifest check        # what the runtime reads from extension.yaml
docker build -t {name} . && docker run -e KIKET_WEBHOOK_SECRET=... -p 8080:8080 {name}
```
"""


def cmd_new(args: argparse.Namespace) -> int:
    """Write a new extension project into ``--dir``/NAME (refusing a non-empty folder).

    The name must start with a letter; the manifest id is derived from it
    (``My-Ext`` -> ``com.example.my_ext``). Existing empty folders are reused. A folder that
    cannot be written is a usage error (exit code 2) naming ``--dir``.
    """
    import re

    name = args.name.strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name):
        raise CLIError(f"project name must be letters, digits, - or _ (got {name!r})")
    root = Path(args.dir) / name
    if root.exists() and not root.is_dir():
        raise CLIError(f"{root} already exists and is not a folder")
    if root.exists() and any(root.iterdir()):
        raise CLIError(f"{root} already exists and is not empty")
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    files = {
        "extension.yaml": _MANIFEST.format(ext_id=f"com.example.{slug}", name=name),
        "app.py": _APP.format(name=name),
        "requirements.txt": "kiket-sdk\n",
        "pyproject.toml": _PYPROJECT.format(name=name),
        "Dockerfile": _DOCKERFILE,
        "README.md": _README.format(name=name),
        "tests/__init__.py": "",
        "tests/conftest.py": _CONFTEST,
        "tests/test_app.py": _TEST_APP,
    }
    for relative, text in files.items():
        target = root / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CLIError(f"argument --dir: cannot write {target}: {os_reason(exc)}") from None
    out(f"created {root}")
    for relative in files:
        out(f"  {relative}")
    out(f"next: cd {root} && pytest && kiket-sdk dev app:sdk")
    return 0

"""``kiket-sdk``: run, develop, test and scaffold Kiket extensions from the command line.

```
kiket-sdk run app:sdk [--host 127.0.0.1] [--port 8000] [--reload]
kiket-sdk dev app:sdk [--port 8000] [--fake-port 0]
kiket-sdk send issue.created [--set issue.title=X] [--url http://127.0.0.1:8000] [--secret S]
kiket-sdk sign --secret S --file body.json
kiket-sdk events
kiket-sdk new my-extension [--dir .]
kiket-sdk manifest check [extension.yaml]
```

Errors are printed as one line on stderr with exit code 1 (no tracebacks).

The package is split by concept; each command imports its heavy dependencies (uvicorn, httpx,
the generated catalogue) only when it runs, so ``kiket-sdk --help`` stays fast:

- ``_main``: the argparse wiring and the error handling around every command (``main``).
- ``_common``: what every command shares: ``CLIError`` and the flushed ``out`` printer.
- ``_dev``: ``run`` and ``dev``: serving an extension, the fake Kiket API and the live log.
- ``_send``: ``send``, ``sign`` and ``events``: talking to a running extension by hand.
- ``_scaffold``: ``new``: the files of a freshly generated extension project.
- ``_manifest_check``: ``manifest check``: what the runtime reads from a manifest.
"""

from __future__ import annotations

from kiket_sdk._cli._dev import DEV_WEBHOOK_SECRET
from kiket_sdk._cli._main import build_parser, main

__all__ = ["DEV_WEBHOOK_SECRET", "build_parser", "main"]

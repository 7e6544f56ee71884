"""``kiket-sdk``: run, develop, test and scaffold Kiket extensions from the command line.

```
kiket-sdk run app:sdk [--host $HOST|127.0.0.1] [--port $PORT|8000] [--reload]
kiket-sdk dev app:sdk [--host $HOST|127.0.0.1] [--port 8000] [--fake-port 0]
kiket-sdk send issue.created [--set issue.title=X] [--url http://127.0.0.1:8000] [--secret S]
kiket-sdk sign --secret S --file body.json
kiket-sdk events
kiket-sdk new my-extension [--dir .]
kiket-sdk manifest check [extension.yaml]
```

Errors are printed as one line on stderr (``kiket-sdk: error: ...``, never a traceback).
Exit codes: 0 done; 1 the command ran and failed (manifest problems, a non-2xx answer, a
network error, which names the URL or address); 2 usage or configuration error (bad
argument, missing file, ``PORT=abc``, ``KIKET_BASE_URL=localhost:9999``); 130 interrupted.
``run`` and ``dev`` bind 127.0.0.1 unless ``--host`` or ``$HOST`` say otherwise (in a
container, set ``HOST=0.0.0.0``).

The package is split by concept; each command imports its heavy dependencies (uvicorn, httpx,
the generated catalogue) only when it runs, so ``kiket-sdk --help`` stays fast:

- ``_main``: the argparse wiring and the error handling around every command (``main``).
- ``_arguments``: the argparse ``type=`` checks of every option value (usage errors, exit 2).
- ``_common``: what every command shares: exit codes, ``CLIError``, the flushed ``out``.
- ``_network``: failed network calls as one line naming the URL or address.
- ``_dev``: ``run`` and ``dev``: serving an extension, the fake Kiket API and the live log.
- ``_send``: ``send``, ``sign`` and ``events``: talking to a running extension by hand.
- ``_scaffold``: ``new``: the files of a freshly generated extension project.
- ``_manifest_check``: ``manifest check``: what the runtime reads from a manifest.
"""

from __future__ import annotations

from kiket_sdk._cli._dev import DEV_WEBHOOK_SECRET
from kiket_sdk._cli._main import build_parser, main

__all__ = ["DEV_WEBHOOK_SECRET", "build_parser", "main"]

"""``kiket-sdk manifest check``: show what the runtime reads from a manifest.

The manifest is loaded with the same ``load_manifest`` the sdk uses at start-up, so the
report (id, version, delivery secret, settings, secret keys, problems) is exactly what a
deployed extension would see, including whether ``env.`` references resolve in this shell.
Problems (unknown keys with a suggestion, unset env references, odd values) are listed on
stdout. Exit code 0 when there are none, 1 when any is reported, 2 when no manifest is found
or it cannot be read or parsed (one ``kiket-sdk: error:`` line on stderr).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from kiket_sdk._cli._common import EXIT_FAILED, EXIT_OK, CLIError, out

__all__ = ["cmd_manifest_check"]


def cmd_manifest_check(args: argparse.Namespace) -> int:
    """Load the manifest at ``path`` (a file, or a folder to search; default cwd) and report.

    Returns 0 without problems, 1 with problems; raises ``CLIError``/``ConfigurationError``
    (exit code 2) when there is no manifest to check.
    """
    from kiket_sdk._manifest import load_manifest

    path = Path(args.path) if args.path else None
    if path is not None and path.is_dir():
        manifest = load_manifest(search_dir=path)
    else:
        manifest = load_manifest(path)
    if manifest is None:
        where = args.path or os.getcwd()
        raise CLIError(f"no manifest found in {where} (extension.yaml, manifest.yaml, ...)")
    out(f"manifest  {manifest.path}")
    out(f"id        {manifest.id or '(missing)'}")
    out(f"version   {manifest.version or '(missing)'}")
    if manifest.delivery_secret_ref:
        state = "set" if manifest.delivery_secret else "not set"
        out(f"delivery secret  {manifest.delivery_secret_ref} ({state})")
    out(f"settings  ({len(manifest.settings)})")
    for spec in manifest.settings:
        flag = " secret" if spec.secret else ""
        default = "" if spec.default is None else f" default={spec.default!r}"
        out(f"  {spec.key}{flag}{default}")
    out(f"secret keys  {', '.join(manifest.secret_keys) or '(none)'}")
    if not manifest.problems:
        out("problems  none")
        return EXIT_OK
    out(f"problems  ({len(manifest.problems)})")
    for problem in manifest.problems:
        out(f"  - {problem}")
    return EXIT_FAILED

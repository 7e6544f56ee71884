"""``kiket-sdk manifest check``: show what the runtime reads from a manifest.

The manifest is loaded with the same ``load_manifest`` the sdk uses at start-up, so the
report (id, version, delivery secret, settings, secret keys, problems) is exactly what a
deployed extension would see, including whether ``env.`` references resolve in this shell.
Secret values are never printed: the delivery secret is reported as ``set (from NAME)``, ``not
set`` or ``literal in the manifest (value hidden)``, and a secret setting's literal default as
``(hidden)``; variable names are shown, since they are not secrets.
Problems (unknown keys with a suggestion, unset env references, odd values) are listed on
stdout. Exit code 0 when there are none, 1 when any is reported, 2 when no manifest is found
or it cannot be read or parsed (one ``kiket-sdk: error:`` line on stderr).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from kiket_sdk._cli._common import EXIT_FAILED, EXIT_OK, CLIError, out

if TYPE_CHECKING:
    from kiket_sdk._manifest import ExtensionManifest

__all__ = ["cmd_manifest_check"]


def _delivery_secret_state(manifest: ExtensionManifest) -> str:
    """Whether the delivery secret is set and where it comes from; never the secret itself.

    ``set (from KIKET_WEBHOOK_SECRET)``, ``not set (KIKET_WEBHOOK_SECRET is unset)``, or, for
    a secret written in the file, ``literal in the manifest (value hidden)``.
    """
    from kiket_sdk._manifest.delivery_secret import delivery_secret_env_names

    names = delivery_secret_env_names(manifest.delivery_secret_ref or "")
    if not names:
        return "literal in the manifest (value hidden)"
    if manifest.delivery_secret:
        return f"set (from {', '.join(names)})"
    return f"not set ({', '.join(names)} {'is' if len(names) == 1 else 'are'} unset)"


def _shown_default(default: object, *, secret: bool) -> str:
    """`` default=...`` for a setting line; a secret setting's literal default is hidden.

    An env reference (``env.API_KEY``) names a variable, not a value, so it is shown as written.
    """
    from kiket_sdk._manifest import env_reference_name

    if default is None:
        return ""
    if secret and env_reference_name(default) is None:
        return " default=(hidden)"
    return f" default={default!r}"


def cmd_manifest_check(args: argparse.Namespace) -> int:
    """Load the manifest at ``path`` (a file, or a folder to search; default cwd) and report.

    Returns 0 without problems, 1 with problems; raises ``CLIError``/``ConfigurationError``
    (exit code 2) when there is no manifest to check.
    """
    from kiket_sdk._manifest import load_manifest
    from kiket_sdk._manifest.delivery_secret import find_delivery_secret

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
        where, _ = find_delivery_secret(manifest.raw)
        out(f"delivery secret  {where}: {_delivery_secret_state(manifest)}")
    out(f"settings  ({len(manifest.settings)})")
    for spec in manifest.settings:
        secret = spec.secret or spec.key in manifest.secret_keys
        flag = " secret" if secret else ""
        out(f"  {spec.key}{flag}{_shown_default(spec.default, secret=secret)}")
    out(f"secret keys  {', '.join(manifest.secret_keys) or '(none)'}")
    if not manifest.problems:
        out("problems  none")
        return EXIT_OK
    out(f"problems  ({len(manifest.problems)})")
    for problem in manifest.problems:
        out(f"  - {problem}")
    return EXIT_FAILED

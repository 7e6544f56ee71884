"""Find a manifest file and load it: the search order, the YAML and the errors that stop a start.

Only a missing explicit path, an unreadable file or invalid YAML raise ``ConfigurationError``;
odd content is ``parsing``'s business and ends up in ``manifest.problems``.

Example:

```python
import tempfile
from pathlib import Path

from kiket_sdk._manifest.loading import find_manifest, load_manifest

with tempfile.TemporaryDirectory() as folder:
    assert find_manifest(folder) is None and load_manifest(search_dir=folder) is None
    Path(folder, "extension.yaml").write_text("id: com.example.a\\nversion: '1.0'\\n")
    manifest = load_manifest(search_dir=folder, environ={})
    assert manifest is not None and manifest.id == "com.example.a"
```
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._manifest.model import ExtensionManifest
from kiket_sdk._manifest.parsing import parse_manifest
from kiket_sdk._manifest.yaml_values import is_mapping

__all__ = ["MANIFEST_SEARCH_ORDER", "find_manifest", "load_manifest"]

MANIFEST_SEARCH_ORDER = (
    "extension.yaml",
    "extension.yml",
    "manifest.yaml",
    "manifest.yml",
    ".kiket/manifest.yaml",
)


def find_manifest(start: Path | str | None = None) -> Path | None:
    """The first of :data:`MANIFEST_SEARCH_ORDER` that is a file in ``start`` (default: cwd).

    Only that one directory is searched, never its parents.
    """
    base = Path.cwd() if start is None else Path(start)
    for name in MANIFEST_SEARCH_ORDER:
        candidate = base / name
        if candidate.is_file():
            return candidate
    return None


def load_manifest(
    path: Path | str | None = None,
    *,
    search_dir: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ExtensionManifest | None:
    """Load the manifest at ``path``, or the first one found in ``search_dir`` (default: cwd).

    Returns ``None`` when no path is given and nothing is found. Raises ``ConfigurationError``
    when an explicit ``path`` does not exist, the file cannot be read, is not valid YAML (the
    message gives the line) or is not a mapping. Env references are resolved against
    ``environ`` (default ``os.environ``).
    """
    if path is not None:
        target = Path(path)
        if not target.is_file():
            reason = "is not a file" if target.exists() else "does not exist"
            raise ConfigurationError(f"Manifest {target} {reason}; pass the path of a YAML file.")
    else:
        found = find_manifest(search_dir)
        if found is None:
            return None
        target = found
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"Cannot read manifest {target}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = ""
        if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
            line = f" at line {exc.problem_mark.line + 1}"
        detail = (exc.problem if isinstance(exc, yaml.MarkedYAMLError) else None) or str(exc)
        raise ConfigurationError(f"Manifest {target} is not valid YAML{line}: {detail}") from exc
    if not is_mapping(data):
        found_kind = "nothing" if data is None else type(data).__name__
        raise ConfigurationError(
            f"Manifest {target} must be a YAML mapping at the top level, found {found_kind}."
        )
    return parse_manifest(data, path=target, environ=environ)

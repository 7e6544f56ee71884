"""The extension manifest and the settings it gives an extension: find, load, check, resolve.

One concept per module (each imports only the ones listed after it):

- ``loading``: the search order, reading the file and the YAML (``find_manifest``,
  ``load_manifest``); only a missing explicit path, unreadable file or bad YAML raise.
- ``parsing``: any of the three layouts into an ``ExtensionManifest`` (``parse_manifest``);
  odd content, including unknown keys, becomes ``manifest.problems``.
- ``settings``: the settings and webhook secret an extension runs with (``resolve_settings``,
  ``resolve_webhook_secret``).
- ``known_keys``: the keys each manifest level may use, and the report of the others.
- ``delivery_secret``: where a manifest writes the delivery secret and what its text means.
- ``model``: ``ExtensionManifest``, ``SettingSpec``, ``HookSpec``, ``OutputFieldSpec``.
- ``environment``: ``env.NAME``/``env:NAME``/``${NAME}`` references, ``KIKET_SECRET_<KEY>`` names.
- ``yaml_values``: tolerant readers of YAML values.

Example:

```python
import tempfile
from pathlib import Path

from kiket_sdk._manifest import load_manifest, resolve_settings

with tempfile.TemporaryDirectory() as folder:
    Path(folder, "extension.yaml").write_text(
        "id: com.example.marketing\\n"
        "version: 1.0\\n"
        "delivery_secret: env.KIKET_WEBHOOK_SECRET\\n"
        "settings:\\n"
        "  - {key: API_KEY, secret: true}\\n"
        "  - {key: MAX_RETRIES, default: '3'}\\n"
    )
    manifest = load_manifest(search_dir=folder, environ={})
    assert manifest is not None and manifest.version == "1.0"
    env = {"KIKET_SECRET_API_KEY": "k-123"}
    assert resolve_settings(manifest, environ=env) == {"MAX_RETRIES": "3", "API_KEY": "k-123"}
```
"""

from __future__ import annotations

from kiket_sdk._manifest.environment import (
    SECRET_ENV_PREFIX,
    WEBHOOK_SECRET_ENV,
    env_reference_name,
    referenced_env_names,
    resolve_env_reference,
    secret_env_name,
)
from kiket_sdk._manifest.loading import MANIFEST_SEARCH_ORDER, find_manifest, load_manifest
from kiket_sdk._manifest.model import (
    OUTPUT_FIELD_TYPES,
    ExtensionManifest,
    HookSpec,
    OutputFieldSpec,
    SettingSpec,
)
from kiket_sdk._manifest.parsing import parse_manifest
from kiket_sdk._manifest.settings import resolve_settings, resolve_webhook_secret

__all__ = [
    "MANIFEST_SEARCH_ORDER",
    "OUTPUT_FIELD_TYPES",
    "SECRET_ENV_PREFIX",
    "WEBHOOK_SECRET_ENV",
    "ExtensionManifest",
    "HookSpec",
    "OutputFieldSpec",
    "SettingSpec",
    "env_reference_name",
    "find_manifest",
    "load_manifest",
    "parse_manifest",
    "referenced_env_names",
    "resolve_env_reference",
    "resolve_settings",
    "resolve_webhook_secret",
    "secret_env_name",
]

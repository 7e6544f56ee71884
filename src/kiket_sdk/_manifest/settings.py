"""The settings and the webhook secret an extension runs with, from manifest and environment.

The precedence comes from the Kiket contract, sections 3 and 4:

* settings: manifest defaults -> ``KIKET_SECRET_<KEY>`` -> explicit ``settings=``;
* webhook secret: constructor value -> manifest delivery secret -> ``KIKET_WEBHOOK_SECRET``.

Example:

```python
from kiket_sdk._manifest.model import ExtensionManifest, SettingSpec
from kiket_sdk._manifest.settings import resolve_settings, resolve_webhook_secret

manifest = ExtensionManifest(
    path=None,
    id="com.example.a",
    version="1",
    settings=(SettingSpec("RETRIES", default="3"), SettingSpec("API_KEY", secret=True)),
    secret_keys=("API_KEY",),
    delivery_secret_ref="env.KIKET_WEBHOOK_SECRET",
)
env = {"KIKET_SECRET_API_KEY": "k-1", "KIKET_WEBHOOK_SECRET": "sh_123"}
assert resolve_settings(manifest, environ=env) == {"RETRIES": "3", "API_KEY": "k-1"}
assert resolve_webhook_secret(None, manifest, env) == "sh_123"
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiket_sdk._manifest.delivery_secret import delivery_secret_value
from kiket_sdk._manifest.environment import (
    WEBHOOK_SECRET_ENV,
    env_or_os,
    env_reference_name,
    secret_env_name,
)
from kiket_sdk._manifest.model import ExtensionManifest

__all__ = ["resolve_settings", "resolve_webhook_secret"]


def _present(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def resolve_settings(
    manifest: ExtensionManifest | None,
    explicit: Mapping[str, Any] | None = None,
    *,
    auto_env_secrets: bool = True,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The settings an extension runs with, as a new dict.

    Layers, later wins:

    1. the manifest's defaults, as written in the YAML (``"false"`` and ``"3"`` stay strings: the
       manifest's ``type:`` is advisory and real manifests quote their defaults, so coercing would
       guess). A default that is a whole env reference (``env.NAME``) is replaced by the
       variable's value (``None`` when unset); embedded ``${...}`` text is left alone, because
       template defaults may contain it;
    2. ``KIKET_SECRET_<KEY>`` (see :func:`secret_env_name`) for each of ``manifest.secret_keys``,
       unless ``auto_env_secrets=False``; a blank variable counts as unset;
    3. ``explicit`` (the ``settings=`` passed by the developer), taken as given.
    """
    env = env_or_os(environ)
    settings: dict[str, Any] = {}
    if manifest is not None:
        for key, default in manifest.defaults.items():
            name = env_reference_name(default)
            settings[key] = default if name is None else env.get(name)
        if auto_env_secrets:
            for key in manifest.secret_keys:
                override = env.get(secret_env_name(key))
                if _present(override):
                    settings[key] = override
    if explicit:
        settings.update(explicit)
    return settings


def resolve_webhook_secret(
    explicit: str | None,
    manifest: ExtensionManifest | None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The HMAC secret: ``explicit`` -> manifest delivery secret -> ``KIKET_WEBHOOK_SECRET``.

    Empty or blank values count as absent at every step. The manifest's reference
    (``delivery_secret_ref``) is resolved again against ``environ`` (default ``os.environ``), so
    the answer follows the environment given here. ``None`` means no secret is configured.
    """
    env = env_or_os(environ)
    candidates: list[str | None] = [explicit]
    if manifest is not None:
        if manifest.delivery_secret_ref is None:
            candidates.append(manifest.delivery_secret)
        else:
            candidates.append(delivery_secret_value(manifest.delivery_secret_ref, env))
    candidates.append(env.get(WEBHOOK_SECRET_ENV))
    for candidate in candidates:
        if _present(candidate):
            return candidate
    return None

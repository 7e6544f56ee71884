"""The extension's secret store: ``ctx.secrets`` (also ``ctx.endpoints.secrets``).

``SecretManager`` (blocking) and ``AsyncSecretManager`` (awaited) have the same methods:

- ``list()`` -> the stored keys (never the values);
- ``get(key)`` -> env ``KIKET_SECRET_<KEY>`` when set and not empty, else the stored value, else
  ``None`` (the API's 404 means "not set");
- ``set(key, value)`` / ``rotate(key, new_value)`` (the same call: storing replaces the value);
- ``delete(key)``.

Every call but an env hit of ``get`` needs the extension id (``ConfigurationError`` before any
request when it is missing). A blank key or value is refused before any request.

```python
value = ctx.secrets.get("API_KEY")  # env KIKET_SECRET_API_KEY first
if value is None:
    ctx.secrets.set("API_KEY", "sk_live_123")
```
"""

from __future__ import annotations

import builtins
import os

from kiket_sdk._client import AsyncKiketClient, KiketClient
from kiket_sdk._exceptions import ConfigurationError, KiketSDKError, NotFoundError
from kiket_sdk._manifest import secret_env_name

__all__ = ["AsyncSecretManager", "SecretManager", "require_extension_id"]


def require_extension_id(extension_id: str | None, operation: str) -> str:
    """``extension_id``, or a ``ConfigurationError`` naming ``operation`` and what to set."""
    if extension_id:
        return extension_id
    raise ConfigurationError(
        f"{operation} needs the extension id. "
        "Set extension_id= on KiketSDK or in extension.yaml (its `id`)."
    )


def _checked_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise KiketSDKError(f"A secret key must be a non-empty string, got {key!r}.")
    return key


def _checked_value(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KiketSDKError(
            f"The value for secret {key!r} is blank: pass a non-empty string "
            "(to remove the secret, call delete())."
        )
    return value


def _env_value(key: str) -> str | None:
    return os.environ.get(secret_env_name(key)) or None


class SecretManager:
    """Blocking access to the extension's secrets (see the module docstring)."""

    def __init__(self, client: KiketClient, extension_id: str | None) -> None:
        self._resource = client.secrets
        self._extension_id = extension_id

    def _id(self, operation: str) -> str:
        return require_extension_id(self._extension_id, operation)

    def list(self) -> builtins.list[str]:
        """The keys of the stored secrets (``GET .../secrets``)."""
        return self._resource.list(self._id("secrets.list()")).keys

    def get(self, key: str) -> str | None:
        """Env ``KIKET_SECRET_<KEY>`` if set, else the stored value, else ``None``."""
        env = _env_value(_checked_key(key))
        if env is not None:
            return env
        try:
            return self._resource.get(self._id("secrets.get()"), key).value
        except NotFoundError:
            return None

    def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (replacing any previous value)."""
        self._store(key, value, "secrets.set()")

    def rotate(self, key: str, new_value: str) -> None:
        """Replace the value of ``key``: the same request as ``set(key, new_value)``."""
        self._store(key, new_value, "secrets.rotate()")

    def _store(self, key: str, value: str, operation: str) -> None:
        _checked_value(_checked_key(key), value)
        self._resource.set(self._id(operation), key, value=value)

    def delete(self, key: str) -> None:
        """Remove the secret stored under ``key``."""
        self._resource.delete(self._id("secrets.delete()"), _checked_key(key))


class AsyncSecretManager:
    """Awaited access to the extension's secrets: the same methods as ``SecretManager``."""

    def __init__(self, client: AsyncKiketClient, extension_id: str | None) -> None:
        self._resource = client.secrets
        self._extension_id = extension_id

    def _id(self, operation: str) -> str:
        return require_extension_id(self._extension_id, operation)

    async def list(self) -> builtins.list[str]:
        """The keys of the stored secrets (``GET .../secrets``)."""
        return (await self._resource.list(self._id("secrets.list()"))).keys

    async def get(self, key: str) -> str | None:
        """Env ``KIKET_SECRET_<KEY>`` if set, else the stored value, else ``None``."""
        env = _env_value(_checked_key(key))
        if env is not None:
            return env
        try:
            return (await self._resource.get(self._id("secrets.get()"), key)).value
        except NotFoundError:
            return None

    async def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (replacing any previous value)."""
        await self._store(key, value, "secrets.set()")

    async def rotate(self, key: str, new_value: str) -> None:
        """Replace the value of ``key``: the same request as ``set(key, new_value)``."""
        await self._store(key, new_value, "secrets.rotate()")

    async def _store(self, key: str, value: str, operation: str) -> None:
        _checked_value(_checked_key(key), value)
        await self._resource.set(self._id(operation), key, value=value)

    async def delete(self, key: str) -> None:
        """Remove the secret stored under ``key``."""
        await self._resource.delete(self._id("secrets.delete()"), _checked_key(key))

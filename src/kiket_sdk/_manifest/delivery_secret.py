"""The delivery (webhook) secret a manifest names: where it is written and what it stands for.

A manifest writes it as ``delivery_secret``, ``delivery.callback.secret`` or
``callback.secret``, at the top level or under ``extension:`` (contract section 3). The text is
normally an env reference (``env.KIKET_WEBHOOK_SECRET``); see :func:`delivery_secret_value`
for how a bare name or a literal is read.

Example:

```python
from kiket_sdk._manifest.delivery_secret import (
    delivery_secret_env_names,
    delivery_secret_value,
    find_delivery_secret,
)

data = {"extension": {"callback": {"secret": "env.KIKET_WEBHOOK_SECRET"}}}
assert find_delivery_secret(data) == ("extension.callback.secret", "env.KIKET_WEBHOOK_SECRET")
env = {"KIKET_WEBHOOK_SECRET": "sh_123"}
assert delivery_secret_value("env.KIKET_WEBHOOK_SECRET", env) == "sh_123"
assert delivery_secret_value("KIKET_WEBHOOK_SECRET", env) == "sh_123"  # bare name: a variable
assert delivery_secret_env_names("KIKET_WEBHOOK_SECRET") == ("KIKET_WEBHOOK_SECRET",)
assert delivery_secret_env_names("sh_live_123") == ()  # a literal: no variable to name
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kiket_sdk._manifest.environment import env_or_os, referenced_env_names, resolve_env_reference
from kiket_sdk._manifest.yaml_values import as_mapping

__all__ = [
    "delivery_secret_env_names",
    "delivery_secret_problems",
    "delivery_secret_value",
    "find_delivery_secret",
]

# Where a delivery secret may be written, relative to the top level and to `extension:`.
_SECRET_PLACES = (("delivery_secret",), ("delivery", "callback", "secret"), ("callback", "secret"))
_BARE_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def find_delivery_secret(data: Mapping[str, Any]) -> tuple[str, object]:
    """``(where, value)`` of the first delivery secret written in ``data``; top level first.

    ``where`` is the dotted path (``"extension.callback.secret"``); when no secret is written
    the answer is ``("delivery_secret", None)``.
    """
    for prefix, base in (("", data), ("extension.", as_mapping(data.get("extension")))):
        for keys in _SECRET_PLACES:
            node: object = base
            for key in keys:
                node = as_mapping(node).get(key)
            if node is not None:
                return prefix + ".".join(keys), node
    return "delivery_secret", None


def delivery_secret_problems(where: str, ref: str, environ: Mapping[str, str] | None) -> list[str]:
    """Warnings about the delivery secret text ``ref`` found at ``where`` in a manifest."""
    names = referenced_env_names(ref)
    if names:
        env = env_or_os(environ)
        return [
            f"{where} refers to environment variable {n}, which is not set."
            for n in names
            if n not in env
        ]
    if _BARE_ENV_NAME.fullmatch(ref):
        return [
            f"{where} is a bare environment variable name; it is read as env.{ref} (write "
            f"env.{ref} to say so)."
        ]
    if ref.strip():
        return [
            f"{where} is a literal secret in the manifest file; write env.KIKET_WEBHOOK_SECRET "
            "and set that variable instead."
        ]
    return []


def delivery_secret_env_names(ref: str) -> tuple[str, ...]:
    """The environment variables the manifest text ``ref`` reads, as :func:`delivery_secret_value`
    does; ``()`` for a literal secret.

    Names are safe to print where values are not: ``kiket-sdk manifest check`` and ``dev`` say
    ``set (from KIKET_WEBHOOK_SECRET)`` instead of showing the secret.
    """
    if _BARE_ENV_NAME.fullmatch(ref):
        return (ref,)
    return referenced_env_names(ref)


def delivery_secret_value(ref: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The delivery secret that the manifest text ``ref`` stands for.

    ``env:NAME``/``env.NAME``/``${NAME}`` read the variable. Decision (security): a bare
    upper-case identifier (``delivery_secret: KIKET_WEBHOOK_SECRET``, as a real flat manifest
    writes it) is also read as a variable name, never used as the secret itself: that text is
    public, so taking it literally would let anyone sign deliveries. Anything else is a literal.
    """
    if _BARE_ENV_NAME.fullmatch(ref):
        return env_or_os(environ).get(ref) or None
    resolved = resolve_env_reference(ref, environ)
    return resolved if isinstance(resolved, str) else None

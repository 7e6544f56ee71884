"""The keys a manifest may use at each level, and the report of the ones it should not.

The tables follow the contract (section 3) for the three layouts, widened by the keys the
published manifests (mailjet-inbound, twilio) use for the platform's UI (``description``,
``setup``, ``contributes``, ...). A key outside its level's table is almost always a typo
(``setings:``, ``versoin:``), and the loader would silently ignore it, so it is reported with the
closest known key, or with the key an alias table names for it: difflib sees that `setings`
is `settings`, but not that `delivery: {secret: ...}` means `delivery.callback.secret` or that
`webhook_secret:` means `delivery_secret:`. Free-form values (``setup`` steps, ``contributes``,
``variables``, ``validation``, ``custom_data`` apart from its ``permissions``) are not looked
into.

Example:

```python
from kiket_sdk._manifest.known_keys import (
    DELIVERY_ALIASES,
    DELIVERY_KEYS,
    TOP_LEVEL_KEYS,
    unknown_key_problems,
)

problems = unknown_key_problems({"id": "a", "setings": []}, TOP_LEVEL_KEYS, "")
assert problems == ["Unknown key `setings` (did you mean 'settings'?); it was ignored."]
delivery = {"secret": "env.KIKET_WEBHOOK_SECRET"}
assert unknown_key_problems(delivery, DELIVERY_KEYS, "delivery", DELIVERY_ALIASES) == [
    "Unknown key `delivery.secret` (did you mean 'delivery.callback.secret'?); it was ignored."
]
```
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from types import MappingProxyType

from kiket_sdk._manifest.yaml_values import is_mapping

__all__ = [
    "CALLBACK_ALIASES",
    "CALLBACK_KEYS",
    "CONFIGURATION_SCHEMA_KEYS",
    "CUSTOM_PERMISSION_KEYS",
    "DELIVERY_ALIASES",
    "DELIVERY_KEYS",
    "EXTENSION_ALIASES",
    "EXTENSION_KEYS",
    "HOOK_ALIASES",
    "HOOK_KEYS",
    "OUTPUT_FIELD_KEYS",
    "SECRET_ALIASES",
    "SECRET_KEYS",
    "SETTING_ALIASES",
    "SETTING_ENTRY_ALIASES",
    "SETTING_ENTRY_KEYS",
    "SETTING_KEYS",
    "TOP_LEVEL_ALIASES",
    "TOP_LEVEL_KEYS",
    "unknown_key_problems",
]

# `extension:` of the .kiket layout (contract), plus the metadata real manifests carry.
EXTENSION_KEYS = frozenset(
    {
        "id",
        "name",
        "version",
        "sdk",
        "delivery",
        "delivery_secret",
        "callback",
        "permissions",
        "hooks",
        "configuration",
        "secrets",
        "output_fields",
        "custom_data",
        # seen in published manifests
        "api_version",
        "description",
        "author",
        "homepage",
        "activationEvents",
        "capabilities",
        "contributes",
        "setup",
        "assets",
        "hosting",
    }
)
# Flat layout, the `configuration.properties` layout and `.kiket`'s `model_version`; the loader
# also reads the `extension:` keys at the top level (top-level values win), so they count too.
TOP_LEVEL_KEYS = EXTENSION_KEYS | {"model_version", "extension", "settings"}
# One setting under `configuration.<KEY>` or `configuration.properties.<KEY>`.
SETTING_KEYS = frozenset(
    {
        "type",
        "default",
        "secret",
        "label",
        "required",
        "description",
        "scope",
        "editor",
        "language",
        "variables",
        "validation",
    }
)
SETTING_ENTRY_KEYS = SETTING_KEYS | {"key"}  # one item of the flat `settings: [...]`
# `configuration:` around `properties:` (JSON-schema style).
CONFIGURATION_SCHEMA_KEYS = frozenset({"properties", "type", "required", "title", "description"})
DELIVERY_KEYS = frozenset({"callback"})
CALLBACK_KEYS = frozenset({"url", "secret", "timeout", "required"})
HOOK_KEYS = frozenset({"event", "timeout", "retries", "description", "template"})
SECRET_KEYS = frozenset({"key", "required", "label", "description"})
OUTPUT_FIELD_KEYS = frozenset({"label", "type", "icon", "description"})
CUSTOM_PERMISSION_KEYS = frozenset({"module", "operations"})

# Aliases: at one level, a key people write -> the key they mean, relative to that level (a dotted
# target goes deeper). Only relations difflib cannot see; each `X_ALIASES` pairs with `X_KEYS`.
_SECRET_WORDS = ("secret", "webhook_secret", "signing_secret", "hmac_secret", "shared_secret")
EXTENSION_ALIASES: Mapping[str, str] = MappingProxyType(
    dict.fromkeys(_SECRET_WORDS, "delivery_secret")
)
TOP_LEVEL_ALIASES = EXTENSION_ALIASES
# `delivery:` only holds `callback:`; its keys belong one level down.
DELIVERY_ALIASES: Mapping[str, str] = MappingProxyType(
    {key: f"callback.{key}" for key in CALLBACK_KEYS}
    | dict.fromkeys(_SECRET_WORDS, "callback.secret")
)
CALLBACK_ALIASES: Mapping[str, str] = MappingProxyType(
    {word: "secret" for word in _SECRET_WORDS if word != "secret"} | {"endpoint": "url"}
)
SETTING_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "value": "default",
        "sensitive": "secret",
        "is_secret": "secret",
        "secure": "secret",
        "password": "secret",
        "name": "label",
        "title": "label",
    }
)
SETTING_ENTRY_ALIASES: Mapping[str, str] = MappingProxyType(
    {**SETTING_ALIASES, "name": "key", "id": "key"}
)
HOOK_ALIASES: Mapping[str, str] = MappingProxyType(
    {"name": "event", "on": "event", "type": "event"}
)
SECRET_ALIASES: Mapping[str, str] = MappingProxyType({"name": "key", "id": "key"})


def unknown_key_problems(
    node: object,
    known: Collection[str],
    where: str,
    aliases: Mapping[str, str] | None = None,
) -> list[str]:
    """One problem per key of the mapping ``node`` that is not in ``known``.

    ``where`` is the dotted path of ``node`` (``""`` for the top level, ``"extension"``,
    ``"hooks[0]"``). The suggestion is ``aliases[key]`` when there is one (a dotted target is
    shown as its full path, ``'delivery.callback.secret'``), else the closest known key by
    ``difflib`` (ratio 0.6 or more), else none. A non-mapping ``node`` has no keys.
    """
    if not is_mapping(node):
        return []
    problems: list[str] = []
    for raw_key in node:
        key = str(raw_key)
        if key in known:
            continue
        path = f"{where}.{key}" if where else key
        alias = (aliases or {}).get(key)
        if alias is not None and "." in alias:
            close = [f"{where}.{alias}" if where else alias]
        elif alias is not None:
            close = [alias]
        else:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"Unknown key `{path}`{hint}; it was ignored.")
    return problems

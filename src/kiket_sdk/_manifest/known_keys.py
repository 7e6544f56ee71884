"""The keys a manifest may use at each level, and the report of the ones it should not.

The tables follow the contract (section 3) for the three layouts, widened by the keys the
published manifests (mailjet-inbound, twilio) use for the platform's UI (``description``,
``setup``, ``contributes``, ...). A key outside its level's table is almost always a typo
(``setings:``, ``versoin:``), and the loader would silently ignore it, so it is reported with the
closest known key. Free-form values (``setup`` steps, ``contributes``, ``variables``,
``validation``, ``custom_data`` apart from its ``permissions``) are not looked into.

Example:

```python
from kiket_sdk._manifest.known_keys import TOP_LEVEL_KEYS, unknown_key_problems

problems = unknown_key_problems({"id": "a", "setings": []}, TOP_LEVEL_KEYS, "")
assert problems == ["Unknown key `setings` (did you mean 'settings'?); it was ignored."]
```
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping

__all__ = [
    "CALLBACK_KEYS",
    "CONFIGURATION_SCHEMA_KEYS",
    "CUSTOM_PERMISSION_KEYS",
    "DELIVERY_KEYS",
    "EXTENSION_KEYS",
    "HOOK_KEYS",
    "OUTPUT_FIELD_KEYS",
    "SECRET_KEYS",
    "SETTING_ENTRY_KEYS",
    "SETTING_KEYS",
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


def unknown_key_problems(node: object, known: Collection[str], where: str) -> list[str]:
    """One problem per key of the mapping ``node`` that is not in ``known``.

    ``where`` is the dotted path of ``node`` (``""`` for the top level, ``"extension"``,
    ``"hooks[0]"``); a close known key is suggested. A non-mapping ``node`` has no keys.
    """
    if not isinstance(node, Mapping):
        return []
    problems = []
    for raw_key in node:
        key = str(raw_key)
        if key in known:
            continue
        path = f"{where}.{key}" if where else key
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"Unknown key `{path}`{hint}; it was ignored.")
    return problems

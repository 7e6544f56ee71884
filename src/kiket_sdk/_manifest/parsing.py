"""Read already-parsed manifest YAML, in any of the three layouts, into an ExtensionManifest.

Three manifest layouts are in use (contract section 3):

1. flat: ``id``, ``version``, ``delivery_secret``, ``settings: [{key, default, secret}]``;
2. ``configuration.properties.<key>: {type, default, secret}``, ``id``/``version`` at the top
   or under ``extension:``, and ``delivery.callback.secret``;
3. ``.kiket/manifest.yaml``: ``extension: {id, version, callback: {secret}, configuration:
   {<KEY>: {...}}, secrets: [...], hooks, output_fields, permissions, ...}``.

Parsing never fails on odd content: what looks wrong, including a key the layout does not
know (``setings:``), is listed in ``manifest.problems``.

Example:

```python
from kiket_sdk._manifest.parsing import parse_manifest

manifest = parse_manifest({"id": "a", "versoin": "1", "settings": [{"key": "K"}]}, environ={})
assert [s.key for s in manifest.settings] == ["K"]
assert "Unknown key `versoin` (did you mean 'version'?); it was ignored." in manifest.problems
```
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kiket_sdk._manifest import known_keys as known
from kiket_sdk._manifest.delivery_secret import (
    delivery_secret_problems,
    delivery_secret_value,
    find_delivery_secret,
)
from kiket_sdk._manifest.environment import env_or_os, env_reference_name, secret_env_name
from kiket_sdk._manifest.model import (
    OUTPUT_FIELD_TYPES,
    ExtensionManifest,
    HookSpec,
    OutputFieldSpec,
    SettingSpec,
)
from kiket_sdk._manifest.yaml_values import (
    as_flag,
    as_list,
    as_mapping,
    as_text,
    as_whole_number,
    is_mapping,
)

__all__ = ["parse_manifest", "read_settings"]


def parse_manifest(
    data: Mapping[str, Any],
    *,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ExtensionManifest:
    """Build an :class:`ExtensionManifest` from already-parsed YAML (any of the three layouts).

    Top-level values win over the same values under ``extension:``. Env references are
    resolved against ``environ`` (default ``os.environ``). Never raises on odd content.
    """
    problems: list[str] = known.unknown_key_problems(
        data, known.TOP_LEVEL_KEYS, "", known.TOP_LEVEL_ALIASES
    )
    ext = as_mapping(data.get("extension"))
    if data.get("extension") is not None and not ext:
        problems.append("`extension` should be a mapping; it was ignored.")
    problems += known.unknown_key_problems(
        ext, known.EXTENSION_KEYS, "extension", known.EXTENSION_ALIASES
    )
    _check_callbacks(data, problems)

    def pick(key: str) -> object:
        return data[key] if data.get(key) is not None else ext.get(key)

    def where(key: str) -> str:
        return key if data.get(key) is not None else f"extension.{key}"

    ext_id, version = as_text(pick("id")), _version(pick("version"), problems)
    if ext_id is None:
        problems.append("The manifest has no extension id: set `id:` (or `extension.id:`).")
    if version is None:
        problems.append("The manifest has no version: set `version:` (or `extension.version:`).")
    secret_where, secret_value = find_delivery_secret(data)
    secret_ref = as_text(secret_value)
    delivery_secret = None
    if secret_ref is not None:
        problems += delivery_secret_problems(secret_where, secret_ref, environ)
        delivery_secret = delivery_secret_value(secret_ref, environ)
    settings = read_settings(data, environ, problems)
    secrets = _secret_entries(pick("secrets"), where("secrets"), problems)
    secret_keys = [s.key for s in settings if s.secret] + [key for key, _ in secrets]
    required = [s.key for s in settings if s.secret and s.required]
    required += [key for key, is_required in secrets if is_required]
    permissions = as_list(pick("permissions"), where("permissions"), problems)
    _check_custom_data(pick("custom_data"), where("custom_data"), problems)
    return ExtensionManifest(
        path=path,
        id=ext_id,
        version=version,
        name=as_text(pick("name")),
        delivery_secret=delivery_secret,
        delivery_secret_ref=secret_ref,
        settings=settings,
        secret_keys=tuple(dict.fromkeys(secret_keys)),
        required_secrets=tuple(dict.fromkeys(required)),
        hooks=_hooks(pick("hooks"), where("hooks"), problems),
        output_fields=_output_fields(pick("output_fields"), where("output_fields"), problems),
        permissions=tuple(as_text(p) or "" for p in permissions),
        raw=MappingProxyType(dict(data)),
        problems=tuple(problems),
    )


def read_settings(
    data: Mapping[str, Any], environ: Mapping[str, str] | None, problems: list[str]
) -> tuple[SettingSpec, ...]:
    """The settings declared in a manifest, in any layout; the first declaration of a key wins.

    Reads ``settings: [{key, ...}]``, ``configuration.properties.<key>`` and
    ``configuration.<key>``, at the top level and under ``extension:``. Odd content and
    unknown keys are appended to ``problems``.
    """
    declared: list[tuple[str, Mapping[str, Any]]] = []
    for index, item in enumerate(as_list(data.get("settings"), "settings", problems)):
        if is_mapping(item) and item.get("key") is not None:
            declared.append((f"settings[{index}]", item))
            problems += known.unknown_key_problems(
                item, known.SETTING_ENTRY_KEYS, f"settings[{index}]", known.SETTING_ENTRY_ALIASES
            )
        else:
            problems.append(f"`settings[{index}]` has no `key`; it was ignored.")
            problems += known.unknown_key_problems(
                item, known.SETTING_ENTRY_KEYS, f"settings[{index}]", known.SETTING_ENTRY_ALIASES
            )
    for where, base in (
        ("configuration", data),
        ("extension.configuration", as_mapping(data.get("extension"))),
    ):
        conf = base.get("configuration")
        if conf is not None and not is_mapping(conf):
            problems.append(f"`{where}` should be a mapping of settings; it was ignored.")
        props = as_mapping(conf).get("properties")
        if is_mapping(props) and all((v is None or is_mapping(v)) for v in props.values()):
            problems += known.unknown_key_problems(conf, known.CONFIGURATION_SCHEMA_KEYS, where)
            where, conf = f"{where}.properties", props
        for key, spec in as_mapping(conf).items():
            if not (spec is None or is_mapping(spec)):
                problems.append(f"`{where}.{key}` should be a mapping like {{type, default}}.")
            problems += known.unknown_key_problems(
                spec, known.SETTING_KEYS, f"{where}.{key}", known.SETTING_ALIASES
            )
            declared.append((f"{where}.{key}", {**as_mapping(spec), "key": key}))

    specs: dict[str, SettingSpec] = {}
    for where, entry in declared:
        spec = SettingSpec(
            key=as_text(entry["key"]) or "",
            default=entry.get("default"),
            secret=as_flag(entry.get("secret"), f"{where}.secret", problems),
            type=as_text(entry.get("type")),
            label=as_text(entry.get("label")),
            required=as_flag(entry.get("required"), f"{where}.required", problems),
        )
        if spec.key in specs:
            problems.append(f"Setting {spec.key} is declared twice; the first one is used.")
            continue
        specs[spec.key] = spec
        name = env_reference_name(spec.default)
        if name is not None and name not in env_or_os(environ):
            problems.append(f"Setting {spec.key} defaults to env var {name}, which is not set.")
        elif name is None and spec.secret and spec.default not in (None, ""):
            problems.append(
                f"Setting {spec.key} is secret but has a literal default in the manifest; remove "
                f"it and set {secret_env_name(spec.key)} (or the platform secret) instead."
            )
    return tuple(specs.values())


# --- section readers: odd content becomes a problem, never an exception ------------------------


def _version(value: object, problems: list[str]) -> str | None:
    # YAML reads `1.0` as a float: str() keeps "1.0", but `1.10` would come back as "1.1".
    if isinstance(value, float | bool):
        problems.append(f"version {value!r} was read as a YAML {type(value).__name__}; quote it.")
    return as_text(value)


def _check_callbacks(data: Mapping[str, Any], problems: list[str]) -> None:
    """Unknown keys under ``delivery:``/``callback:``, at the top level and under ``extension:``.

    ``delivery`` is a mapping in the ``configuration.properties`` layout and a word (``http``)
    in the ``.kiket`` layout; only the mapping has keys to check.
    """
    for prefix, base in (("", data), ("extension.", as_mapping(data.get("extension")))):
        delivery = base.get("delivery")
        problems += known.unknown_key_problems(
            delivery, known.DELIVERY_KEYS, f"{prefix}delivery", known.DELIVERY_ALIASES
        )
        problems += known.unknown_key_problems(
            as_mapping(delivery).get("callback"),
            known.CALLBACK_KEYS,
            f"{prefix}delivery.callback",
            known.CALLBACK_ALIASES,
        )
        problems += known.unknown_key_problems(
            base.get("callback"), known.CALLBACK_KEYS, f"{prefix}callback", known.CALLBACK_ALIASES
        )


def _check_custom_data(value: object, where: str, problems: list[str]) -> None:
    """Unknown keys in ``custom_data.permissions[]`` (the rest of ``custom_data`` is free-form)."""
    permissions = as_mapping(value).get("permissions")
    for index, item in enumerate(as_list(permissions, f"{where}.permissions", problems)):
        problems += known.unknown_key_problems(
            item, known.CUSTOM_PERMISSION_KEYS, f"{where}.permissions[{index}]"
        )


def _secret_entries(value: object, where: str, problems: list[str]) -> list[tuple[str, bool]]:
    entries: list[tuple[str, bool]] = []
    for index, item in enumerate(as_list(value, where, problems)):
        if isinstance(item, str):
            entries.append((item, False))
        elif is_mapping(item) and item.get("key") is not None:
            required = as_flag(item.get("required"), f"{where}[{index}].required", problems)
            problems += known.unknown_key_problems(
                item, known.SECRET_KEYS, f"{where}[{index}]", known.SECRET_ALIASES
            )
            entries.append((as_text(item["key"]) or "", required))
        else:
            problems.append(f"`{where}[{index}]` has no `key`; it was ignored.")
            problems += known.unknown_key_problems(
                item, known.SECRET_KEYS, f"{where}[{index}]", known.SECRET_ALIASES
            )
    return entries


def _hooks(value: object, where: str, problems: list[str]) -> tuple[HookSpec, ...]:
    hooks: list[HookSpec] = []
    for index, item in enumerate(as_list(value, where, problems)):
        entry = as_mapping(item)
        if entry.get("event") is None:
            problems.append(f"`{where}[{index}]` has no `event`; it was ignored.")
            continue
        problems += known.unknown_key_problems(
            entry, known.HOOK_KEYS, f"{where}[{index}]", known.HOOK_ALIASES
        )
        timeout = as_whole_number(entry.get("timeout"), f"{where}[{index}].timeout", problems)
        retries = as_whole_number(entry.get("retries"), f"{where}[{index}].retries", problems)
        hooks.append(HookSpec(as_text(entry["event"]) or "", timeout, retries))
    return tuple(hooks)


def _output_fields(value: object, where: str, problems: list[str]) -> Mapping[str, OutputFieldSpec]:
    if value is not None and not is_mapping(value):
        problems.append(f"`{where}` should be a mapping; it was ignored.")
    fields: dict[str, OutputFieldSpec] = {}
    for raw_key, item in as_mapping(value).items():
        key, entry = str(raw_key), as_mapping(item)
        problems += known.unknown_key_problems(entry, known.OUTPUT_FIELD_KEYS, f"{where}.{key}")
        kind = as_text(entry.get("type")) or "copyable"
        if kind not in OUTPUT_FIELD_TYPES:
            allowed = ", ".join(sorted(OUTPUT_FIELD_TYPES))
            problems.append(f"Output field {key} has unknown type {kind!r} (known: {allowed}).")
        label, icon = as_text(entry.get("label")), as_text(entry.get("icon"))
        fields[key] = OutputFieldSpec(key, label, kind, icon, as_text(entry.get("description")))
    return MappingProxyType(fields)

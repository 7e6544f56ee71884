"""Find, load and check a Kiket extension manifest.

Three manifest layouts are in use (contract section 3); all load into one
:class:`ExtensionManifest`:

1. flat: ``id``, ``version``, ``delivery_secret``, ``settings: [{key, default, secret}]``;
2. ``configuration.properties.<key>: {type, default, secret}``, ``id``/``version`` at the top
   or under ``extension:``, and ``delivery.callback.secret``;
3. ``.kiket/manifest.yaml``: ``extension: {id, version, callback: {secret}, configuration:
   {<KEY>: {...}}, secrets: [...], hooks, output_fields, permissions, ...}``.

Loading never fails on odd content: what looks wrong is listed in ``manifest.problems``.
Only a missing explicit path, unreadable file or invalid YAML raise ``ConfigurationError``.

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

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._settings import (
    SettingSpec,
    as_flag,
    as_list,
    as_mapping,
    as_text,
    delivery_secret_problems,
    delivery_secret_value,
    read_settings,
    resolve_env_reference,
    resolve_settings,
    resolve_webhook_secret,
    secret_env_name,
)

__all__ = [
    "MANIFEST_SEARCH_ORDER",
    "OUTPUT_FIELD_TYPES",
    "ExtensionManifest",
    "HookSpec",
    "OutputFieldSpec",
    "SettingSpec",
    "find_manifest",
    "load_manifest",
    "parse_manifest",
    "resolve_env_reference",
    "resolve_settings",
    "resolve_webhook_secret",
    "secret_env_name",
]

MANIFEST_SEARCH_ORDER = (
    "extension.yaml",
    "extension.yml",
    "manifest.yaml",
    "manifest.yml",
    ".kiket/manifest.yaml",
)
OUTPUT_FIELD_TYPES = frozenset({"copyable", "url", "code", "badge", "status"})
# Where a delivery secret may be written, relative to the top level and to `extension:`.
_SECRET_PLACES = (("delivery_secret",), ("delivery", "callback", "secret"), ("callback", "secret"))


@dataclass(frozen=True)
class HookSpec:
    """One declared hook: the event and the platform's timeout (ms) and retry count."""

    event: str
    timeout: int | None = None
    retries: int | None = None


@dataclass(frozen=True)
class OutputFieldSpec:
    """One declared output field (shown in the configuration UI); ``type`` defaults to copyable."""

    key: str
    label: str | None = None
    type: str = "copyable"
    icon: str | None = None
    description: str | None = None


def _empty_mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ExtensionManifest:
    """A loaded manifest, whatever its layout. ``problems`` lists human-readable warnings."""

    path: Path | None
    id: str | None
    version: str | None
    name: str | None = None
    # Resolved through env references; None when the referenced variable is unset.
    delivery_secret: str | None = field(default=None, repr=False)
    delivery_secret_ref: str | None = field(default=None, repr=False)
    settings: tuple[SettingSpec, ...] = ()
    secret_keys: tuple[str, ...] = ()
    required_secrets: tuple[str, ...] = ()
    hooks: tuple[HookSpec, ...] = ()
    output_fields: Mapping[str, OutputFieldSpec] = field(default_factory=_empty_mapping)
    permissions: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=_empty_mapping, repr=False)
    problems: tuple[str, ...] = ()

    @property
    def defaults(self) -> dict[str, Any]:
        """``{key: default}`` for every setting that declares a default."""
        return {spec.key: spec.default for spec in self.settings if spec.default is not None}


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
    if not isinstance(data, Mapping):
        found_kind = "nothing" if data is None else type(data).__name__
        raise ConfigurationError(
            f"Manifest {target} must be a YAML mapping at the top level, found {found_kind}."
        )
    return parse_manifest(data, path=target, environ=environ)


def parse_manifest(
    data: Mapping[str, Any],
    *,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ExtensionManifest:
    """Build an :class:`ExtensionManifest` from already-parsed YAML (any of the three layouts).

    Top-level values win over the same values under ``extension:``.
    """
    problems: list[str] = []
    ext = as_mapping(data.get("extension"))

    def pick(key: str) -> object:
        return data[key] if data.get(key) is not None else ext.get(key)

    ext_id, version = as_text(pick("id")), _version(pick("version"), problems)
    if ext_id is None:
        problems.append("The manifest has no extension id: set `id:` (or `extension.id:`).")
    if version is None:
        problems.append("The manifest has no version: set `version:` (or `extension.version:`).")
    where, secret_value = _find_delivery_secret(data, ext)
    secret_ref = as_text(secret_value)
    delivery_secret = None
    if secret_ref is not None:
        problems += delivery_secret_problems(where, secret_ref, environ)
        delivery_secret = delivery_secret_value(secret_ref, environ)
    settings = read_settings(data, environ, problems)
    secrets = _secret_entries(pick("secrets"), problems)
    secret_keys = [s.key for s in settings if s.secret] + [key for key, _ in secrets]
    required = [s.key for s in settings if s.secret and s.required]
    required += [key for key, is_required in secrets if is_required]
    permissions = as_list(pick("permissions"), "permissions", problems)
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
        hooks=_hooks(pick("hooks"), problems),
        output_fields=_output_fields(pick("output_fields"), problems),
        permissions=tuple(as_text(p) or "" for p in permissions),
        raw=MappingProxyType(dict(data)),
        problems=tuple(problems),
    )


# --- section readers: odd content becomes a problem, never an exception ------------------------


def _version(value: object, problems: list[str]) -> str | None:
    # YAML reads `1.0` as a float: str() keeps "1.0", but `1.10` would come back as "1.1".
    if isinstance(value, float | bool):
        problems.append(f"version {value!r} was read as a YAML {type(value).__name__}; quote it.")
    return as_text(value)


def _number(value: object, where: str, problems: list[str]) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    problems.append(f"`{where}` should be a whole number, not {value!r}; it was ignored.")
    return None


def _find_delivery_secret(data: Mapping[str, Any], ext: Mapping[str, Any]) -> tuple[str, object]:
    for prefix, base in (("", data), ("extension.", ext)):
        for keys in _SECRET_PLACES:
            node: object = base
            for key in keys:
                node = as_mapping(node).get(key)
            if node is not None:
                return prefix + ".".join(keys), node
    return "delivery_secret", None


def _secret_entries(value: object, problems: list[str]) -> list[tuple[str, bool]]:
    entries: list[tuple[str, bool]] = []
    for index, item in enumerate(as_list(value, "secrets", problems)):
        if isinstance(item, str):
            entries.append((item, False))
        elif isinstance(item, Mapping) and item.get("key") is not None:
            required = as_flag(item.get("required"), f"secrets[{index}].required", problems)
            entries.append((as_text(item["key"]) or "", required))
        else:
            problems.append(f"`secrets[{index}]` has no `key`; it was ignored.")
    return entries


def _hooks(value: object, problems: list[str]) -> tuple[HookSpec, ...]:
    hooks: list[HookSpec] = []
    for index, item in enumerate(as_list(value, "hooks", problems)):
        entry = as_mapping(item)
        if entry.get("event") is None:
            problems.append(f"`hooks[{index}]` has no `event`; it was ignored.")
            continue
        timeout = _number(entry.get("timeout"), f"hooks[{index}].timeout", problems)
        retries = _number(entry.get("retries"), f"hooks[{index}].retries", problems)
        hooks.append(HookSpec(as_text(entry["event"]) or "", timeout, retries))
    return tuple(hooks)


def _output_fields(value: object, problems: list[str]) -> Mapping[str, OutputFieldSpec]:
    if value is not None and not isinstance(value, Mapping):
        problems.append("`output_fields` should be a mapping; it was ignored.")
    fields: dict[str, OutputFieldSpec] = {}
    for raw_key, item in as_mapping(value).items():
        key, entry = str(raw_key), as_mapping(item)
        kind = as_text(entry.get("type")) or "copyable"
        if kind not in OUTPUT_FIELD_TYPES:
            known = ", ".join(sorted(OUTPUT_FIELD_TYPES))
            problems.append(f"Output field {key} has unknown type {kind!r} (known: {known}).")
        label, icon = as_text(entry.get("label")), as_text(entry.get("icon"))
        fields[key] = OutputFieldSpec(key, label, kind, icon, as_text(entry.get("description")))
    return MappingProxyType(fields)

"""Environment references, secret env names and the settings an extension runs with.

Split out of ``_manifest.py``, which re-exports the public names; it also holds
:class:`SettingSpec`, how settings are read from any manifest layout, and the tolerant YAML
value readers both modules share. The rules come from the Kiket contract, sections 3 and 4:

* ``env:NAME``, ``env.NAME`` and ``${NAME}`` mean "the value of environment variable NAME";
  ``${NAME}`` may also sit inside a longer string (``https://${HOST}/hooks``).
* ``KIKET_SECRET_<KEY>`` overrides the value of a secret setting ``<KEY>``.
* Settings precedence: manifest defaults -> ``KIKET_SECRET_<KEY>`` -> explicit ``settings=``.
* Webhook secret: constructor value -> manifest delivery secret -> ``KIKET_WEBHOOK_SECRET``.

Example:

```python
from kiket_sdk._settings import resolve_env_reference, secret_env_name

env = {"HOST": "ext.example.com", "KIKET_WEBHOOK_SECRET": "sh_123"}
assert resolve_env_reference("env.KIKET_WEBHOOK_SECRET", env) == "sh_123"
assert resolve_env_reference("https://${HOST}/hooks", env) == "https://ext.example.com/hooks"
assert resolve_env_reference("env:MISSING", env) is None
assert secret_env_name("example.apiKey") == "KIKET_SECRET_EXAMPLE_APIKEY"
```
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class ManifestSettings(Protocol):
    """What settings are resolved from: the parts of an ``ExtensionManifest`` read here (a
    protocol, so this module does not import the manifest module that imports it)."""

    @property
    def defaults(self) -> Mapping[str, Any]: ...
    @property
    def secret_keys(self) -> tuple[str, ...]: ...
    @property
    def delivery_secret(self) -> str | None: ...
    @property
    def delivery_secret_ref(self) -> str | None: ...


__all__ = [
    "SECRET_ENV_PREFIX",
    "WEBHOOK_SECRET_ENV",
    "SettingSpec",
    "as_flag",
    "as_list",
    "as_mapping",
    "as_text",
    "delivery_secret_problems",
    "env_reference_name",
    "read_settings",
    "referenced_env_names",
    "resolve_env_reference",
    "resolve_settings",
    "resolve_webhook_secret",
    "secret_env_name",
]

# Names of environment variables, not secrets.
WEBHOOK_SECRET_ENV = "KIKET_WEBHOOK_SECRET"  # noqa: S105
SECRET_ENV_PREFIX = "KIKET_SECRET_"  # noqa: S105

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_WHOLE_REFERENCE = re.compile(rf"env[:.](?P<prefixed>{_NAME})|\$\{{(?P<braced>{_NAME})\}}")
_EMBEDDED_REFERENCE = re.compile(rf"\$\{{({_NAME})\}}")
_NON_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]+")
_BARE_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass(frozen=True)
class SettingSpec:
    """One declared setting. ``default`` is the YAML value as written (never coerced)."""

    key: str
    default: Any = None
    secret: bool = False
    type: str | None = None
    label: str | None = None
    required: bool = False


# --- tolerant readers for YAML values: odd input becomes a problem, never an exception ----------


def as_mapping(value: object) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: object, where: str, problems: list[str]) -> list[Any]:
    """``value`` when it is a list; ``[]`` (noting a problem unless it is absent) otherwise."""
    if value is None or isinstance(value, list):
        return value or []
    problems.append(f"`{where}` should be a list; it was ignored.")
    return []


def as_text(value: object) -> str | None:
    """A YAML scalar as text: ``True`` -> ``"true"``, a date -> ISO, ``1.0`` -> ``"1.0"``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def as_flag(value: object, where: str, problems: list[str]) -> bool:
    """A YAML boolean; ``"true"``/``"false"`` strings are accepted, anything else is false."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    problems.append(f"`{where}` should be true or false, not {value!r}; read as false.")
    return False


def _environment(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def env_reference_name(value: object) -> str | None:
    """The variable name when ``value`` is, as a whole, an env reference; else ``None``.

    ``"env.API_KEY"``, ``"env:API_KEY"`` and ``"${API_KEY}"`` (surrounding blanks ignored) give
    ``"API_KEY"``; ``"https://${HOST}"`` and non-strings give ``None``.
    """
    if not isinstance(value, str):
        return None
    match = _WHOLE_REFERENCE.fullmatch(value.strip())
    if match is None:
        return None
    return match.group("prefixed") or match.group("braced")


def referenced_env_names(value: object) -> tuple[str, ...]:
    """Every environment variable ``value`` refers to (whole-string or embedded ``${NAME}``)."""
    whole = env_reference_name(value)
    if whole is not None:
        return (whole,)
    if not isinstance(value, str):
        return ()
    return tuple(dict.fromkeys(_EMBEDDED_REFERENCE.findall(value)))


def resolve_env_reference(value: object, environ: Mapping[str, str] | None = None) -> object:
    """Replace environment references in ``value`` by the variables' values.

    A whole-string reference (``env:NAME``, ``env.NAME``, ``${NAME}``) becomes the variable's
    value, or ``None`` when it is unset. Embedded ``${NAME}`` references are substituted in place;
    if any of them is unset the result is ``None`` too (a half-substituted URL or token is never
    right, and ``None`` makes the gap visible). Anything else, including non-strings, comes back
    unchanged. ``environ`` defaults to ``os.environ``.
    """
    env = _environment(environ)
    name = env_reference_name(value)
    if name is not None:
        return env.get(name)
    names = referenced_env_names(value)
    if not names or not isinstance(value, str):
        return value
    if any(n not in env for n in names):
        return None
    return _EMBEDDED_REFERENCE.sub(lambda match: env[match.group(1)], value)


def secret_env_name(key: str) -> str:
    """The environment variable that overrides secret setting ``key``.

    ``KIKET_SECRET_`` + the key upper-cased, with every run of characters other than ASCII
    letters and digits turned into one ``_``: ``example.apiKey`` -> ``KIKET_SECRET_EXAMPLE_APIKEY``.
    """
    return SECRET_ENV_PREFIX + _NON_ALPHANUMERIC.sub("_", key).upper()


def read_settings(
    data: Mapping[str, Any], environ: Mapping[str, str] | None, problems: list[str]
) -> tuple[SettingSpec, ...]:
    """The settings declared in a manifest, in any layout; the first declaration of a key wins.

    Reads ``settings: [{key, ...}]``, ``configuration.properties.<key>`` and
    ``configuration.<key>``, at the top level and under ``extension:``.
    """
    declared: list[tuple[str, Mapping[str, Any]]] = []
    for index, item in enumerate(as_list(data.get("settings"), "settings", problems)):
        if isinstance(item, Mapping) and item.get("key") is not None:
            declared.append((f"settings[{index}]", item))
        else:
            problems.append(f"`settings[{index}]` has no `key`; it was ignored.")
    for where, base in (
        ("configuration", data),
        ("extension.configuration", as_mapping(data.get("extension"))),
    ):
        conf = base.get("configuration")
        if conf is not None and not isinstance(conf, Mapping):
            problems.append(f"`{where}` should be a mapping of settings; it was ignored.")
        props = as_mapping(conf).get("properties")
        if isinstance(props, Mapping) and all(
            isinstance(v, Mapping | None) for v in props.values()
        ):
            where, conf = f"{where}.properties", props
        for key, spec in as_mapping(conf).items():
            if not isinstance(spec, Mapping | None):
                problems.append(f"`{where}.{key}` should be a mapping like {{type, default}}.")
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
        if name is not None and name not in _environment(environ):
            problems.append(f"Setting {spec.key} defaults to env var {name}, which is not set.")
        elif name is None and spec.secret and spec.default not in (None, ""):
            problems.append(
                f"Setting {spec.key} is secret but has a literal default in the manifest; remove "
                f"it and set {secret_env_name(spec.key)} (or the platform secret) instead."
            )
    return tuple(specs.values())


def delivery_secret_problems(where: str, ref: str, environ: Mapping[str, str] | None) -> list[str]:
    """Warnings about the delivery secret text ``ref`` found at ``where`` in a manifest."""
    names = referenced_env_names(ref)
    if names:
        env = _environment(environ)
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


def delivery_secret_value(ref: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The delivery secret that the manifest text ``ref`` stands for.

    ``env:NAME``/``env.NAME``/``${NAME}`` read the variable. Decision (security): a bare
    upper-case identifier (``delivery_secret: KIKET_WEBHOOK_SECRET``, as a real flat manifest
    writes it) is also read as a variable name, never used as the secret itself: that text is
    public, so taking it literally would let anyone sign deliveries. Anything else is a literal.
    """
    if _BARE_ENV_NAME.fullmatch(ref):
        return _environment(environ).get(ref) or None
    resolved = resolve_env_reference(ref, environ)
    return resolved if isinstance(resolved, str) else None


def _present(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def resolve_settings(
    manifest: ManifestSettings | None,
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
    env = _environment(environ)
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
    manifest: ManifestSettings | None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The HMAC secret: ``explicit`` -> manifest delivery secret -> ``KIKET_WEBHOOK_SECRET``.

    Empty or blank values count as absent at every step. The manifest's reference
    (``delivery_secret_ref``) is resolved again against ``environ`` (default ``os.environ``), so
    the answer follows the environment given here. ``None`` means no secret is configured.
    """
    env = _environment(environ)
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

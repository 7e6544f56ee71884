"""What a loaded manifest is: :class:`ExtensionManifest` and the specs it is made of.

These are plain frozen dataclasses; reading YAML into them is ``parsing``'s job.

Example:

```python
from kiket_sdk._manifest.model import ExtensionManifest, SettingSpec

manifest = ExtensionManifest(
    path=None,
    id="com.example.marketing",
    version="1.0",
    settings=(SettingSpec("RETRIES", default="3"), SettingSpec("API_KEY", secret=True)),
)
assert manifest.defaults == {"RETRIES": "3"}
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["OUTPUT_FIELD_TYPES", "ExtensionManifest", "HookSpec", "OutputFieldSpec", "SettingSpec"]

OUTPUT_FIELD_TYPES = frozenset({"copyable", "url", "code", "badge", "status"})


@dataclass(frozen=True)
class SettingSpec:
    """One declared setting. ``default`` is the YAML value as written (never coerced)."""

    key: str
    default: Any = None
    secret: bool = False
    type: str | None = None
    label: str | None = None
    required: bool = False


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

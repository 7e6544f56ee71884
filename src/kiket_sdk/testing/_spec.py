"""The OpenAPI description of the Kiket extension API, loaded once for the test kit.

``load_spec()`` reads ``kiket_sdk/_generated/spec.json`` (a JSON dump of the spec that the code
generator ships inside the wheel); in a source checkout without that file it falls back to
``openapi/kiket-extension-api.yaml`` at the repository root. ``schema_validator(pointer)`` gives
a JSON Schema (2020-12) validator for any schema inside the spec, with every ``$ref`` resolved
against the whole document.

>>> spec = load_spec()
>>> spec["openapi"]
'3.1.0'
>>> validator = schema_validator(("components", "schemas", "SecretSetRequest"))
>>> validator.is_valid({"value": "s3cret"}), validator.is_valid({})
(True, False)
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeGuard, cast

import jsonschema  # type: ignore[import-untyped, unused-ignore]  # typed by types-jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "SPEC_URI",
    "SchemaValidator",
    "error_messages",
    "load_spec",
    "pointer",
    "resolve",
    "schema_validator",
]


class SchemaError(Protocol):
    """The parts of a ``jsonschema.ValidationError`` the test kit reads."""

    @property
    def message(self) -> str: ...

    @property
    def json_path(self) -> str: ...


class SchemaValidator(Protocol):
    """The parts of a ``jsonschema`` validator the test kit uses."""

    def is_valid(self, instance: Any) -> bool: ...

    def iter_errors(self, instance: Any) -> Iterator[SchemaError]: ...


SPEC_URI = "urn:kiket:extension-api"
_SOURCE_SPEC = Path(__file__).resolve().parents[3] / "openapi" / "kiket-extension-api.yaml"


@functools.cache
def load_spec() -> Mapping[str, Any]:
    """The spec as a dict (shared and cached: never mutate it, deep-copy what you hand out)."""
    shipped = resources.files("kiket_sdk._generated").joinpath("spec.json")
    if shipped.is_file():
        return cast("Mapping[str, Any]", json.loads(shipped.read_text(encoding="utf-8")))
    if _SOURCE_SPEC.is_file():
        with _SOURCE_SPEC.open(encoding="utf-8") as stream:
            return cast("Mapping[str, Any]", yaml.safe_load(stream))
    raise FileNotFoundError(
        "The Kiket OpenAPI description was not found: neither kiket_sdk/_generated/spec.json "
        f"nor {_SOURCE_SPEC}. Reinstall kiket-sdk (the wheel ships spec.json)."
    )


def pointer(path: Sequence[str | int]) -> str:
    """A JSON pointer (``#/a/b~1c``) for the given path inside the spec."""
    tokens = (str(part).replace("~", "~0").replace("/", "~1") for part in path)
    return "#/" + "/".join(tokens)


def is_spec_object(value: object) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(value, Mapping)`` for a node of the spec: a JSON object, so its keys are
    strings; its values are read as the OpenAPI schema describes them (``tests/test_spec.py``
    validates the document)."""
    return isinstance(value, Mapping)


def resolve(path: Sequence[str | int]) -> tuple[tuple[str | int, ...], Any]:
    """Walk ``path`` from the spec root, following a ``$ref`` found at the end.

    Returns the path of the node finally reached and the node itself.
    """
    node: Any = load_spec()
    current = tuple(path)
    for part in current:
        node = node[part]
    while True:
        ref: object = node.get("$ref") if is_spec_object(node) else None
        if not isinstance(ref, str):
            break
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, not {ref!r}")
        parts = [t.replace("~1", "/").replace("~0", "~") for t in ref[2:].split("/")]
        current = tuple(parts)
        node = load_spec()
        for part in parts:
            node = node[part]
    return current, node


@functools.cache
def _registry() -> Registry[Any]:
    resource = Resource.from_contents(dict(load_spec()), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry[Any]().with_resource(SPEC_URI, resource)
    return registry


@functools.cache
def _validator(ref: str) -> SchemaValidator:
    validator: SchemaValidator = jsonschema.Draft202012Validator(
        {"$ref": ref}, registry=_registry()
    )
    return validator


def schema_validator(path: Sequence[str | int]) -> SchemaValidator:
    """A validator for the schema at ``path`` in the spec (cached per path)."""
    return _validator(SPEC_URI + pointer(path))


def error_messages(validator: SchemaValidator, value: Any) -> list[str]:
    """Every validation error of ``value``, as ``"<json path>: <message>"`` lines (sorted)."""
    return sorted(f"{error.json_path}: {error.message}" for error in validator.iter_errors(value))

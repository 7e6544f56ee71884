"""The generated models as users meet them: one shared base, the spec's descriptions in the
runtime schema, unknown fields kept, every model public in ``kiket_sdk.types``.

Every inventory here is read from the OpenAPI description, never written out by hand.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, RootModel
from starlette.testclient import TestClient

import kiket_sdk.types
from kiket_sdk import HandlerContext, KiketSDK
from kiket_sdk._generated import models
from kiket_sdk._model_base import KiketModel

ROOT = Path(__file__).resolve().parent.parent
SPEC: dict[str, Any] = yaml.safe_load((ROOT / "openapi" / "kiket-extension-api.yaml").read_text())
SCHEMAS: dict[str, dict[str, Any]] = SPEC["components"]["schemas"]
OBJECT_SCHEMAS = sorted(
    name for name in SCHEMAS if not issubclass(getattr(models, name), RootModel)
)


def _own_properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The properties a schema declares itself: its ``properties`` and those of inline
    ``allOf`` members (a ``$ref`` member is a base model, checked as its own schema)."""
    found = dict(schema.get("properties", {}))
    for member in schema.get("allOf", []):
        found.update(member.get("properties", {}))
    return found


def _field_by_wire_name(model: type[BaseModel], wire_name: str) -> Any:
    for name, info in model.model_fields.items():
        if (info.alias or name) == wire_name:
            return info
    raise AssertionError(f"{model.__name__} has no field for {wire_name!r}")


def test_types_exports_exactly_the_spec_component_schemas() -> None:
    assert sorted(kiket_sdk.types.__all__) == sorted(SCHEMAS)
    for name in SCHEMAS:
        assert getattr(kiket_sdk.types, name) is getattr(models, name)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_descriptions_reach_the_runtime_schema(name: str) -> None:
    model = getattr(kiket_sdk.types, name)
    described = {
        wire: " ".join(prop["description"].split())
        for wire, prop in _own_properties(SCHEMAS[name]).items()
        if "description" in prop
    }
    if issubclass(model, RootModel):
        assert model.model_json_schema()["description"].strip() == SCHEMAS[name]["description"]
        return
    schema = model.model_json_schema(by_alias=True)
    for wire, description in described.items():
        assert " ".join(_field_by_wire_name(model, wire).description.split()) == description
        assert " ".join(schema["properties"][wire]["description"].split()) == description


def test_no_generated_class_redeclares_model_config() -> None:
    tree = ast.parse(Path(models.__file__).read_text())
    redeclared = [
        f"{node.name}.model_config"
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        for statement in node.body
        if isinstance(statement, ast.Assign | ast.AnnAssign)
        and any(
            isinstance(target, ast.Name) and target.id == "model_config"
            for target in (
                statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            )
        )
    ]
    assert redeclared == []


@pytest.mark.parametrize("name", OBJECT_SCHEMAS)
def test_every_object_model_has_the_shared_configuration(name: str) -> None:
    model = getattr(kiket_sdk.types, name)
    assert issubclass(model, KiketModel)
    assert model.model_config["extra"] == "allow"
    assert model.model_config.get("validate_by_name") is True


@pytest.mark.parametrize("name", OBJECT_SCHEMAS)
def test_unknown_fields_are_kept_and_sent_back(name: str) -> None:
    """Forward compatibility: a field the platform adds later survives parsing and dumping."""
    model = getattr(kiket_sdk.types, name)
    example = SCHEMAS[name]["examples"][0]
    added = {"added_later": {"nested": [1, "two", None]}}
    parsed = model.model_validate({**example, **added})
    assert parsed.model_extra is not None
    assert parsed.model_extra["added_later"] == added["added_later"]
    assert parsed.model_dump(mode="json", by_alias=True)["added_later"] == added["added_later"]


def test_custom_data_record_columns_are_the_row_beyond_its_declared_fields() -> None:
    declared = set(_own_properties(SCHEMAS["CustomDataRecord"]))
    row = {"id": 7, "tier": "gold", "seats": 5, "tags": ["a"], "owner": None}
    page = kiket_sdk.types.CustomDataListResponse.model_validate({"data": [row]})
    record = page.data[0]
    assert record.columns == {key: value for key, value in row.items() if key not in declared}
    assert record.columns.get("missing") is None
    with pytest.raises(KeyError):
        record.columns["missing"]
    record.columns["tier"] = "changed"  # a copy: the record itself is unchanged
    assert record.columns["tier"] == "gold"


def test_the_extension_openapi_document_shows_the_spec_descriptions() -> None:
    """``/openapi.json`` (behind ``/docs``) carries each event field's description."""
    sdk = KiketSDK(webhook_secret="s", extension_id="com.example.docs", telemetry_enabled=False)

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: kiket_sdk.types.IssueCreated, ctx: HandlerContext) -> None:
        return None

    with TestClient(sdk) as client:
        components = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("Issue", "IssueCreated"):
        for wire, prop in _own_properties(SCHEMAS[name]).items():
            if "description" in prop:
                shown = components[name]["properties"][wire]["description"]
                assert " ".join(shown.split()) == " ".join(prop["description"].split())

"""Checks on openapi/kiket-extension-api.yaml, the source of the generated models and client.

The code generators and templates rely on conventions that a plain OpenAPI validator does not
enforce (one tag and an ``x-kiket-method`` per operation, named schemas, open objects, no closed
enums, ...). These tests pin them, and check every example in the document against its schema.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi" / "kiket-extension-api.yaml"
SPEC_URI = "urn:kiket:extension-api"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_REF = "#/components/schemas/"

ENVELOPE_EXAMPLE_KEYS = {
    "id",
    "event",
    "authentication",
    "api",
    "organization",
    "project",
    "secrets",
}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        loaded = yaml.safe_load(fh)
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def registry(spec: dict[str, Any]) -> Registry:
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(path: tuple[str | int, ...]) -> str:
    return "".join("/" + _escape(str(part)) for part in path)


def _walk(
    node: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Yield (path, value) for every node of the document, depth first."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def _is_property_name(path: tuple[str | int, ...]) -> bool:
    """True when the last path element is a name inside a `properties` map, not a keyword."""
    return len(path) >= 2 and path[-2] == "properties"


def _in_example(path: tuple[str | int, ...]) -> bool:
    return any(part in ("example", "examples") for part in path)


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for route, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield route, method, item[method]


def _webhook_operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, item in spec["webhooks"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield name, method, item[method]


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _validator(registry: Registry, path: tuple[str | int, ...]) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"{SPEC_URI}#{_pointer(path)}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _schema_names_referenced(schema: dict[str, Any]) -> set[str]:
    names = set()
    for _, value in _walk(schema):
        if isinstance(value, dict) and isinstance(value.get("$ref"), str):
            ref = value["$ref"]
            if ref.startswith(SCHEMA_REF):
                names.add(ref[len(SCHEMA_REF) :])
    return names


def _composes(spec: dict[str, Any], name: str, base: str) -> bool:
    """True when schema `name` is `base` or reaches it through its allOf members."""
    if name == base:
        return True
    schema = spec["components"]["schemas"][name]
    for member in schema.get("allOf", []):
        ref = member.get("$ref", "")
        if ref.startswith(SCHEMA_REF) and _composes(spec, ref[len(SCHEMA_REF) :], base):
            return True
    return False


# --------------------------------------------------------------------------------------------
# the document as a whole
# --------------------------------------------------------------------------------------------


def test_spec_is_valid_openapi_31(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_yaml_did_not_turn_strings_into_dates_or_numbers(spec: dict[str, Any]) -> None:
    # Unquoted timestamps become datetime objects in YAML 1.1 and 0x-hashes become integers.
    for path, value in _walk(spec):
        assert not isinstance(value, dt.date), f"unquoted timestamp at {_pointer(path)}"
        if _in_example(path) and isinstance(value, int) and not isinstance(value, bool):
            key = path[-1]
            assert key not in {"merkle_root", "content_hash", "tx_hash"}, _pointer(path)


def test_no_closed_enums(spec: dict[str, Any]) -> None:
    for path, value in _walk(spec):
        if isinstance(value, dict) and not _in_example(path):
            assert "enum" not in value or _is_property_name((*path, "enum")), (
                f"enum at {_pointer(path)}: use a string with x-kiket-known-values or a const"
            )


def test_no_closed_objects(spec: dict[str, Any]) -> None:
    for path, value in _walk(spec):
        if isinstance(value, dict) and not _in_example(path):
            assert value.get("additionalProperties", True) is not False, _pointer(path)
            assert value.get("unevaluatedProperties", True) is not False, _pointer(path)


def test_no_date_time_or_email_formats(spec: dict[str, Any]) -> None:
    for path, value in _walk(spec):
        if isinstance(value, dict) and not _in_example(path):
            fmt = value.get("format")
            if isinstance(fmt, str):
                assert fmt not in {"date-time", "date", "email", "idn-email"}, _pointer(path)


def test_known_values_are_documented_string_lists(spec: dict[str, Any]) -> None:
    for path, value in _walk(spec):
        if isinstance(value, dict) and "x-kiket-known-values" in value:
            known = value["x-kiket-known-values"]
            assert isinstance(known, list), _pointer(path)
            assert known, _pointer(path)
            assert all(isinstance(item, str) for item in known), _pointer(path)
            assert value.get("type") in ("string", ["string", "null"]), _pointer(path)


def test_security_schemes(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert (schemes["WorkspaceToken"]["type"], schemes["WorkspaceToken"]["scheme"]) == (
        "http",
        "bearer",
    )
    runtime = schemes["RuntimeToken"]
    assert (runtime["type"], runtime["in"], runtime["name"]) == (
        "apiKey",
        "header",
        "X-Kiket-Runtime-Token",
    )
    assert spec["security"] == [{"WorkspaceToken": []}, {"RuntimeToken": []}]


def test_header_parameters(spec: dict[str, Any]) -> None:
    params = spec["components"]["parameters"]
    by_name = {p["name"]: p for p in params.values()}
    for header in ("X-Kiket-Event-Version", "Idempotency-Key"):
        assert by_name[header]["in"] == "header"
        assert by_name[header]["required"] is False


def test_every_component_schema_has_a_unique_description(spec: dict[str, Any]) -> None:
    # The generator (reuse-model) folds schemas with identical content into one class; distinct
    # descriptions keep one class per schema.
    schemas = spec["components"]["schemas"]
    descriptions: Counter[str] = Counter()
    for name, schema in schemas.items():
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", name), name
        assert schema.get("description"), f"{name} has no description"
        descriptions[schema["description"]] += 1
    assert [d for d, n in descriptions.items() if n > 1] == []


def test_no_inline_object_models(spec: dict[str, Any]) -> None:
    # An object with properties anywhere but at the top of a component schema (or as one of its
    # allOf members) would become a generated class with a made-up name.
    for name, schema in spec["components"]["schemas"].items():
        allowed = {()} | {("allOf", i) for i in range(len(schema.get("allOf", [])))}
        for path, value in _walk(schema):
            if _in_example(path) or not isinstance(value, dict) or path[-1:] == ("properties",):
                continue
            if "properties" in value:
                assert path in allowed, (
                    f"inline object with properties in {name} at {_pointer(path)}"
                )


def test_all_refs_resolve(spec: dict[str, Any]) -> None:
    for path, value in _walk(spec):
        if isinstance(value, dict) and isinstance(value.get("$ref"), str):
            assert _deref(spec, value) is not None, _pointer(path)


def test_handler_answer_schemas(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name, tag in (("Allow", "allow"), ("Deny", "deny"), ("Pending", "pending")):
        assert schemas[name]["properties"]["status"]["const"] == tag
        assert "status" in schemas[name]["required"]
    assert "message" in schemas["Deny"]["required"]
    outputs = schemas["AllowMetadata"]["properties"]["output_fields"]
    assert outputs["additionalProperties"] == {"type": "string"}
    members = {m.get("$ref") for m in schemas["HandlerResult"]["anyOf"]}
    assert {SCHEMA_REF + n for n in ("Allow", "Deny", "Pending")} <= members
    for name in (
        "NotificationRequest",
        "NotificationResponse",
        "ChannelValidationRequest",
        "ChannelValidationResponse",
        "InboundError",
    ):
        assert schemas[name].get("examples"), name
    responses = spec["components"]["responses"]
    problem = responses["Problem"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": SCHEMA_REF + "Problem"}
    assert schemas["Problem"]["additionalProperties"] is True
    assert set(schemas["Problem"]["properties"]) == {
        "type",
        "title",
        "status",
        "detail",
        "instance",
    }
    handler = responses["HandlerResult"]["content"]["application/json"]["schema"]
    assert handler == {"$ref": SCHEMA_REF + "HandlerResult"}


# --------------------------------------------------------------------------------------------
# outbound operations (paths)
# --------------------------------------------------------------------------------------------


def test_operations_match_the_client_conventions(spec: dict[str, Any]) -> None:
    seen: dict[tuple[str, str], str] = {}
    declared_tags = {t["name"] for t in spec["tags"]}
    for route, method, op in _operations(spec):
        where = f"{method.upper()} {route}"
        assert re.fullmatch(r"[a-z][a-z0-9_]*", op.get("operationId", "")), where
        assert len(op.get("tags", [])) == 1, where
        assert op["tags"][0] in declared_tags, where
        assert re.fullmatch(r"[a-z][a-z0-9_]*", op.get("x-kiket-method", "")), where
        assert op.get("summary"), where
        assert op.get("description"), where
        key = (op["tags"][0], op["x-kiket-method"])
        assert key not in seen, f"{where} repeats {key} of {seen.get(key)}"
        seen[key] = op["operationId"]
    assert {tag for tag, _ in seen} == declared_tags, "a declared tag has no operation"


def test_generated_clients_expose_exactly_the_spec_operations(spec: dict[str, Any]) -> None:
    from kiket_sdk._generated.operations import GeneratedAsyncClient, GeneratedSyncClient

    wanted = {(op["tags"][0], op["x-kiket-method"]) for _, _, op in _operations(spec)}
    for client in (GeneratedSyncClient, GeneratedAsyncClient):
        exposed = {
            (tag, name)
            for tag, attribute in vars(client).items()
            if hasattr(attribute, "func") and tag != "with_raw_response"
            for name in vars(inspect.get_annotations(attribute.func, eval_str=True)["return"])
            if not name.startswith("_")
        }
        assert exposed == wanted, client.__name__


def test_scope_annotations(spec: dict[str, Any]) -> None:
    """``x-kiket-scope``: one helper per tag, and the bound parameter is required everywhere."""
    owners: dict[str, tuple[str, str | None]] = {}
    for route, method, op in _operations(spec):
        scope = op.get("x-kiket-scope")
        if scope is None:
            continue
        where = f"{method.upper()} {route}"
        assert set(scope) <= {"helper", "bound"}, where
        assert re.fullmatch(r"[a-z][a-z0-9_]*", scope["helper"]), where
        binding = (op["tags"][0], scope.get("bound"))
        assert owners.setdefault(scope["helper"], binding) == binding, where
        if scope.get("bound"):
            params = {_deref(spec, p)["name"]: _deref(spec, p) for p in op.get("parameters", [])}
            body = _request_properties(spec, op)
            assert scope["bound"] in params or scope["bound"] in body, where
            if scope["bound"] in params:
                assert params[scope["bound"]]["required"] is True, where
            else:
                assert scope["bound"] in body["required"], where


def _request_properties(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    request = op.get("requestBody")
    if request is None:
        return {"required": []}
    schema = _deref(spec, request["content"]["application/json"]["schema"])
    return {**schema.get("properties", {}), "required": schema.get("required", [])}


def test_operation_ids_are_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(spec)]
    ids += [op["operationId"] for _, _, op in _webhook_operations(spec)]
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_parameters(spec: dict[str, Any]) -> None:
    for route, method, op in _operations(spec):
        where = f"{method.upper()} {route}"
        params = [_deref(spec, p) for p in op.get("parameters", [])]
        path_names = set(re.findall(r"\{(\w+)\}", route))
        declared_path = {p["name"] for p in params if p["in"] == "path"}
        assert declared_path == path_names, where
        for param in params:
            assert ("schema" in param) != ("content" in param), f"{where} {param['name']}"
            if "schema" in param:
                schema = param["schema"]
                assert "type" in schema or "anyOf" in schema, f"{where} {param['name']}"
            if param["in"] == "path":
                assert param["required"] is True
            if param["name"] == "project_id":
                assert param["required"] is True, where
            if param["in"] == "header":
                assert param["required"] is False, where
        if method in ("post", "patch"):
            refs = [p.get("$ref") for p in op.get("parameters", [])]
            assert "#/components/parameters/IdempotencyKey" in refs, where


def test_custom_data_filters_is_a_json_encoded_object(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/api/v1/ext/custom_data/{module_key}/{table}"]["get"]
    by_name = {p["name"]: p for p in op["parameters"] if "name" in p}
    limit = by_name["limit"]["schema"]
    assert (limit["type"], limit["default"]) == ("integer", 50)
    filters = by_name["filters"]
    assert "schema" not in filters
    assert filters["content"]["application/json"]["schema"]["type"] == "object"


def test_jwks_needs_no_credentials(spec: dict[str, Any]) -> None:
    assert spec["paths"]["/.well-known/jwks.json"]["get"]["security"] == []


def test_responses(spec: dict[str, Any]) -> None:
    for route, method, op in _operations(spec):
        where = f"{method.upper()} {route}"
        responses = op["responses"]
        assert responses.get("default") == {"$ref": "#/components/responses/Problem"}, where
        success = [code for code in responses if str(code).startswith("2")]
        assert len(success) == 1, where
        body = responses[success[0]]
        if "content" not in body:
            assert success[0] == "204", where
            continue
        media = body["content"]["application/json"]
        ref = media["schema"].get("$ref", "")
        assert ref.startswith(SCHEMA_REF), f"{where}: response schema must be named"
        assert "example" in media or media.get("examples"), f"{where}: no example"
        request = op.get("requestBody")
        if request is not None:
            request_schema = request["content"]["application/json"]["schema"]
            assert request_schema.get("$ref", "").startswith(SCHEMA_REF), where


def test_response_examples_validate(spec: dict[str, Any], registry: Registry) -> None:
    checked = 0
    for path, value in _walk(spec["paths"]):
        if isinstance(value, dict) and "schema" in value and "example" in value:
            media_path = ("paths", *path)
            validator = _validator(registry, (*media_path, "schema"))
            errors = [e.message for e in validator.iter_errors(value["example"])]
            assert errors == [], f"{_pointer(media_path)}: {errors}"
            checked += 1
    assert checked >= 30


# --------------------------------------------------------------------------------------------
# inbound events (webhooks)
# --------------------------------------------------------------------------------------------


def test_webhooks_match_the_event_catalogue(spec: dict[str, Any]) -> None:
    found: dict[str, tuple[str, list[str]]] = {}
    for name, method, op in _webhook_operations(spec):
        assert method == "post", name
        assert op.get("summary"), name
        assert re.fullmatch(r"on_[a-z0-9_]+", op.get("operationId", "")), name
        versions = op.get("x-kiket-versions")
        assert isinstance(versions, list), name
        assert versions, name
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        assert schema.get("$ref", "").startswith(SCHEMA_REF), name
        assert op["responses"]["200"] == {"$ref": "#/components/responses/HandlerResult"}, name
        event = op.get("x-kiket-event")
        model = schema["$ref"][len(SCHEMA_REF) :]
        # The key is the event name, or `<event>.<version>` for a later version's own payload.
        assert name in (event, *(f"{event}.{v}" for v in versions)), name
        assert model == _pascal(name), name
        found[name] = (event, versions)
    pairs = [(event, v) for event, versions in found.values() for v in versions]
    assert [p for p, n in Counter(pairs).items() if n > 1] == []


def _pascal(name: str) -> str:
    """``external.webhook.inbound_email`` -> ``ExternalWebhookInboundEmail`` (schema names)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[._]", name))


def test_the_catalogue_is_the_spec_webhooks(spec: dict[str, Any]) -> None:
    from kiket_sdk._generated.catalogue import EVENT_PAYLOADS

    wanted = {
        (op["x-kiket-event"], str(version)): op["requestBody"]["content"]["application/json"][
            "schema"
        ]["$ref"][len(SCHEMA_REF) :]
        for _, _, op in _webhook_operations(_load_spec())
        for version in op["x-kiket-versions"]
    }
    assert {key: model.__name__ for key, model in EVENT_PAYLOADS.items()} == wanted


def _load_spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.safe_load(fh)
    return loaded


def _webhook_schemas() -> list[tuple[str, str, str]]:
    """(webhook key, wire event, payload schema) for every webhook of the spec."""
    found = []
    for name, _, op in _webhook_operations(_load_spec()):
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        found.append((name, op["x-kiket-event"], ref[len(SCHEMA_REF) :]))
    return found


@pytest.mark.parametrize(("webhook", "event", "schema_name"), _webhook_schemas())
def test_event_payload_examples(
    spec: dict[str, Any], registry: Registry, webhook: str, event: str, schema_name: str
) -> None:
    schema = spec["components"]["schemas"][schema_name]
    assert _composes(spec, schema_name, "EventEnvelope"), (
        f"{schema_name} must compose EventEnvelope"
    )
    examples = schema.get("examples")
    assert isinstance(examples, list), schema_name
    assert examples, schema_name
    validator = _validator(registry, ("components", "schemas", schema_name))
    for example in examples:
        missing = ENVELOPE_EXAMPLE_KEYS - set(example)
        assert not missing, f"{schema_name} example lacks envelope keys {missing}"
        assert example["event"] == event, schema_name
        assert isinstance(example["authentication"]["runtime_token"], str)
        errors = [e.message for e in validator.iter_errors(example)]
        assert errors == [], f"{schema_name}: {errors}"


def test_every_schema_example_validates(spec: dict[str, Any], registry: Registry) -> None:
    schemas = spec["components"]["schemas"]
    missing = [name for name, schema in schemas.items() if not schema.get("examples")]
    assert missing == []
    for name, schema in schemas.items():
        validator = _validator(registry, ("components", "schemas", name))
        for example in schema["examples"]:
            errors = [e.message for e in validator.iter_errors(example)]
            assert errors == [], f"{name}: {errors}"


def test_component_response_examples_validate(spec: dict[str, Any], registry: Registry) -> None:
    for name, response in spec["components"]["responses"].items():
        for media_type, media in response["content"].items():
            path = ("components", "responses", name, "content", media_type)
            validator = _validator(registry, (*path, "schema"))
            errors = [e.message for e in validator.iter_errors(media["example"])]
            assert errors == [], f"{name}: {errors}"


def test_validation_really_follows_refs(spec: dict[str, Any], registry: Registry) -> None:
    # Guard against a validator that silently ignores the $refs: a payload whose issue has no
    # title, or whose id is a float, must fail.
    validator = _validator(registry, ("components", "schemas", "IssueCreated"))
    good = spec["components"]["schemas"]["IssueCreated"]["examples"][0]
    assert validator.is_valid(good)
    no_title = {**good, "issue": {k: v for k, v in good["issue"].items() if k != "title"}}
    assert not validator.is_valid(no_title)
    assert not validator.is_valid({**good, "organization": {"id": 1.5}})
    assert not validator.is_valid({k: v for k, v in good.items() if k != "issue"})
    case = _validator(registry, ("components", "schemas", "CaseCreated"))
    assert not case.is_valid(no_title)


def test_identifiers_accept_integers_and_strings(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    int_or_str = [{"type": "integer"}, {"type": "string"}]
    for name, prop in (
        ("Issue", "id"),
        ("Issue", "project_id"),
        ("Issue", "organization_id"),
        ("Organization", "id"),
        ("Project", "id"),
        ("EventEnvelope", "id"),
        ("CustomDataRecord", "id"),
        ("SlaEvent", "issue_id"),
        ("Actor", "id"),
    ):
        assert schemas[name]["properties"][prop]["anyOf"][:2] == int_or_str, f"{name}.{prop}"
    assert schemas["Issue"]["required"] == ["id", "title"]
    assert schemas["EventEnvelope"]["properties"]["received_at"]["type"] == "string"

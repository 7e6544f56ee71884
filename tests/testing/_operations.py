"""A valid request for every operation of the spec, and an independent check of the answers.

``seed(fake)`` prepares the state the requests need; ``valid_requests(ids)`` lists one request
per operation of the spec in an order that works against one fake (reads before the delete of
the same thing): hand-written requests for the stateful routes, and for any other operation a
request built from the spec (``spec_request``). ``answer_errors`` checks an answer against the
spec with plain ``jsonschema`` (not with the fake's own validation code).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from kiket_sdk.testing import FakeKiket
from kiket_sdk.testing._fake_defaults import instance_of

SPEC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "openapi" / "kiket-extension-api.yaml").read_text()
)
_URI = "urn:test:kiket-spec"
_REGISTRY = Registry().with_resource(
    _URI, Resource.from_contents(SPEC, default_specification=DRAFT202012)
)
PROJECT = 42
EXTENSION = "com.example.mailer"


@dataclass(frozen=True)
class Req:
    operation_id: str
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None


def spec_operations() -> dict[str, tuple[str, str]]:
    """operationId -> (method, path template) for every operation of the spec."""
    return {
        op["operationId"]: (method.upper(), template)
        for template, item in SPEC["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


def seed(fake: FakeKiket) -> dict[str, Any]:
    """Seed what the valid requests read; returns the ids they need."""
    [record] = fake.seed_records("mailer", "relays", [{"name": "Primary"}], project_id=PROJECT)
    fake.seed_intake_form(
        "bug-report",
        project_id=PROJECT,
        fields=[{"key": "summary", "label": "Summary", "field_type": "text", "required": True}],
    )
    first = fake.seed_intake_submission(
        "bug-report", project_id=PROJECT, data={"summary": "Broken export"}
    )
    second = fake.seed_intake_submission(
        "bug-report", project_id=PROJECT, data={"summary": "Slow login"}
    )
    fake.seed_sla_events([{"issue_id": 1042, "project_id": PROJECT, "state": "breached"}])
    anchor = fake.seed_audit_anchor([{"id": 9001, "action": "login"}, {"id": 9002}])
    fake.seed_secrets(EXTENSION, {"API_KEY": "k-1"})
    return {
        "record": record["id"],
        "first": first["id"],
        "second": second["id"],
        "anchor": anchor,
    }


def spec_request(operation_id: str) -> Req:
    """A request for ``operation_id`` built from the spec: every required parameter and body
    field with a small valid value (path segments ``x``, numbers from their minimum)."""
    method, template = spec_operations()[operation_id]
    op = SPEC["paths"][template][method.lower()]
    path, query = template, {}
    for raw in op.get("parameters", []):
        param = _resolve(raw)
        if param["in"] == "path":
            path = path.replace("{" + param["name"] + "}", "x")
        elif param["in"] == "query" and param.get("required"):
            value = instance_of(param["schema"]) if "schema" in param else {}
            query[param["name"]] = json.dumps(value) if "content" in param else value or "x"
    body = None
    if "requestBody" in op:
        body = instance_of(op["requestBody"]["content"]["application/json"]["schema"])
    return Req(operation_id, method, path, query or None, body)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def valid_requests(ids: dict[str, Any]) -> list[Req]:
    """One valid request per operation of the spec, in an order that works against one fake."""
    curated = stateful_requests(ids)
    covered = {req.operation_id for req in curated}
    return curated + [spec_request(op) for op in spec_operations() if op not in covered]


def stateful_requests(ids: dict[str, Any]) -> list[Req]:
    """Hand-written requests that exercise the stateful routes, in a working order."""
    table = "/api/v1/ext/custom_data/mailer/relays"
    form = "/api/v1/ext/intake_forms/bug-report"
    secrets = f"/api/v1/extensions/{EXTENSION}/secrets"
    anchor = ids["anchor"]
    record = anchor["records"][0]
    proj = {"project_id": PROJECT}
    return [
        Req("get_rate_limit", "GET", "/api/v1/ext/rate_limit"),
        Req("list_custom_data_records", "GET", table, {**proj, "limit": 10}),
        Req("create_custom_data_record", "POST", table, proj, {"record": {"name": "EU"}}),
        Req("get_custom_data_record", "GET", f"{table}/{ids['record']}", proj),
        Req("update_custom_data_record", "PATCH", f"{table}/{ids['record']}", proj,
            {"record": {"name": "Main"}}),
        Req("delete_custom_data_record", "DELETE", f"{table}/{ids['record']}", proj),
        Req("list_sla_events", "GET", "/api/v1/ext/sla/events", {**proj, "state": "breached"}),
        Req("list_intake_forms", "GET", "/api/v1/ext/intake_forms", {**proj, "active": "true"}),
        Req("get_intake_form", "GET", form, proj),
        Req("list_intake_submissions", "GET", f"{form}/submissions", {**proj, "limit": 5}),
        Req("create_intake_submission", "POST", f"{form}/submissions", None,
            {"project_id": PROJECT, "data": {"summary": "Printer on fire"}}),
        Req("get_intake_submission", "GET", f"{form}/submissions/{ids['first']}", proj),
        Req("approve_intake_submission", "POST", f"{form}/submissions/{ids['first']}/approve",
            None, {"project_id": PROJECT, "notes": "Reproduced"}),
        Req("reject_intake_submission", "POST", f"{form}/submissions/{ids['second']}/reject",
            None, {"project_id": PROJECT}),
        Req("get_intake_form_stats", "GET", f"{form}/stats", {**proj, "period": "week"}),
        Req("get_webhook_url", "GET", "/api/v1/ext/webhook_url", {"action_name": "inbound"}),
        Req("rotate_webhook_url", "POST", "/api/v1/ext/webhook_url/rotate",
            {"action_name": "inbound"}),
        Req("update_configuration", "PATCH", "/api/v1/ext/configuration", None,
            {"configuration": {"connected": True}}),
        Req("create_inbound_email", "POST", "/api/v1/ext/inbound_emails", None,
            {"inbound_email": {"from_email": "a@example.com", "to_email": "b@example.com"}}),
        Req("send_telemetry", "POST", "/api/v1/ext/telemetry", None,
            {"event": "issue.created", "version": "v1", "status": "ok", "duration_ms": 3.5,
             "timestamp": "2026-01-15T10:00:00Z"}),
        Req("get_extension_metadata", "GET", f"/api/v1/extensions/{EXTENSION}"),
        Req("log_extension_event", "POST", f"/api/v1/extensions/{EXTENSION}/events", None,
            {"event": "mailer.sent", "version": "v1", "timestamp": "2026-01-15T10:00:00Z"}),
        Req("send_notification", "POST", "/api/v1/extensions/notifications", None,
            {"title": "Hi", "body": "Connected"}),
        Req("emit_metric", "POST", "/api/v1/extensions/metrics", None,
            {"name": "mails.sent", "value": 3}),
        Req("list_secrets", "GET", secrets),
        Req("get_secret", "GET", f"{secrets}/API_KEY"),
        Req("set_secret", "POST", f"{secrets}/OTHER%2FKEY", None, {"value": "v"}),
        Req("delete_secret", "DELETE", f"{secrets}/API_KEY"),
        Req("list_audit_anchors", "GET", "/api/v1/audit/anchors", {"status": "confirmed"}),
        Req("get_audit_anchor", "GET", f"/api/v1/audit/anchors/{anchor['merkle_root']}",
            {"include_records": "true"}),
        Req("get_audit_record_proof", "GET", f"/api/v1/audit/records/{record['id']}/proof"),
        Req("verify_audit_proof", "POST", "/api/v1/audit/verify", None,
            {"content_hash": record["content_hash"], "merkle_root": anchor["merkle_root"],
             "proof": [anchor["records"][1]["content_hash"]], "leaf_index": 0}),
        Req("get_jwks", "GET", "/.well-known/jwks.json"),
    ]  # fmt: skip


def answer_errors(operation_id: str, status: int, content_type: str, body: bytes) -> list[str]:
    """Why an answer does not match the spec (checked with jsonschema against the YAML)."""
    method, template = spec_operations()[operation_id]
    responses = SPEC["paths"][template][method.lower()]["responses"]
    key = str(status) if str(status) in responses else "default"
    response = responses[key]
    pointer = f"#/paths/{template.replace('~', '~0').replace('/', '~1')}/{method.lower()}"
    pointer += f"/responses/{key}"
    if "$ref" in response:
        pointer = response["$ref"]
        response = SPEC["components"]["responses"][pointer.rsplit("/", 1)[1]]
    if "content" not in response:
        return [] if body == b"" else ["unexpected body"]
    media = content_type.split(";")[0]
    if media not in response["content"]:
        return [f"undocumented content type {media}"]
    schema = {"$ref": f"{_URI}{pointer}/content/{media.replace('/', '~1')}/schema"}
    validator = jsonschema.Draft202012Validator(schema, registry=_REGISTRY)
    return [error.message for error in validator.iter_errors(json.loads(body))]

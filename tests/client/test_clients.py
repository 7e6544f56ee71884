"""``KiketClient`` / ``AsyncKiketClient`` against a fake Kiket platform on a real uvicorn server.

Every test runs with both clients (fixture ``harness``). The fake platform (``APP``) answers
every operation of the spec with a canned body and records what went over the wire, so a test
checks method, raw path, query, JSON body and headers, then the typed result. ``OPERATION_CASES``
holds hand-checked wire details of the operations (encoding, aliases, answers); that every spec
operation exists on both clients is checked from the spec in ``test_spec_operations.py``. The
platform and the harness are reused by ``test_endpoints.py``.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kiket_sdk._client import AsyncKiketClient, KiketClient
from kiket_sdk._exceptions import ClientClosedError
from kiket_sdk._generated import models as m
from kiket_sdk._version import __version__
from kiket_sdk.testing import serve_app

T = TypeVar("T")
AnyClient = KiketClient | AsyncKiketClient
TOKEN = "wk_test"
RUNTIME_TOKEN = "rt_delivery_1"
VERSION = "v2"

# --- the fake platform --------------------------------------------------------------------------

RATE_LIMIT = {"rate_limit": {"limit": 600, "remaining": 598, "window_seconds": 60, "reset_in": 42}}
RECORD = {"id": 7, "email": "lead@example.com"}
SLA_EVENT = {
    "id": 1,
    "issue_id": "ISS-42",
    "project_id": 42,
    "state": "breached",
    "triggered_at": "2026-03-01T10:00:00Z",
    "definition": {"status": "in_progress"},
    "metrics": {"duration_minutes": 90, "overdue_minutes": 30},
}
FORM = {
    "id": 3,
    "key": "bug report",
    "name": "Bug report",
    "active": True,
    "public": True,
    "fields": [{"key": "summary", "label": "Summary", "field_type": "text", "required": True}],
    "form_url": "https://kiket.dev/forms/bug-report",
    "embed_allowed": False,
    "submissions_count": 4,
}
PRIVATE_FORM = {**FORM, "key": "internal", "public": False, "form_url": "https://kiket.dev/f/x"}
SUBMISSION = {"id": 11, "intake_form_id": 3, "status": "pending", "data": {"summary": "Crash"}}
STATS = {"total_submissions": 4, "pending": 1, "approved": 2, "rejected": 1, "converted": 0}
WEBHOOK = {"webhook_url": "https://kiket.dev/hooks/tok_1", "webhook_token": "tok_1"}
ROTATED = {"webhook_url": "https://kiket.dev/hooks/tok_2", "webhook_token": "tok_2"}
ROOT = "0x" + "ab" * 32
ANCHOR = {"id": 5, "merkle_root": ROOT, "leaf_count": 4, "network": "polygon_amoy"}
PROOF = {
    "record_id": 981,
    "record_type": "AuditLog",
    "content_hash": "0x" + "01" * 32,
    "anchor_id": 5,
    "merkle_root": ROOT,
    "leaf_index": 2,
    "leaf_count": 4,
    "proof": ["0x" + "02" * 32, "0x" + "03" * 32],
    "tx_hash": "0xfeed",
    "verified": True,
}
VERIFIED = {"verified": True, "proof_valid": True, "blockchain_verified": False}
JWKS = {"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "k1"}]}
OK = {"ok": True}
NOT_FOUND = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no such secret"}

# (method, path template with * for one segment, status, body): the first match answers.
ROUTES: list[tuple[str, str, int, Any]] = [
    ("GET", "/api/v1/ext/rate_limit", 200, RATE_LIMIT),
    ("GET", "/api/v1/ext/custom_data/*/*", 200, {"data": [RECORD]}),
    ("POST", "/api/v1/ext/custom_data/*/*", 201, {"data": RECORD}),
    ("GET", "/api/v1/ext/custom_data/*/*/*", 200, {"data": RECORD}),
    ("PATCH", "/api/v1/ext/custom_data/*/*/*", 200, {"data": RECORD}),
    ("DELETE", "/api/v1/ext/custom_data/*/*/*", 204, None),
    ("GET", "/api/v1/ext/sla/events", 200, {"data": [SLA_EVENT]}),
    ("GET", "/api/v1/ext/intake_forms", 200, {"data": [FORM]}),
    ("GET", "/api/v1/ext/intake_forms/internal", 200, PRIVATE_FORM),
    ("GET", "/api/v1/ext/intake_forms/*", 200, FORM),
    ("GET", "/api/v1/ext/intake_forms/*/submissions", 200, {"data": [SUBMISSION]}),
    ("POST", "/api/v1/ext/intake_forms/*/submissions", 201, SUBMISSION),
    ("GET", "/api/v1/ext/intake_forms/*/submissions/*", 200, SUBMISSION),
    ("POST", "/api/v1/ext/intake_forms/*/submissions/*/approve", 200, SUBMISSION),
    ("POST", "/api/v1/ext/intake_forms/*/submissions/*/reject", 200, SUBMISSION),
    ("GET", "/api/v1/ext/intake_forms/*/stats", 200, STATS),
    ("GET", "/api/v1/ext/webhook_url", 200, WEBHOOK),
    ("POST", "/api/v1/ext/webhook_url/rotate", 200, ROTATED),
    ("PATCH", "/api/v1/ext/configuration", 200, OK),
    ("POST", "/api/v1/ext/inbound_emails", 201, {"id": 77, "status": "queued"}),
    ("POST", "/api/v1/ext/telemetry", 202, None),
    ("POST", "/api/v1/extensions/notifications", 202, None),
    ("POST", "/api/v1/extensions/metrics", 202, None),
    ("GET", "/api/v1/extensions/*", 200, {"id": "com.example.crm", "name": "CRM", "version": "1"}),
    ("POST", "/api/v1/extensions/*/events", 201, OK),
    ("GET", "/api/v1/extensions/*/secrets", 200, {"keys": ["API_KEY", "api/key"]}),
    ("GET", "/api/v1/extensions/*/secrets/MISSING", 404, NOT_FOUND),
    ("GET", "/api/v1/extensions/*/secrets/*", 200, {"value": "s3cret"}),
    ("POST", "/api/v1/extensions/*/secrets/*", 200, OK),
    ("DELETE", "/api/v1/extensions/*/secrets/*", 200, OK),
    ("GET", "/api/v1/audit/anchors", 200, {"anchors": [ANCHOR], "pagination": {"page": 2}}),
    ("GET", "/api/v1/audit/anchors/*", 200, ANCHOR),
    ("GET", "/api/v1/audit/records/*/proof", 200, PROOF),
    ("POST", "/api/v1/audit/verify", 200, VERIFIED),
    ("GET", "/.well-known/jwks.json", 200, JWKS),
]


@dataclass(frozen=True)
class Seen:
    """One request as the platform received it."""

    method: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    json: Any


@dataclass
class Platform:
    requests: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seen: Seen) -> None:
        with self.lock:
            self.requests.append(seen)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def only(self) -> Seen:
        """The single request received since the last ``clear()``."""
        with self.lock:
            assert len(self.requests) == 1, [(r.method, r.raw_path) for r in self.requests]
            return self.requests[0]


PLATFORM = Platform()


def _matches(template: str, segments: list[str]) -> bool:
    parts = template.strip("/").split("/")
    return len(parts) == len(segments) and all(
        part in ("*", segment) for part, segment in zip(parts, segments, strict=True)
    )


async def platform_endpoint(request: Request) -> Response:
    raw_path = request.scope["raw_path"].decode()
    body = await request.body()
    PLATFORM.add(
        Seen(
            method=request.method,
            raw_path=raw_path,
            query=parse_qsl(request.url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in request.headers.items()},
            json=json.loads(body) if body else None,
        )
    )
    segments = [unquote(s) for s in raw_path.strip("/").split("/")]
    for method, template, status, answer in ROUTES:
        if method == request.method and _matches(template, segments):
            if answer is None:
                return Response(status_code=status)
            return JSONResponse(answer, status_code=status)
    return JSONResponse({"title": "no such route", "status": 404}, status_code=404)


APP = Starlette(
    routes=[Route("/{rest:path}", platform_endpoint, methods=["GET", "POST", "PATCH", "DELETE"])]
)


# --- harness ------------------------------------------------------------------------------------


async def run(value: Awaitable[T] | T) -> T:
    """Await the result of an async call; pass a sync call's result through."""
    if inspect.isawaitable(value):
        return await value
    return value


class Harness:
    """Makes clients of one kind (``sync`` or ``async``) and closes them at the end."""

    def __init__(self, kind: str, base_url: str) -> None:
        self.kind = kind
        self.base_url = base_url
        self.made: list[AnyClient] = []

    def make(self, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", self.base_url)
        kwargs.setdefault("workspace_token", TOKEN)
        client: AnyClient = (KiketClient if self.kind == "sync" else AsyncKiketClient)(**kwargs)
        self.made.append(client)
        return client

    def delivery(self) -> Any:
        """A ``for_delivery`` copy of a fresh client (runtime token and version headers)."""
        return self.make().for_delivery(RUNTIME_TOKEN, VERSION)

    async def close(self) -> None:
        for client in self.made:
            await run(client.close())


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with serve_app(APP) as url:
        yield url


@pytest.fixture(params=["sync", "async"])
async def harness(request: pytest.FixtureRequest, server_url: str) -> AsyncIterator[Harness]:
    PLATFORM.clear()
    h = Harness(request.param, server_url)
    yield h
    await h.close()


def assert_standard_headers(seen: Seen, *, delivery: bool = True) -> None:
    """Bearer token, UA, Accept, and the per-delivery headers when ``delivery``."""
    headers = seen.headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["user-agent"] == f"kiket-sdk-python/{__version__}"
    assert headers["accept"] == "application/json"
    if delivery:
        assert headers["x-kiket-runtime-token"] == RUNTIME_TOKEN
        assert headers["x-kiket-event-version"] == VERSION
    else:
        assert "x-kiket-runtime-token" not in headers
        assert "x-kiket-event-version" not in headers
    if seen.method in ("POST", "PATCH"):
        assert headers["idempotency-key"]
    if seen.json is not None:
        assert headers["content-type"] == "application/json"


# --- one call of every generated operation --------------------------------------------------


@dataclass(frozen=True)
class OperationCase:
    resource: str
    op: str
    call: Callable[[Any], Any]  # given the client (or client.with_raw_response)
    method: str
    raw_path: str
    query: list[tuple[str, str]]
    body: Any
    check: Callable[[Any], bool]


def case(
    resource: str,
    op: str,
    call: Callable[[Any], Any],
    method: str,
    raw_path: str,
    *,
    query: list[tuple[str, str]] | None = None,
    body: Any = None,
    check: Callable[[Any], bool],
) -> Any:
    return pytest.param(
        OperationCase(resource, op, call, method, raw_path, query or [], body, check),
        id=f"{resource}.{op}",
    )


CD = "/api/v1/ext/custom_data/com.example%2Fcrm/lead%20contacts"
IF = "/api/v1/ext/intake_forms/bug%20report"
EXT = "/api/v1/extensions/com.example.crm"
EMAIL = {"from_email": "a@example.com", "to_email": "in@kiket.dev", "subject": "Hi"}

OPERATION_CASES = [
    case(
        "extension", "rate_limit", lambda c: c.extension.rate_limit(),
        "GET", "/api/v1/ext/rate_limit",
        check=lambda r: isinstance(r, m.RateLimitResponse) and r.rate_limit.reset_in == 42,
    ),
    case(
        "extension", "update_configuration",
        lambda c: c.extension.update_configuration(configuration={"channel": "#ops"}),
        "PATCH", "/api/v1/ext/configuration", body={"configuration": {"channel": "#ops"}},
        check=lambda r: isinstance(r, m.Acknowledgement) and r.ok is True,
    ),
    case(
        "extension", "metadata", lambda c: c.extension.metadata("com.example.crm"),
        "GET", EXT,
        check=lambda r: isinstance(r, m.ExtensionMetadata) and r.name == "CRM",
    ),
    case(
        "extension", "log_event",
        lambda c: c.extension.log_event(
            "com.example.crm", event="synced", version="v2", timestamp="2026-03-01T00:00:00Z",
            data={"n": 1},
        ),
        "POST", EXT + "/events",
        body={"event": "synced", "version": "v2", "data": {"n": 1},
              "timestamp": "2026-03-01T00:00:00Z"},
        check=lambda r: isinstance(r, m.Acknowledgement),
    ),
    case(
        "extension", "notify", lambda c: c.extension.notify(title="T", body="B", level="warning"),
        "POST", "/api/v1/extensions/notifications",
        body={"title": "T", "body": "B", "level": "warning"},
        check=lambda r: isinstance(r, m.Acknowledgement),
    ),
    case(
        "extension", "emit_metric", lambda c: c.extension.emit_metric(name="runs", value=1.5),
        "POST", "/api/v1/extensions/metrics", body={"name": "runs", "value": 1.5},
        check=lambda r: isinstance(r, m.Acknowledgement),
    ),
    case(
        "custom_data", "list",
        lambda c: c.custom_data.list(
            "com.example/crm", "lead contacts", project_id=42, limit=10, filters={"status": "new"}
        ),
        "GET", CD,
        query=[("project_id", "42"), ("limit", "10"), ("filters", '{"status":"new"}')],
        check=lambda r: isinstance(r, m.CustomDataListResponse) and r.data[0].id == 7,
    ),
    case(
        "custom_data", "create",
        lambda c: c.custom_data.create(
            "com.example/crm", "lead contacts", project_id=42, record={"email": "x@y.z"}
        ),
        "POST", CD, query=[("project_id", "42")], body={"record": {"email": "x@y.z"}},
        check=lambda r: isinstance(r, m.CustomDataRecordResponse) and r.data.id == 7,
    ),
    case(
        "custom_data", "get",
        lambda c: c.custom_data.get("com.example/crm", "lead contacts", "r 1", project_id=42),
        "GET", CD + "/r%201", query=[("project_id", "42")],
        check=lambda r: isinstance(r, m.CustomDataRecordResponse)
        and r.data.model_extra == {"email": "lead@example.com"},
    ),
    case(
        "custom_data", "update",
        lambda c: c.custom_data.update(
            "com.example/crm", "lead contacts", 7, project_id="42", record={"email": None}
        ),
        "PATCH", CD + "/7", query=[("project_id", "42")], body={"record": {"email": None}},
        check=lambda r: isinstance(r, m.CustomDataRecordResponse),
    ),
    case(
        "custom_data", "delete",
        lambda c: c.custom_data.delete("com.example/crm", "lead contacts", 7, project_id=42),
        "DELETE", CD + "/7", query=[("project_id", "42")],
        check=lambda r: r is None,
    ),
    case(
        "sla_events", "list",
        lambda c: c.sla_events.list(project_id=42, issue_id="ISS-42", state="breached", limit=5),
        "GET", "/api/v1/ext/sla/events",
        query=[("project_id", "42"), ("issue_id", "ISS-42"), ("state", "breached"),
               ("limit", "5")],
        check=lambda r: isinstance(r, m.SlaEventListResponse)
        and r.data[0].metrics is not None and r.data[0].metrics.overdue_minutes == 30,
    ),
    case(
        "intake_forms", "list",
        lambda c: c.intake_forms.list(project_id=42, active=True, public=False, limit=3),
        "GET", "/api/v1/ext/intake_forms",
        query=[("project_id", "42"), ("active", "true"), ("public", "false"), ("limit", "3")],
        check=lambda r: isinstance(r, m.IntakeFormListResponse) and r.data[0].key == "bug report",
    ),
    case(
        "intake_forms", "get", lambda c: c.intake_forms.get("bug report", project_id=42),
        "GET", IF, query=[("project_id", "42")],
        check=lambda r: isinstance(r, m.IntakeForm) and r.fields is not None
        and r.fields[0].required is True,
    ),
    case(
        "intake_forms", "list_submissions",
        lambda c: c.intake_forms.list_submissions(
            "bug report", project_id=42, status="pending", limit=2, since="2026-01-01T00:00:00Z"
        ),
        "GET", IF + "/submissions",
        query=[("project_id", "42"), ("status", "pending"), ("limit", "2"),
               ("since", "2026-01-01T00:00:00Z")],
        check=lambda r: isinstance(r, m.IntakeSubmissionListResponse) and r.data[0].id == 11,
    ),
    case(
        "intake_forms", "create_submission",
        lambda c: c.intake_forms.create_submission(
            "bug report", project_id=42, data={"summary": "Crash"}, metadata={"src": "api"}
        ),
        "POST", IF + "/submissions",
        body={"project_id": 42, "data": {"summary": "Crash"}, "metadata": {"src": "api"}},
        check=lambda r: isinstance(r, m.IntakeSubmission) and r.status == "pending",
    ),
    case(
        "intake_forms", "get_submission",
        lambda c: c.intake_forms.get_submission("bug report", 11, project_id=42),
        "GET", IF + "/submissions/11", query=[("project_id", "42")],
        check=lambda r: isinstance(r, m.IntakeSubmission),
    ),
    case(
        "intake_forms", "approve_submission",
        lambda c: c.intake_forms.approve_submission("bug report", 11, project_id=42, notes="ok"),
        "POST", IF + "/submissions/11/approve", body={"project_id": 42, "notes": "ok"},
        check=lambda r: isinstance(r, m.IntakeSubmission),
    ),
    case(
        "intake_forms", "reject_submission",
        lambda c: c.intake_forms.reject_submission("bug report", 11, project_id=42),
        "POST", IF + "/submissions/11/reject", body={"project_id": 42},
        check=lambda r: isinstance(r, m.IntakeSubmission),
    ),
    case(
        "intake_forms", "stats", lambda c: c.intake_forms.stats("bug report", project_id=42,
                                                                 period="week"),
        "GET", IF + "/stats", query=[("project_id", "42"), ("period", "week")],
        check=lambda r: isinstance(r, m.IntakeFormStats) and r.total_submissions == 4,
    ),
    case(
        "webhooks", "get_url", lambda c: c.webhooks.get_url(action_name="inbound_email"),
        "GET", "/api/v1/ext/webhook_url", query=[("action_name", "inbound_email")],
        check=lambda r: isinstance(r, m.WebhookUrl) and r.webhook_token == "tok_1",
    ),
    case(
        "webhooks", "rotate_url", lambda c: c.webhooks.rotate_url(action_name="inbound_email"),
        "POST", "/api/v1/ext/webhook_url/rotate", query=[("action_name", "inbound_email")],
        check=lambda r: isinstance(r, m.WebhookUrl) and r.webhook_token == "tok_2",
    ),
    case(
        "inbound_emails", "create",
        lambda c: c.inbound_emails.create(inbound_email=m.InboundEmail(**EMAIL)),
        "POST", "/api/v1/ext/inbound_emails", body={"inbound_email": EMAIL},
        check=lambda r: isinstance(r, m.InboundEmailResponse) and r.id == 77,
    ),
    case(
        "telemetry", "send",
        lambda c: c.telemetry.send(
            event="issue.created", version="v1", status="ok", duration_ms=12.5,
            timestamp="2026-03-01T00:00:00Z", extension_id="com.example.crm",
        ),
        "POST", "/api/v1/ext/telemetry",
        body={"event": "issue.created", "version": "v1", "status": "ok", "duration_ms": 12.5,
              "timestamp": "2026-03-01T00:00:00Z", "extension_id": "com.example.crm"},
        check=lambda r: isinstance(r, m.Acknowledgement) and r.ok is None,
    ),
    case(
        "secrets", "list", lambda c: c.secrets.list("com.example.crm"),
        "GET", EXT + "/secrets",
        check=lambda r: isinstance(r, m.SecretListResponse) and r.keys == ["API_KEY", "api/key"],
    ),
    case(
        "secrets", "get", lambda c: c.secrets.get("com.example.crm", "api/key"),
        "GET", EXT + "/secrets/api%2Fkey",
        check=lambda r: isinstance(r, m.SecretValueResponse) and r.value == "s3cret",
    ),
    case(
        "secrets", "set", lambda c: c.secrets.set("com.example.crm", "API_KEY", value="v"),
        "POST", EXT + "/secrets/API_KEY", body={"value": "v"},
        check=lambda r: isinstance(r, m.Acknowledgement),
    ),
    case(
        "secrets", "delete", lambda c: c.secrets.delete("com.example.crm", "API_KEY"),
        "DELETE", EXT + "/secrets/API_KEY",
        check=lambda r: isinstance(r, m.Acknowledgement),
    ),
    case(
        "audit", "list_anchors",
        lambda c: c.audit.list_anchors(page=2, per_page=10, status="confirmed",
                                       from_="2026-01-01", to="2026-02-01"),
        "GET", "/api/v1/audit/anchors",
        query=[("page", "2"), ("per_page", "10"), ("status", "confirmed"),
               ("from", "2026-01-01"), ("to", "2026-02-01")],
        check=lambda r: isinstance(r, m.AuditAnchorListResponse) and r.anchors[0].leaf_count == 4
        and r.pagination is not None and r.pagination.page == 2,
    ),
    case(
        "audit", "get_anchor", lambda c: c.audit.get_anchor(ROOT, include_records=True),
        "GET", "/api/v1/audit/anchors/" + ROOT, query=[("include_records", "true")],
        check=lambda r: isinstance(r, m.AuditAnchor) and r.merkle_root == ROOT,
    ),
    case(
        "audit", "get_proof", lambda c: c.audit.get_proof(981, record_type="AIAuditLog"),
        "GET", "/api/v1/audit/records/981/proof", query=[("record_type", "AIAuditLog")],
        check=lambda r: isinstance(r, m.AuditProof) and r.proof == PROOF["proof"],
    ),
    case(
        "audit", "verify",
        lambda c: c.audit.verify(content_hash="0x01", merkle_root=ROOT, proof=["0x02"],
                                 leaf_index=0),
        "POST", "/api/v1/audit/verify",
        body={"content_hash": "0x01", "merkle_root": ROOT, "proof": ["0x02"], "leaf_index": 0},
        check=lambda r: isinstance(r, m.AuditVerifyResponse) and r.proof_valid is True,
    ),
    case(
        "jwks", "get", lambda c: c.jwks.get(), "GET", "/.well-known/jwks.json",
        check=lambda r: isinstance(r, m.Jwks) and r.keys[0].kid == "k1",
    ),
]  # fmt: skip


@pytest.mark.parametrize("op", OPERATION_CASES)
async def test_generated_operation(harness: Harness, op: OperationCase) -> None:
    result = await run(op.call(harness.delivery()))
    seen = PLATFORM.only()
    assert (seen.method, seen.raw_path) == (op.method, op.raw_path)
    assert seen.query == op.query
    assert seen.json == op.body
    assert_standard_headers(seen)
    assert op.check(result), result


@pytest.mark.parametrize("op", OPERATION_CASES)
async def test_raw_response_of_every_operation(harness: Harness, op: OperationCase) -> None:
    response = await run(op.call(harness.delivery().with_raw_response))
    assert isinstance(response, httpx.Response)
    assert response.is_success
    seen = PLATFORM.only()
    assert (seen.method, seen.raw_path, seen.query) == (op.method, op.raw_path, op.query)
    assert_standard_headers(seen)


# --- construction, environment, context managers ------------------------------------------------


async def test_environment_fallbacks(
    harness: Harness, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIKET_BASE_URL", server_url + "/")
    monkeypatch.setenv("KIKET_WORKSPACE_TOKEN", TOKEN)
    client = KiketClient() if harness.kind == "sync" else AsyncKiketClient()
    harness.made.append(client)
    assert (client.base_url, client.workspace_token) == (server_url, TOKEN)
    await run(client.extension.rate_limit())
    assert_standard_headers(PLATFORM.only(), delivery=False)


async def test_arguments_win_over_environment(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIKET_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("KIKET_WORKSPACE_TOKEN", "wk_from_env")
    client = harness.make()
    assert (client.base_url, client.workspace_token) == (harness.base_url, TOKEN)


async def test_default_base_url_without_environment(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIKET_BASE_URL", raising=False)
    client = harness.make(base_url=None)
    assert client.base_url == "https://kiket.dev"


def test_sync_context_manager_closes_its_pool(server_url: str) -> None:
    with KiketClient(base_url=server_url, workspace_token=TOKEN) as client:
        assert client.extension.rate_limit().rate_limit.remaining == 598
        delivery = client.for_delivery(RUNTIME_TOKEN, VERSION)
        with delivery:
            delivery.jwks.get()
        assert not client._client.is_closed  # a copy never closes the shared pool
    assert client._client.is_closed


async def test_async_context_manager_closes_its_pool(server_url: str) -> None:
    async with AsyncKiketClient(base_url=server_url, workspace_token=TOKEN) as client:
        assert (await client.extension.rate_limit()).rate_limit.remaining == 598
        async with client.for_delivery(RUNTIME_TOKEN, VERSION) as delivery:
            await delivery.jwks.get()
        assert not client._client.is_closed
        pool = client._client
    assert pool.is_closed
    with pytest.raises(ClientClosedError):
        await client.extension.rate_limit()


# --- per-delivery copies ------------------------------------------------------------------------


async def test_for_delivery_adds_headers_and_leaves_the_parent_alone(harness: Harness) -> None:
    parent = harness.make()
    delivery = parent.for_delivery(RUNTIME_TOKEN, VERSION)
    assert type(delivery) is type(parent)
    await run(delivery.extension.rate_limit())
    assert_standard_headers(PLATFORM.only(), delivery=True)
    PLATFORM.clear()
    await run(parent.extension.rate_limit())
    assert_standard_headers(PLATFORM.only(), delivery=False)


@pytest.mark.parametrize(
    ("runtime_token", "version", "expected"),
    [
        (None, VERSION, {"x-kiket-event-version": VERSION}),
        (RUNTIME_TOKEN, None, {"x-kiket-runtime-token": RUNTIME_TOKEN}),
        (None, None, {}),
        ("", "", {}),
    ],
)
async def test_for_delivery_omits_headers_given_none(
    harness: Harness, runtime_token: str | None, version: str | None, expected: dict[str, str]
) -> None:
    # Made from a previous delivery's copy: its token and version must not leak into this one.
    previous = harness.make().for_delivery("rt_previous", "v9")
    await run(previous.for_delivery(runtime_token, version).extension.rate_limit())
    headers = PLATFORM.only().headers
    sent = {k: v for k, v in headers.items() if k.startswith("x-kiket-")}
    assert sent == expected
    assert headers["authorization"] == f"Bearer {TOKEN}"


async def test_for_delivery_can_replace_the_base_url(harness: Harness, server_url: str) -> None:
    parent = harness.make(base_url="http://127.0.0.1:9")
    delivery = parent.for_delivery(RUNTIME_TOKEN, VERSION, base_url=server_url + "/")
    assert (delivery.base_url, parent.base_url) == (server_url, "http://127.0.0.1:9")
    await run(delivery.jwks.get())
    assert PLATFORM.only().raw_path == "/.well-known/jwks.json"


async def test_fifty_delivery_copies_share_one_pool(harness: Harness) -> None:
    parent = harness.make()
    copies = [parent.for_delivery(f"rt_{n}", "v1") for n in range(50)]
    assert all(copy._client is parent._client for copy in copies)
    assert len({id(copy) for copy in copies}) == 50
    await run(copies[-1].extension.rate_limit())
    assert PLATFORM.only().headers["x-kiket-runtime-token"] == "rt_49"
    for copy in copies:
        await run(copy.close())
    assert not parent._client.is_closed


async def test_with_options_headers_reach_generated_operations(harness: Harness) -> None:
    client = harness.make().with_options(
        default_headers={"X-Kiket-Runtime-Token": "rt_opt", "X-Kiket-Event-Version": "v7"}
    )
    await run(client.webhooks.get_url(action_name="x"))
    headers = PLATFORM.only().headers
    assert (headers["x-kiket-runtime-token"], headers["x-kiket-event-version"]) == ("rt_opt", "v7")


# --- untyped calls ------------------------------------------------------------------------------


async def test_plain_get_with_a_query_in_the_path(harness: Harness) -> None:
    answer = await run(harness.delivery().get("/api/v1/ext/webhook_url?action_name=x"))
    assert answer == WEBHOOK
    seen = PLATFORM.only()
    assert (seen.method, seen.raw_path, seen.query) == (
        "GET",
        "/api/v1/ext/webhook_url",
        [("action_name", "x")],
    )
    assert_standard_headers(seen)

"""``ctx.endpoints`` helpers (``Endpoints`` / ``AsyncEndpoints``) against the fake platform.

The fake platform and the sync/async harness come from ``test_clients.py``. Each helper is
called through a ``for_delivery`` client, so every request must also carry the runtime token
and event version. ``ENDPOINT_CASES`` holds one call of every helper; a guard test keeps it
complete, another keeps the sync and async classes alike.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kiket_sdk._audit import (
    AsyncAuditClient,
    AuditClient,
    compute_content_hash,
    verify_proof_locally,
)
from kiket_sdk._endpoints import AsyncEndpoints, Endpoints
from kiket_sdk._exceptions import ConfigurationError, KiketSDKError
from kiket_sdk._generated import models as m
from kiket_sdk._generated.resources import (
    AsyncCustomDataScope,
    AsyncSlaEventsScope,
    CustomDataScope,
    SlaEventsScope,
)
from kiket_sdk._intake_forms import AsyncIntakeFormsClient, IntakeFormsClient
from kiket_sdk._secrets import AsyncSecretManager, SecretManager
from kiket_sdk.testing import serve_app

from .test_clients import (
    APP,
    FORM,
    PLATFORM,
    PRIVATE_FORM,
    PROOF,
    ROOT,
    VERSION,
    Harness,
    assert_standard_headers,
    run,
)

EXTENSION_ID = "com.example.crm"
EXT = "/api/v1/extensions/com.example.crm"
CD = "/api/v1/ext/custom_data/com.example%2Fcrm/lead%20contacts"
IF = "/api/v1/ext/intake_forms/bug%20report"
MISSING_ID = "Set extension_id= on KiketSDK or in extension.yaml"


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


def make_endpoints(
    harness: Harness,
    *,
    extension_id: str | None = EXTENSION_ID,
    event_version: str | None = VERSION,
) -> Any:
    cls = Endpoints if harness.kind == "sync" else AsyncEndpoints
    return cls(harness.delivery(), extension_id=extension_id, event_version=event_version)


@pytest.fixture
def endpoints(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Any:
    for key in ("API_KEY", "API_KEY_2", "MISSING"):
        monkeypatch.delenv(f"KIKET_SECRET_{key}", raising=False)
    return make_endpoints(harness)


# --- one call of every helper -------------------------------------------------------------------


def log_event_body(body: Any) -> bool:
    sent = datetime.fromisoformat(body.pop("timestamp"))
    fresh = abs(datetime.now(UTC) - sent) < timedelta(minutes=1)
    expected = {"event": "issue.synced", "version": VERSION,
                "data": {"summary": "Crash", "event": "inner"}}  # fmt: skip
    return fresh and sent.utcoffset() == timedelta(0) and body == expected


@dataclass(frozen=True)
class EndpointCase:
    helper: str
    call: Callable[[Any], Any]
    method: str
    raw_path: str
    query: list[tuple[str, str]]
    body: Any  # the JSON body, or a predicate over it
    check: Callable[[Any], bool]


def case(
    helper: str,
    call: Callable[[Any], Any],
    method: str,
    raw_path: str,
    *,
    query: list[tuple[str, str]] | None = None,
    body: Any = None,
    check: Callable[[Any], bool],
) -> Any:
    return pytest.param(
        EndpointCase(helper, call, method, raw_path, query or [], body, check), id=helper
    )


def submission(r: Any) -> bool:
    return isinstance(r, m.IntakeSubmission) and r.id == 11


ENDPOINT_CASES = [
    case("log_event", lambda e: e.log_event("issue.synced", summary="Crash", event="inner"),
         "POST", EXT + "/events", body=log_event_body, check=lambda r: r is None),
    case("notify", lambda e: e.notify("Heads up", "3 leads synced"),
         "POST", "/api/v1/extensions/notifications",
         body={"title": "Heads up", "body": "3 leads synced", "level": "info"},
         check=lambda r: r is None),
    case("emit_metric", lambda e: e.emit_metric("leads.synced", 3),
         "POST", "/api/v1/extensions/metrics",
         body={"name": "leads.synced", "value": 3, "unit": "count"}, check=lambda r: r is None),
    case("metadata", lambda e: e.metadata(), "GET", EXT,
         check=lambda r: isinstance(r, m.ExtensionMetadata) and r.id == EXTENSION_ID),
    case("rate_limit", lambda e: e.rate_limit(), "GET", "/api/v1/ext/rate_limit",
         check=lambda r: isinstance(r, m.RateLimit)
         and (r.limit, r.remaining, r.window_seconds, r.reset_in) == (600, 598, 60, 42)),
    case("webhook_url", lambda e: e.webhook_url("inbound_email"),
         "GET", "/api/v1/ext/webhook_url", query=[("action_name", "inbound_email")],
         check=lambda r: isinstance(r, m.WebhookUrl) and r.webhook_token == "tok_1"),
    case("rotate_webhook_url", lambda e: e.rotate_webhook_url("inbound_email"),
         "POST", "/api/v1/ext/webhook_url/rotate", query=[("action_name", "inbound_email")],
         check=lambda r: isinstance(r, m.WebhookUrl) and r.webhook_token == "tok_2"),
    case("update_configuration", lambda e: e.update_configuration({"channel": "#ops"}),
         "PATCH", "/api/v1/ext/configuration", body={"configuration": {"channel": "#ops"}},
         check=lambda r: r is None),
    case("create_inbound_email",
         lambda e: e.create_inbound_email(
             {"from_email": "a@example.com", "to_email": "x@kiket.dev"},
             to_email="in@kiket.dev", references=["<m1>"],
         ),
         "POST", "/api/v1/ext/inbound_emails",
         body={"inbound_email": {"from_email": "a@example.com", "to_email": "in@kiket.dev",
                                 "references": ["<m1>"]}},
         check=lambda r: isinstance(r, m.InboundEmailResponse) and r.status == "queued"),
    # custom data
    case("custom_data.list",
         lambda e: e.custom_data(42).list("com.example/crm", "lead contacts",
                                          filters={"status": "new", "tier": 2}),
         "GET", CD,
         query=[("project_id", "42"), ("filters", '{"status":"new","tier":2}')],
         check=lambda r: isinstance(r, m.CustomDataListResponse) and r.data[0].id == 7),
    case("custom_data.get",
         lambda e: e.custom_data("42").get("com.example/crm", "lead contacts", 7),
         "GET", CD + "/7", query=[("project_id", "42")],
         check=lambda r: isinstance(r, m.CustomDataRecordResponse) and r.data.id == 7),
    case("custom_data.create",
         lambda e: e.custom_data(42).create("com.example/crm", "lead contacts", {"email": "x@y.z"}),
         "POST", CD, query=[("project_id", "42")], body={"record": {"email": "x@y.z"}},
         check=lambda r: isinstance(r, m.CustomDataRecordResponse)),
    case("custom_data.update",
         lambda e: e.custom_data(42).update("com.example/crm", "lead contacts", "r/1", {"a": 1}),
         "PATCH", CD + "/r%2F1", query=[("project_id", "42")], body={"record": {"a": 1}},
         check=lambda r: isinstance(r, m.CustomDataRecordResponse)),
    case("custom_data.delete",
         lambda e: e.custom_data(42).delete("com.example/crm", "lead contacts", 7),
         "DELETE", CD + "/7", query=[("project_id", "42")], check=lambda r: r is None),
    # SLA events
    case("sla_events.list",
         lambda e: e.sla_events(42).list(state="imminent", limit=5, issue_id=9),
         "GET", "/api/v1/ext/sla/events",
         query=[("project_id", "42"), ("issue_id", "9"), ("state", "imminent"), ("limit", "5")],
         check=lambda r: isinstance(r, m.SlaEventListResponse) and r.data[0].issue_id == "ISS-42"),
    # intake forms
    case("intake_forms.list", lambda e: e.intake_forms(42).list(active=True),
         "GET", "/api/v1/ext/intake_forms", query=[("project_id", "42"), ("active", "true")],
         check=lambda r: isinstance(r, m.IntakeFormListResponse) and r.data[0].id == 3),
    case("intake_forms.get", lambda e: e.intake_forms(42).get("bug report"),
         "GET", IF, query=[("project_id", "42")],
         check=lambda r: isinstance(r, m.IntakeForm) and r.name == "Bug report"),
    case("intake_forms.list_submissions",
         lambda e: e.intake_forms(42).list_submissions(
             "bug report", status="pending", since=datetime(2026, 1, 2, tzinfo=UTC)),
         "GET", IF + "/submissions",
         query=[("project_id", "42"), ("status", "pending"),
                ("since", "2026-01-02T00:00:00+00:00")],
         check=lambda r: isinstance(r, m.IntakeSubmissionListResponse) and submission(r.data[0])),
    case("intake_forms.get_submission",
         lambda e: e.intake_forms(42).get_submission("bug report", 11),
         "GET", IF + "/submissions/11", query=[("project_id", "42")], check=submission),
    case("intake_forms.create_submission",
         lambda e: e.intake_forms(42).create_submission("bug report", {"summary": "Crash"}),
         "POST", IF + "/submissions", body={"project_id": 42, "data": {"summary": "Crash"}},
         check=submission),
    case("intake_forms.approve_submission",
         lambda e: e.intake_forms(42).approve_submission("bug report", 11, notes="fine"),
         "POST", IF + "/submissions/11/approve", body={"project_id": 42, "notes": "fine"},
         check=submission),
    case("intake_forms.reject_submission",
         lambda e: e.intake_forms(42).reject_submission("bug report", 11),
         "POST", IF + "/submissions/11/reject", body={"project_id": 42}, check=submission),
    case("intake_forms.stats", lambda e: e.intake_forms(42).stats("bug report", period="month"),
         "GET", IF + "/stats", query=[("project_id", "42"), ("period", "month")],
         check=lambda r: isinstance(r, m.IntakeFormStats) and r.approved == 2),
    case("intake_forms.public_url", lambda e: e.intake_forms(42).public_url("bug report"),
         "GET", IF, query=[("project_id", "42")],
         check=lambda r: r == "https://kiket.dev/forms/bug-report"),
    # secrets
    case("secrets.list", lambda e: e.secrets.list(), "GET", EXT + "/secrets",
         check=lambda r: r == ["API_KEY", "api/key"]),
    case("secrets.get", lambda e: e.secrets.get("API_KEY"), "GET", EXT + "/secrets/API_KEY",
         check=lambda r: r == "s3cret"),
    case("secrets.set", lambda e: e.secrets.set("api/key", "v1"),
         "POST", EXT + "/secrets/api%2Fkey", body={"value": "v1"}, check=lambda r: r is None),
    case("secrets.rotate", lambda e: e.secrets.rotate("API_KEY", "v2"),
         "POST", EXT + "/secrets/API_KEY", body={"value": "v2"}, check=lambda r: r is None),
    case("secrets.delete", lambda e: e.secrets.delete("API_KEY"),
         "DELETE", EXT + "/secrets/API_KEY", check=lambda r: r is None),
    # audit
    case("audit.list_anchors",
         lambda e: e.audit.list_anchors(status="confirmed", from_=datetime(2026, 1, 1, tzinfo=UTC),
                                        to="2026-02-01"),
         "GET", "/api/v1/audit/anchors",
         query=[("status", "confirmed"), ("from", "2026-01-01T00:00:00+00:00"),
                ("to", "2026-02-01")],
         check=lambda r: isinstance(r, m.AuditAnchorListResponse) and r.anchors[0].id == 5),
    case("audit.get_anchor", lambda e: e.audit.get_anchor(ROOT),
         "GET", "/api/v1/audit/anchors/" + ROOT,
         check=lambda r: isinstance(r, m.AuditAnchor) and r.network == "polygon_amoy"),
    case("audit.get_proof", lambda e: e.audit.get_proof(981),
         "GET", "/api/v1/audit/records/981/proof",
         check=lambda r: isinstance(r, m.AuditProof) and r.leaf_index == 2),
    case("audit.verify", lambda e: e.audit.verify(PROOF),
         "POST", "/api/v1/audit/verify",
         body={key: PROOF[key] for key in
               ("content_hash", "merkle_root", "proof", "leaf_index", "tx_hash")},
         check=lambda r: isinstance(r, m.AuditVerifyResponse) and r.verified is True),
]  # fmt: skip

# Local helpers, tested below without the network.
OFFLINE = {"audit.compute_content_hash", "audit.verify_proof_locally"}
SUB_CLIENTS: dict[str, type] = {
    "custom_data": CustomDataScope,
    "sla_events": SlaEventsScope,
    "intake_forms": IntakeFormsClient,
    "secrets": SecretManager,
    "audit": AuditClient,
}
TWINS = [
    (Endpoints, AsyncEndpoints),
    (CustomDataScope, AsyncCustomDataScope),
    (SlaEventsScope, AsyncSlaEventsScope),
    (IntakeFormsClient, AsyncIntakeFormsClient),
    (SecretManager, AsyncSecretManager),
    (AuditClient, AsyncAuditClient),
]


def public_methods(cls: type) -> dict[str, Any]:
    """Public functions and static methods of ``cls``, inherited ones (generated bases) too."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__[:-1]):  # object last: skipped
        found |= {
            name: value
            for name, value in vars(klass).items()
            if not name.startswith("_")
            and (inspect.isfunction(value) or isinstance(value, staticmethod))
        }
    return found


def test_every_helper_has_a_case() -> None:
    helpers = {name for name in public_methods(Endpoints) if name not in SUB_CLIENTS}
    for prefix, cls in SUB_CLIENTS.items():
        helpers |= {f"{prefix}.{name}" for name in public_methods(cls)}
    covered = {p.values[0].helper for p in ENDPOINT_CASES}
    assert covered == helpers - OFFLINE


@pytest.mark.parametrize(("sync_class", "async_class"), TWINS)
def test_sync_and_async_twins_match(sync_class: type, async_class: type) -> None:
    sync_methods, async_methods = public_methods(sync_class), public_methods(async_class)
    assert sync_methods.keys() == async_methods.keys()
    for name, sync_fn in sync_methods.items():
        async_fn = async_methods[name]
        assert inspect.signature(sync_fn).parameters.keys() == (
            inspect.signature(async_fn).parameters.keys()
        ), name
        factory = name in SUB_CLIENTS or isinstance(sync_fn, staticmethod)
        assert inspect.iscoroutinefunction(async_fn) is not factory, name
        assert not inspect.iscoroutinefunction(sync_fn), name


@pytest.mark.parametrize("helper", ENDPOINT_CASES)
async def test_helper(endpoints: Any, helper: EndpointCase) -> None:
    result = await run(helper.call(endpoints))
    seen = PLATFORM.only()
    assert (seen.method, seen.raw_path) == (helper.method, helper.raw_path)
    assert seen.query == helper.query
    if callable(helper.body):
        assert helper.body(seen.json), seen.json
    else:
        assert seen.json == helper.body
    assert_standard_headers(seen)
    assert helper.check(result), result


# --- secrets ------------------------------------------------------------------------------------


async def test_secret_from_env_wins_and_sends_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIKET_SECRET_EXAMPLE_APIKEY", "from-env")
    endpoints = make_endpoints(harness, extension_id=None)  # no id needed for an env hit
    assert await run(endpoints.secrets.get("example.apiKey")) == "from-env"
    assert PLATFORM.requests == []


async def test_blank_secret_env_var_falls_through_to_the_api(
    endpoints: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIKET_SECRET_API_KEY", "")
    assert await run(endpoints.secrets.get("API_KEY")) == "s3cret"
    assert PLATFORM.only().raw_path == EXT + "/secrets/API_KEY"


async def test_unknown_secret_is_none(endpoints: Any) -> None:
    assert await run(endpoints.secrets.get("MISSING")) is None
    assert PLATFORM.only().raw_path == EXT + "/secrets/MISSING"


@pytest.mark.parametrize("value", ["", "   ", None])
async def test_blank_secret_value_is_refused_before_any_request(endpoints: Any, value: Any) -> None:
    with pytest.raises(KiketSDKError, match="blank"):
        await run(endpoints.secrets.set("API_KEY", value))
    with pytest.raises(KiketSDKError, match="blank"):
        await run(endpoints.secrets.rotate("API_KEY", value))
    assert PLATFORM.requests == []


@pytest.mark.parametrize("call", ["get", "delete"])
async def test_blank_secret_key_is_refused_before_any_request(endpoints: Any, call: str) -> None:
    with pytest.raises(KiketSDKError, match="secret key"):
        await run(getattr(endpoints.secrets, call)(" "))
    assert PLATFORM.requests == []


# --- refused before any request -----------------------------------------------------------------

NEEDS_EXTENSION_ID: list[tuple[str, Callable[[Any], Any]]] = [
    ("log_event", lambda e: e.log_event("x")),
    ("metadata", lambda e: e.metadata()),
    ("secrets.list", lambda e: e.secrets.list()),
    ("secrets.get", lambda e: e.secrets.get("API_KEY")),
    ("secrets.set", lambda e: e.secrets.set("API_KEY", "v")),
    ("secrets.rotate", lambda e: e.secrets.rotate("API_KEY", "v")),
    ("secrets.delete", lambda e: e.secrets.delete("API_KEY")),
]


@pytest.mark.parametrize(
    ("name", "call"), NEEDS_EXTENSION_ID, ids=[n for n, _ in NEEDS_EXTENSION_ID]
)
@pytest.mark.parametrize("extension_id", [None, ""])
async def test_missing_extension_id_is_a_configuration_error(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    call: Callable[[Any], Any],
    extension_id: str | None,
) -> None:
    monkeypatch.delenv("KIKET_SECRET_API_KEY", raising=False)
    endpoints = make_endpoints(harness, extension_id=extension_id)
    with pytest.raises(ConfigurationError, match=MISSING_ID) as info:
        await run(call(endpoints))
    assert str(info.value).startswith(name)
    assert PLATFORM.requests == []


async def test_log_event_without_a_version_is_a_configuration_error(harness: Harness) -> None:
    endpoints = make_endpoints(harness, event_version=None)
    with pytest.raises(ConfigurationError, match="event_version="):
        await run(endpoints.log_event("issue.synced"))
    assert PLATFORM.requests == []


@pytest.mark.parametrize("factory", ["custom_data", "sla_events", "intake_forms"])
@pytest.mark.parametrize("project_id", [None, "", " "])
def test_project_helpers_need_a_project_id(
    harness: Harness, factory: str, project_id: str | None
) -> None:
    endpoints = make_endpoints(harness)
    with pytest.raises(ConfigurationError, match=rf"{factory}\(project_id\) needs a project id"):
        getattr(endpoints, factory)(project_id)


async def test_invalid_inbound_email_is_refused(endpoints: Any) -> None:
    with pytest.raises(KiketSDKError, match="to_email: Field required"):
        await run(endpoints.create_inbound_email(from_email="a@example.com"))
    assert PLATFORM.requests == []


async def test_inbound_email_model_with_overrides(endpoints: Any) -> None:
    email = m.InboundEmail(from_email="a@example.com", to_email="in@kiket.dev", subject="Hi")
    await run(endpoints.create_inbound_email(email, subject="Re: Hi"))
    assert PLATFORM.only().json == {
        "inbound_email": {"from_email": "a@example.com", "to_email": "in@kiket.dev",
                          "subject": "Re: Hi"}
    }  # fmt: skip


async def test_audit_verify_needs_a_complete_proof(endpoints: Any) -> None:
    with pytest.raises(KiketSDKError, match="no merkle_root, leaf_index"):
        await run(endpoints.audit.verify(m.AuditProof(content_hash="0x01", proof=[])))
    assert PLATFORM.requests == []


async def test_audit_verify_accepts_a_fetched_proof(endpoints: Any) -> None:
    proof = await run(endpoints.audit.get_proof(981))
    PLATFORM.clear()
    await run(endpoints.audit.verify(proof))
    assert PLATFORM.only().json == {
        key: PROOF[key] for key in ("content_hash", "merkle_root", "proof", "leaf_index", "tx_hash")
    }


# --- intake form URLs ---------------------------------------------------------------------------


async def test_public_url_of_a_form_sends_nothing(endpoints: Any) -> None:
    forms = endpoints.intake_forms(42)
    assert await run(forms.public_url(m.IntakeForm(**FORM))) == FORM["form_url"]
    assert await run(forms.public_url(m.IntakeForm(**PRIVATE_FORM))) is None
    assert await run(forms.public_url(m.IntakeForm(id=1, key="k", name="n"))) is None
    assert PLATFORM.requests == []


async def test_public_url_of_a_private_form_key(endpoints: Any) -> None:
    assert await run(endpoints.intake_forms(42).public_url("internal")) is None
    assert PLATFORM.only().raw_path == "/api/v1/ext/intake_forms/internal"


# --- context-level behaviour --------------------------------------------------------------------


def test_secrets_and_audit_are_built_once(harness: Harness) -> None:
    endpoints = make_endpoints(harness)
    assert endpoints.secrets is endpoints.secrets
    assert endpoints.audit is endpoints.audit
    assert endpoints.audit.compute_content_hash is compute_content_hash
    assert endpoints.audit.verify_proof_locally is verify_proof_locally
    assert (endpoints.extension_id, endpoints.event_version) == (EXTENSION_ID, VERSION)


# --- local audit helpers: a hand-built 4-leaf Merkle tree ---------------------------------------

RECORDS = [{"id": n, "actor": "ana", "action": "issue.updated", "changes": {"b": 2, "a": 1}}
           for n in range(1, 5)]  # fmt: skip


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def pair(x: bytes, y: bytes) -> bytes:
    return sha(min(x, y) + max(x, y))


@pytest.fixture(scope="module")
def tree() -> dict[str, Any]:
    leaves = [bytes.fromhex(compute_content_hash(r)[2:]) for r in RECORDS]
    n01, n23 = pair(leaves[0], leaves[1]), pair(leaves[2], leaves[3])
    root = pair(n01, n23)
    proofs = [[leaves[1], n23], [leaves[0], n23], [leaves[3], n01], [leaves[2], n01]]
    return {
        "leaves": ["0x" + leaf.hex() for leaf in leaves],
        "proofs": [["0x" + node.hex() for node in proof] for proof in proofs],
        "root": "0x" + root.hex(),
    }


def test_content_hash_is_sha256_of_sorted_compact_json() -> None:
    canonical = b'{"action":"issue.updated","actor":"ana","changes":{"a":1,"b":2},"id":1}'
    assert compute_content_hash(RECORDS[0]) == "0x" + hashlib.sha256(canonical).hexdigest()
    reordered = {"changes": {"a": 1, "b": 2}, "id": 1, "action": "issue.updated", "actor": "ana"}
    assert compute_content_hash(reordered) == compute_content_hash(RECORDS[0])
    assert compute_content_hash({"name": "Zoë"}) == (
        "0x" + hashlib.sha256(b'{"name":"Zo\\u00eb"}').hexdigest()
    )
    with pytest.raises(ValueError, match="JSON compliant"):
        compute_content_hash({"x": float("nan")})


def test_every_leaf_of_the_tree_verifies(tree: dict[str, Any]) -> None:
    for index, (leaf, proof) in enumerate(zip(tree["leaves"], tree["proofs"], strict=True)):
        assert verify_proof_locally(leaf, proof, tree["root"], index)
        assert verify_proof_locally(leaf, proof, tree["root"])  # the index is optional
        # hex spelling does not matter
        upper = [node[2:].upper() for node in proof]
        assert verify_proof_locally(leaf.upper().replace("0X", "0x"), upper, tree["root"][2:])


def test_tampering_breaks_the_proof(tree: dict[str, Any]) -> None:
    leaves, proofs, root = tree["leaves"], tree["proofs"], tree["root"]
    other = compute_content_hash({**RECORDS[2], "actor": "mallory"})
    assert not verify_proof_locally(other, proofs[2], root, 2)
    assert not verify_proof_locally(leaves[0], proofs[2], root, 0)
    assert not verify_proof_locally(leaves[2], proofs[2][::-1], root, 2)
    assert not verify_proof_locally(leaves[2], proofs[2][:1], root, 2)
    assert not verify_proof_locally(leaves[2], proofs[2], leaves[3], 2)
    assert not verify_proof_locally(leaves[2], [*proofs[2], leaves[0]], root, 2)


def test_malformed_input_answers_false(tree: dict[str, Any]) -> None:
    leaf, proof, root = tree["leaves"][1], tree["proofs"][1], tree["root"]
    assert not verify_proof_locally("0xnot-hex", proof, root, 1)
    assert not verify_proof_locally(leaf, [proof[0], "0x123"], root, 1)
    assert not verify_proof_locally(leaf, proof, "", 1)
    assert not verify_proof_locally(leaf, proof, root, -1)


def test_single_leaf_tree_and_odd_promotion(tree: dict[str, Any]) -> None:
    leaves = tree["leaves"]
    assert verify_proof_locally(leaves[0], [], leaves[0], 0)
    # Three leaves: the third has no sibling and moves up unchanged, so its proof is one node.
    n01 = pair(bytes.fromhex(leaves[0][2:]), bytes.fromhex(leaves[1][2:]))
    root = "0x" + pair(n01, bytes.fromhex(leaves[2][2:])).hex()
    assert verify_proof_locally(leaves[2], ["0x" + n01.hex()], root, 2)

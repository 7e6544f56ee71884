"""FakeKiket against the OpenAPI description: every operation, every way in, and the errors."""

from __future__ import annotations

import asyncio
import doctest
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from kiket_sdk._generated.operations import GeneratedAsyncClient, GeneratedSyncClient
from kiket_sdk.testing import FakeKiket, RecordedCall, _fake_kiket, generate_signing_key
from kiket_sdk.testing._fake_problem import ProblemError
from kiket_sdk.testing._fake_rate_limit import RateLimiter

from ._operations import (
    EXTENSION,
    PROJECT,
    Req,
    answer_errors,
    seed,
    spec_operations,
    spec_request,
    valid_requests,
)

BASE = "http://kiket.test"
TABLE = "/api/v1/ext/custom_data/mailer/relays"
Send = Callable[[Req], Awaitable[httpx.Response]]


def _strict(**options: Any) -> FakeKiket:
    return FakeKiket(strict_responses=True, **options)


@asynccontextmanager
async def _client(fake: FakeKiket, way: str) -> AsyncIterator[Send]:
    """A sender of requests to ``fake``: over a real server, or in process (sync/async/ASGI)."""

    def sync_sender(http: httpx.Client) -> Send:
        async def send(req: Req) -> httpx.Response:
            return await asyncio.to_thread(
                http.request, req.method, req.path, params=req.params, json=req.json
            )

        return send

    if way == "server":
        with fake.serve(port=0) as url, httpx.Client(base_url=url) as http:
            assert fake.url == url
            yield sync_sender(http)
        assert fake.url is None
    elif way == "sync":
        with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
            yield sync_sender(http)
    else:
        transport: httpx.AsyncBaseTransport = (
            fake.transport() if way == "async" else httpx.ASGITransport(app=fake.app)
        )
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as ahttp:

            async def send(req: Req) -> httpx.Response:
                return await ahttp.request(req.method, req.path, params=req.params, json=req.json)

            yield send


def test_the_request_table_has_one_request_per_spec_operation() -> None:
    operations = spec_operations()
    assert operations  # read from the YAML: no inventory kept here
    requests = valid_requests(seed(FakeKiket()))
    assert sorted(req.operation_id for req in requests) == sorted(operations)
    assert set(_fake_kiket.ROUTES) <= set(operations), "a stateful route names no spec operation"


@pytest.mark.parametrize("operation_id", sorted(spec_operations()))
def test_every_operation_answers_from_the_spec_without_a_route(operation_id: str) -> None:
    fake = _strict()
    fake.routes.clear()  # no stateful route: the spec's example must do
    req = spec_request(operation_id)
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        answer = http.request(req.method, req.path, params=req.params, json=req.json)
    assert 200 <= answer.status_code < 300, answer.text
    content_type = answer.headers.get("content-type", "")
    assert answer_errors(operation_id, answer.status_code, content_type, answer.content) == []
    assert fake.calls[-1].operation_id == operation_id


def test_an_answer_set_by_the_test_wins_over_a_stateful_route() -> None:
    fake = _strict()
    fake.seed_secrets(EXTENSION, {"API_KEY": "stored"})
    path = f"/api/v1/extensions/{EXTENSION}/secrets/API_KEY"
    assert fake.handle("GET", path).json() == {"value": "stored"}
    fake.respond("get_secret", {"value": "canned"})
    assert fake.handle("GET", path).json() == {"value": "canned"}

    @fake.route("get_secret")
    def missing(state: Any, params: dict[str, Any], body: Any) -> tuple[int, Any]:
        raise ProblemError(404, f"no {params['key']} today")

    answer = fake.handle("GET", path)
    assert (answer.status, answer.json()["detail"]) == (404, "no API_KEY today")


def test_an_unknown_operation_id_cannot_be_overridden() -> None:
    with pytest.raises(ValueError, match="No operation 'get_secrets' in the spec; known: "):
        FakeKiket().respond("get_secrets", {})


def test_a_canned_answer_that_breaks_the_spec_fails_a_strict_fake() -> None:
    fake = _strict()
    fake.respond("get_rate_limit", {"rate_limit": {"limit": "many"}})
    with pytest.raises(AssertionError, match="does not match the spec"):
        fake.handle("GET", "/api/v1/ext/rate_limit")


@pytest.mark.parametrize("way", ["server", "sync", "async", "asgi"])
async def test_every_operation_answers_a_valid_request_per_spec(way: str) -> None:
    fake = _strict(workspace_token=None)
    requests = valid_requests(seed(fake))
    async with _client(fake, way) as send:
        for req in requests:
            answer = await send(req)
            assert 200 <= answer.status_code < 300, (req.operation_id, answer.text)
            content_type = answer.headers.get("content-type", "")
            errors = answer_errors(
                req.operation_id, answer.status_code, content_type, answer.content
            )
            assert errors == [], (req.operation_id, errors)
            assert int(answer.headers["x-ratelimit-remaining"]) >= 0
    assert [call.operation_id for call in fake.calls] == [req.operation_id for req in requests]
    assert all(200 <= call.status < 300 for call in fake.calls)


@pytest.mark.parametrize(
    ("path", "body", "missing"),
    [
        (TABLE, {"records": {}}, "'record' is a required property"),
        ("/api/v1/extensions/metrics", {"name": "m", "value": "many"}, "is not of type 'number'"),
        (f"/api/v1/extensions/{EXTENSION}/secrets/K", {}, "'value' is a required property"),
        ("/api/v1/audit/verify", {"content_hash": "0x"}, "'proof' is a required property"),
        ("/api/v1/ext/intake_forms/bug-report/submissions", {"project_id": 1}, "'data'"),
    ],
)
def test_an_invalid_body_is_a_422_problem(path: str, body: Any, missing: str) -> None:
    fake = _strict()
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        answer = http.post(path, params={"project_id": PROJECT}, json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["status"] == 422
    assert problem["title"] == "Unprocessable Entity"
    assert missing in problem["detail"]
    assert fake.calls[-1].status == 422


def test_a_body_that_is_not_json_is_refused() -> None:
    fake = _strict()
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        broken = http.post(
            "/api/v1/extensions/metrics", content=b"{", headers={"content-type": "application/json"}
        )
        form = http.post("/api/v1/extensions/metrics", data={"name": "m", "value": "1"})
        empty = http.post("/api/v1/extensions/metrics")
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["detail"]
    assert form.status_code == 415
    assert "application/json" in form.json()["detail"]
    assert empty.status_code == 422
    assert "needs a JSON body" in empty.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/nothing/here"),
        ("PUT", "/api/v1/ext/rate_limit"),
        ("GET", "/api/v1/ext/rate_limit/"),
    ],
)
def test_an_unknown_operation_is_a_404_problem(method: str, path: str) -> None:
    fake = _strict()
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        answer = http.request(method, path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert f"{method} {path}" in answer.json()["detail"]
    assert fake.calls[-1] == RecordedCall(method, path, {}, None, fake.calls[-1].headers, 404, None)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "Missing required query parameter 'project_id'"),
        ({"project_id": PROJECT, "limit": "many"}, "'limit' is invalid"),
        ({"project_id": PROJECT, "limit": 0}, "'limit' is invalid"),
        ({"project_id": PROJECT, "filters": "{not json"}, "must be JSON-encoded"),
        ({"project_id": PROJECT, "filters": "[1]"}, "'filters' is invalid"),
    ],
)
def test_bad_query_parameters_are_400_problems(params: dict[str, Any], fragment: str) -> None:
    fake = _strict()
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        answer = http.get(TABLE, params=params)
    assert answer.status_code == 400
    assert fragment in answer.json()["detail"]


def test_records_persist_per_project_and_table() -> None:
    fake = _strict()
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        project = {"project_id": PROJECT}
        made = [
            http.post(TABLE, params=project, json={"record": {"name": n, "status": s}}).json()[
                "data"
            ]
            for n, s in [("Primary", "active"), ("Backup", "standby")]
        ]
        assert made[0]["id"] != made[1]["id"]
        listed = http.get(TABLE, params=project).json()["data"]
        assert [r["name"] for r in listed] == ["Primary", "Backup"]
        active = http.get(TABLE, params={**project, "filters": '{"status":"active"}'}).json()
        assert [r["name"] for r in active["data"]] == ["Primary"]
        assert http.get(TABLE, params={"project_id": 7}).json() == {"data": []}
        one = f"{TABLE}/{made[0]['id']}"
        changed = http.patch(one, params=project, json={"record": {"status": "retired", "id": 9}})
        assert changed.json()["data"] == {
            "name": "Primary",
            "status": "retired",
            "id": made[0]["id"],
        }
        assert (
            http.get(one, params={"project_id": str(PROJECT)}).json()["data"]["status"] == "retired"
        )
        assert http.delete(one, params=project).status_code == 204
        gone = http.get(one, params=project)
        assert gone.status_code == 404
        assert "No record" in gone.json()["detail"]
    assert fake.records("mailer", "relays", project_id=PROJECT) == [made[1]]


def test_rate_limit_counts_down_then_answers_429() -> None:
    fake = _strict(rate_limit=3, rate_limit_window=60)
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        answers = [http.get("/api/v1/ext/rate_limit") for _ in range(4)]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].json()["rate_limit"] == {
        "limit": 3,
        "remaining": 2,
        "window_seconds": 60,
        "reset_in": 60,
    }
    assert all(a.headers["x-ratelimit-limit"] == "3" for a in answers)
    assert 0 < int(answers[0].headers["x-ratelimit-reset"]) <= 60
    limited = answers[3]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["status"] == 429
    fake.rate_limiter.reset()
    assert fake.handle("GET", "/api/v1/ext/rate_limit").status == 200


def test_rate_limit_window_starts_again() -> None:
    now = [100.0]
    limiter = RateLimiter(1, 10, clock=lambda: now[0])
    assert limiter.consume()
    assert not limiter.consume()
    assert limiter.reset_in == 10
    now[0] += 10
    assert limiter.remaining == 1
    assert limiter.consume()


def test_workspace_token_is_required_when_configured() -> None:
    fake = _strict(workspace_token="wk_test")
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        missing = http.get("/api/v1/ext/rate_limit")
        wrong = http.get("/api/v1/ext/rate_limit", headers={"Authorization": "Bearer nope"})
        right = http.get("/api/v1/ext/rate_limit", headers={"Authorization": "Bearer wk_test"})
        keys = http.get("/.well-known/jwks.json")  # security: [] in the spec
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert right.status_code == 200
    assert keys.status_code == 200
    assert FakeKiket().handle("GET", "/api/v1/ext/rate_limit").status == 200  # default: open


def test_calls_are_recorded_and_reported() -> None:
    seen: list[RecordedCall] = []
    fake = _strict(on_call=seen.append)
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        http.post(TABLE, params={"project_id": PROJECT}, json={"record": {"a": 1}},
                  headers={"X-Kiket-Event-Version": "v1"})  # fmt: skip
    [call] = fake.calls
    assert seen == [call]
    assert (call.method, call.path, call.query, call.json) == (
        "POST",
        TABLE,
        {"project_id": "42"},
        {"record": {"a": 1}},
    )
    assert call.headers["x-kiket-event-version"] == "v1"
    assert (call.status, call.operation_id) == (200, "create_custom_data_record")


def test_a_write_repeated_with_its_idempotency_key_is_applied_once() -> None:
    fake = _strict()
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:

        def create(key: str) -> Any:
            return http.post(TABLE, params={"project_id": PROJECT}, json={"record": {"n": 1}},
                             headers={"Idempotency-Key": key}).json()  # fmt: skip

        assert create("k1") == create("k1") != create("k2")
    assert len(fake.records("mailer", "relays", project_id=PROJECT)) == 2


def test_intake_submissions_move_through_review_and_stats_follow() -> None:
    fake = _strict()
    fake.seed_intake_form("bugs", project_id=PROJECT, fields=[{"key": "summary", "required": True}])
    form = "/api/v1/ext/intake_forms/bugs"
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        body = {"project_id": PROJECT, "data": {"summary": "Broken"}, "metadata": {"via": "mail"}}
        made = http.post(f"{form}/submissions", json=body)
        assert made.status_code == 201
        assert made.json()["metadata"] == {"via": "mail"}
        incomplete = http.post(f"{form}/submissions", json={"project_id": PROJECT, "data": {}})
        assert incomplete.status_code == 422
        assert "summary" in incomplete.json()["detail"]
        sid = made.json()["id"]
        review = {"project_id": PROJECT, "notes": "ok"}
        approved = http.post(f"{form}/submissions/{sid}/approve", json=review).json()
        assert (approved["status"], approved["notes"]) == ("approved", "ok")
        again = http.post(f"{form}/submissions/{sid}/reject", json=review)
        assert again.status_code == 409
        stats = http.get(f"{form}/stats", params={"project_id": PROJECT}).json()
        assert stats == {
            "total_submissions": 1,
            "pending": 0,
            "approved": 1,
            "rejected": 0,
            "converted": 0,
        }
        pending = http.get(
            f"{form}/submissions", params={"project_id": PROJECT, "status": "pending"}
        )
        assert pending.json() == {"data": []}
        listed = http.get("/api/v1/ext/intake_forms", params={"project_id": PROJECT}).json()
        assert listed["data"][0]["submissions_count"] == 1
        unknown = http.get("/api/v1/ext/intake_forms/nope", params={"project_id": PROJECT})
        assert unknown.status_code == 404
        assert "seed_intake_form" in unknown.json()["detail"]


def test_state_endpoints_record_what_the_extension_sent() -> None:
    fake = _strict()
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        first = http.get("/api/v1/ext/webhook_url", params={"action_name": "sms"}).json()
        same = http.get("/api/v1/ext/webhook_url", params={"action_name": "sms"}).json()
        rotated = http.post("/api/v1/ext/webhook_url/rotate", params={"action_name": "sms"}).json()
        http.patch("/api/v1/ext/configuration", json={"configuration": {"a": 1}})
        http.patch("/api/v1/ext/configuration", json={"configuration": {"b": 2}})
        mail = {"inbound_email": {"from_email": "a@x", "to_email": "b@x"}}
        email = http.post("/api/v1/ext/inbound_emails", json=mail)
        http.post("/api/v1/extensions/notifications", json={"title": "T", "body": "B"})
        http.post("/api/v1/extensions/metrics", json={"name": "m", "value": 2.5})
        http.post(f"/api/v1/extensions/{EXTENSION}/secrets/A%2FB", json={"value": "v"})
        missing = http.get(f"/api/v1/extensions/{EXTENSION}/secrets/NOPE")
    assert first == same
    assert rotated["webhook_token"] != first["webhook_token"]
    assert rotated["webhook_url"].endswith(rotated["webhook_token"])
    assert fake.configuration == {"a": 1, "b": 2}
    assert fake.configuration_updates == [{"a": 1}, {"b": 2}]
    assert fake.inbound_emails == [
        {"id": email.json()["id"], "from_email": "a@x", "to_email": "b@x"}
    ]
    assert fake.notifications == [{"title": "T", "body": "B", "level": "info"}]
    assert fake.metrics == [{"name": "m", "value": 2.5, "unit": "count"}]
    assert fake.secrets[EXTENSION] == {"A/B": "v"}
    assert missing.status_code == 404


def test_audit_proofs_verify_and_tampering_is_caught() -> None:
    fake = _strict()
    anchor = fake.seed_audit_anchor([{"id": n, "action": f"a{n}"} for n in range(1, 6)])
    with httpx.Client(transport=fake.transport(), base_url=BASE) as http:
        proof = http.get("/api/v1/audit/records/5/proof").json()
        request = {
            key: proof[key]
            for key in ("content_hash", "merkle_root", "proof", "leaf_index", "tx_hash")
        }
        good = http.post("/api/v1/audit/verify", json=request).json()
        bad = http.post(
            "/api/v1/audit/verify", json={**request, "content_hash": "0x" + "00" * 32}
        ).json()
        page = http.get("/api/v1/audit/anchors", params={"per_page": 1, "page": 1}).json()
        plain = http.get(f"/api/v1/audit/anchors/{anchor['merkle_root']}").json()
    assert proof["merkle_root"] == anchor["merkle_root"]
    assert proof["leaf_count"] == 5
    assert (good["verified"], good["proof_valid"], good["blockchain_verified"]) == (
        True,
        True,
        True,
    )
    assert (bad["verified"], bad["proof_valid"], bad["error"]) == (
        False,
        False,
        "Proof does not lead to the given root",
    )
    assert page["pagination"] == {"page": 1, "per_page": 1, "total": 1, "total_pages": 1}
    assert "records" not in page["anchors"][0]
    assert "records" not in plain


def test_jwks_serves_public_members_only() -> None:
    _, jwk = generate_signing_key(kid="k1")
    fake = _strict(jwks=[{**jwk, "d": "private"}])
    assert fake.handle("GET", "/.well-known/jwks.json").json() == {"keys": [jwk]}


def test_strict_responses_catch_an_answer_outside_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_fake_kiket.ROUTES, "get_jwks", lambda state, params, body: (200, {"k": 1}))
    with pytest.raises(AssertionError, match="get_jwks with 200"):
        _strict().handle("GET", "/.well-known/jwks.json")
    assert FakeKiket().handle("GET", "/.well-known/jwks.json").status == 200


def test_seeds_are_checked_against_the_spec() -> None:
    fake = FakeKiket()
    with pytest.raises(ValueError, match="SlaEvent"):
        fake.seed_sla_events([{"issue_id": 1}])
    with pytest.raises(ValueError, match="seed_intake_form"):
        fake.seed_intake_submission("nope", project_id=1, data={})


def test_the_generated_clients_work_against_the_fake() -> None:
    fake = _strict(workspace_token="wk_test")
    http = httpx.Client(transport=fake.transport())
    with GeneratedSyncClient(base_url=BASE, workspace_token="wk_test", http_client=http) as client:
        made = client.custom_data.create(
            "crm", "contacts", project_id=PROJECT, record={"email": "a@b.c"}
        )
        found = client.custom_data.list(
            "crm", "contacts", project_id=PROJECT, filters={"email": "a@b.c"}
        )
        client.secrets.set(EXTENSION, "A/B", value="v")
        assert client.secrets.get(EXTENSION, "A/B").value == "v"
    assert found.data[0].model_dump() == made.data.model_dump()
    assert fake.calls[-1].path == f"/api/v1/extensions/{EXTENSION}/secrets/A%2FB"


async def test_the_generated_async_client_works_against_the_fake() -> None:
    fake = _strict()
    fake.seed_intake_form("bugs", project_id=PROJECT, public=True)
    http = httpx.AsyncClient(transport=fake.transport())
    async with GeneratedAsyncClient(base_url=BASE, http_client=http) as client:
        forms = await client.intake_forms.list(project_id=PROJECT, public=True, active=True)
        none = await client.intake_forms.list(project_id=PROJECT, public=False)
    await http.aclose()
    assert [form.key for form in forms.data] == ["bugs"]
    assert none.data == []


def test_fake_proofs_verify_with_the_sdk_helpers() -> None:
    audit = pytest.importorskip("kiket_sdk._audit")
    fake = _strict()
    records = [{"id": n, "who": f"user{n}"} for n in range(1, 4)]
    anchor = fake.seed_audit_anchor(records)
    for record in records:
        proof = fake.handle("GET", f"/api/v1/audit/records/{record['id']}/proof").json()
        assert proof["content_hash"] == audit.compute_content_hash(record)
        assert audit.verify_proof_locally(
            proof["content_hash"], proof["proof"], anchor["merkle_root"], proof["leaf_index"]
        )


def test_handle_takes_a_query_on_the_path() -> None:
    fake = _strict()
    answer = fake.handle("GET", f"{TABLE}?project_id={PROJECT}&limit=1")
    assert answer.status == 200
    assert fake.calls[-1].path == TABLE
    assert fake.calls[-1].query == {"project_id": "42", "limit": "1"}


@pytest.mark.parametrize(
    "module",
    [
        "kiket_sdk.testing._spec",
        "kiket_sdk.testing._fake_audit",
        "kiket_sdk.testing._fake_http",
        "kiket_sdk.testing._fake_kiket",
        "kiket_sdk.testing._fake_openapi",
        "kiket_sdk.testing._fake_problem",
        "kiket_sdk.testing._fake_rate_limit",
        "kiket_sdk.testing._fake_routes",
        "kiket_sdk.testing._fake_routes_audit",
        "kiket_sdk.testing._fake_routes_intake",
        "kiket_sdk.testing._fake_store",
        "kiket_sdk.testing._payloads",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0


# -- what strict JSON cannot carry is never seeded (the fake must never answer invalid JSON) ----


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_seeded_records_and_sla_events_refuse_non_finite_numbers(number: float) -> None:
    fake = FakeKiket()
    with pytest.raises(ValueError, match="not a finite number"):
        fake.seed_records("crm", "contacts", [{"score": number}], project_id=42)
    with pytest.raises(ValueError, match=r"rows\[0\]|not a finite number"):
        fake.seed_records("crm", "contacts", [{"nested": {"rows": [number]}}], project_id=42)
    with pytest.raises(ValueError, match="not a finite number"):
        fake.seed_sla_events([{"issue_id": 7, "state": "breached", "extra": number}])
    assert fake.records("crm", "contacts", project_id=42) == []
    assert fake.sla_events == []


@pytest.mark.parametrize("value", [None, 5, 1.5, ["k"], "\ud800"])
def test_seeded_secrets_must_be_json_text(value: object) -> None:
    fake = FakeKiket()
    with pytest.raises(ValueError, match=r"text|surrogate"):
        fake.seed_secrets("com.example", {"OK": "k", "API_KEY": value})  # type: ignore[dict-item]
    assert fake.secrets == {}


def test_seeded_records_without_an_id_never_take_one_already_used() -> None:
    fake = FakeKiket()
    fake.seed_records("crm", "contacts", [{"id": 2, "n": "stored"}], project_id=42)
    batch = [{"n": "a"}, {"n": "b"}, {"id": 4}]
    stored = fake.seed_records("crm", "contacts", batch, project_id=42)
    ids = [row["id"] for row in fake.records("crm", "contacts", project_id=42)]
    assert len(ids) == len(set(ids)) == 4
    assert [row["id"] for row in stored][2] == 4

"""The inspector's JSON API and event stream, over real uvicorn servers on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest

from kiket_sdk._generated.catalogue import EVENT_PAYLOADS, KNOWN_EVENTS
from kiket_sdk._inspector.api import PREFIX, inspector_app
from kiket_sdk.testing import signed_headers

from .conftest import API, SECRET, Served


def _wait_for_jobs(served: Served, serial: int) -> dict[str, Any]:
    """The entry once its deferred jobs ended (they run after the answer)."""
    for _ in range(200):
        entry = served.delivery(serial)
        if sum(item["kind"] == "deferred_ended" for item in entry["timeline"]) == entry["jobs"]:
            return entry
        served.client.get("/deliveries")  # a short pause that also exercises the list
    raise AssertionError(f"the deferred jobs of delivery {serial} did not end")


def test_a_sent_event_is_journaled_with_its_proof_ledger_and_outbound_calls(served: Served):
    sent = served.send()
    assert sent["status"] == 200
    assert json.loads(sent["answer"])["message"] == "seen"
    entry = _wait_for_jobs(served, sent["serial"])

    assert (entry["event"], entry["version"], entry["status"]) == ("issue.created", "v1", 200)
    assert entry["proof"] == {"kind": "hmac", "refused": None}
    assert entry["ledger"] == "first_run"
    assert entry["request"]["headers"]["x-kiket-signature"]
    assert json.loads(entry["request"]["body"])["id"] == entry["delivery_id"]
    outbound = [item for item in entry["timeline"] if item["kind"] == "outbound"]
    assert [(call["method"], call["status"]) for call in outbound] == [("POST", 200)]
    assert json.loads(outbound[0]["request_body"])["event"] == "issue.seen"
    assert [item["kind"] for item in entry["timeline"][1:]] == [
        "deferred_started",
        "deferred_ended",
    ]
    listed = served.client.get("/deliveries").json()["deliveries"]
    assert [item["serial"] for item in listed] == [sent["serial"]]
    assert [logged["event"] for logged in served.fake.events] == ["issue.seen"]


def test_resend_same_bytes_is_a_duplicate_and_resend_as_new_runs_again(served: Served):
    first = served.send()["serial"]
    same = served.client.post(f"/deliveries/{first}/resend", json={"as": "same"}).json()
    new = served.client.post(f"/deliveries/{first}/resend", json={"as": "new"}).json()

    assert same["status"] == new["status"] == 200
    duplicate, fresh = served.delivery(same["serial"]), served.delivery(new["serial"])
    original = served.delivery(first)
    assert duplicate["ledger"] == "duplicate"
    assert duplicate["request"]["body"] == original["request"]["body"]
    assert not [item for item in duplicate["timeline"] if item["kind"] == "outbound"]
    assert fresh["ledger"] == "first_run"
    assert fresh["delivery_id"] != original["delivery_id"]


def test_resend_of_an_unknown_delivery_or_mode_is_refused(served: Served):
    assert served.client.post("/deliveries/999/resend", json={"as": "same"}).status_code == 404
    serial = served.send()["serial"]
    refused = served.client.post(f"/deliveries/{serial}/resend", json={"as": "later"})
    assert refused.status_code == 400
    assert "later" in refused.json()["detail"]


def test_the_stream_pushes_each_change_of_a_delivery(served: Served):
    with (
        httpx.Client(base_url=served.url + API, timeout=10.0) as listener,
        listener.stream("GET", "/stream") as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == ": connected"
        serial = served.send()["serial"]
        pushed: list[dict[str, Any]] = []
        event_name = None
        for line in lines:
            if line.startswith("event: "):
                event_name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                assert event_name == "delivery"
                pushed.append(json.loads(line.removeprefix("data: ")))
                if pushed[-1]["status"] is not None:
                    break
    assert {entry["serial"] for entry in pushed} == {serial}
    assert pushed[0]["status"] is None  # the start is pushed before the answer
    assert pushed[-1]["status"] == 200


def test_the_catalogue_lists_the_extensions_events_first_then_the_spec(served: Served):
    events = served.client.get("/events").json()["events"]
    expected = {
        (event, version) for event, versions in KNOWN_EVENTS.items() for version in versions
    }
    pairs = [(item["event"], item["version"]) for item in events]
    assert set(pairs) == expected | {("acme.boom", "v1"), ("acme.gate", "v1")}
    assert pairs[:3] == [("acme.boom", "v1"), ("acme.gate", "v1"), ("issue.created", "v1")]
    assert [item["registered"] for item in events[:4]] == [True, True, True, False]
    for custom in events[:2]:  # registered, not in the spec: no model, an empty template
        assert (custom["model"], custom["schema"], custom["example"]) == (None, None, {})
    for item in events[2:]:
        model = EVENT_PAYLOADS[(item["event"], item["version"])]
        assert item["model"] == model.__name__
        model.model_validate(item["example"])
        assert item["schema"]["title"] == model.__name__


def test_send_validates_the_payload_against_the_event_model(served: Served):
    refused = served.client.post(
        "/send", json={"event": "issue.created", "version": "v1", "payload": {"issue": 3}}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"], refused.text
    unknown = served.client.post("/send", json={"event": "no.such.event", "version": "v1"})
    assert unknown.status_code == 404
    assert served.client.get("/deliveries").json()["deliveries"] == []


def test_the_fake_state_can_be_seeded_and_read(served: Served):
    seed = {
        "records": [
            {"module": "crm", "table": "contacts", "project_id": 42, "rows": [{"email": "a@b.c"}]}
        ],
        "secrets": {"com.example.inspected": {"API_KEY": "k"}},
    }
    added = served.client.post("/fake/seed", json=seed)
    assert added.json() == {"added": {"records": 1, "sla_events": 0, "secrets": 1}}
    state = served.client.get("/fake").json()
    assert state["records"][0]["rows"][0]["email"] == "a@b.c"
    assert state["secrets"] == {"com.example.inspected": {"API_KEY": "k"}}
    bad = served.client.post("/fake/seed", json={"tables": []})
    assert bad.status_code == 422
    assert "tables" in bad.json()["detail"]


def test_paths_outside_the_prefix_reach_the_extension(served: Served):
    assert httpx.get(served.url + "/health").status_code == 200
    assert httpx.get(served.url + PREFIX + "x/api/deliveries").status_code == 404


def test_the_page_and_its_assets_are_served_from_the_package(served: Served):
    page = httpx.get(served.url + PREFIX + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "://" not in page.text  # nothing loaded from elsewhere
    for asset in ("inspector.js", "inspector.css"):
        assert f'"{asset}"' in page.text
        served_asset = httpx.get(served.url + PREFIX + "/" + asset)
        assert served_asset.status_code == 200
        assert "://" not in served_asset.text
    moved = httpx.get(served.url + PREFIX)
    assert moved.status_code in (301, 302, 307, 308)
    assert moved.headers["location"].endswith(PREFIX + "/")


def test_a_registered_event_outside_the_spec_is_sent_signed_when_its_payload_is_an_object(
    served: Served,
):
    sent = served.send("acme.gate", payload={"id": "evt_gate"})
    assert json.loads(sent["answer"])["message"] == "gate closed"
    entry = served.delivery(sent["serial"])
    assert entry["proof"]["kind"] == "hmac"
    assert entry["request"]["headers"]["x-kiket-signature"]
    refused = served.client.post("/send", json={"event": "acme.gate", "payload": [1]})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["msg"] == "Input should be a JSON object"


def test_validate_runs_the_check_of_send_without_sending(served: Served):
    def validate(**body: Any) -> dict[str, Any]:
        answer = served.client.post("/validate", json={"event": "issue.created", **body})
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    events = served.client.get("/events").json()["events"]
    (example,) = [
        e["example"] for e in events if (e["event"], e["version"]) == ("issue.created", "v1")
    ]
    assert validate(payload=example) == {"valid": True}
    assert validate() == {"valid": True}  # no payload: the spec's example
    wrong = validate(payload={**example, "issue": 3})
    assert wrong["valid"] is False
    assert [error["loc"] for error in wrong["errors"]] == [["issue"]]
    assert wrong["errors"][0]["msg"]
    listed = validate(payload=[example])
    assert listed["valid"] is False
    assert served.client.get("/deliveries").json()["deliveries"] == []


def test_answer_headers_and_the_job_of_each_outbound_call_are_in_the_entry(served: Served):
    first = served.send()["serial"]
    same = served.client.post(f"/deliveries/{first}/resend", json={"as": "same"}).json()
    duplicate = served.delivery(same["serial"])
    assert duplicate["answer_headers"]["x-kiket-duplicate"]
    original = _wait_for_jobs(served, first)
    assert "x-kiket-duplicate" not in original["answer_headers"]
    [handler_call] = [item for item in original["timeline"] if item["kind"] == "outbound"]
    assert (handler_call["job"], handler_call["job_function"]) == (None, None)


def test_records_secrets_and_sla_events_are_edited_in_place(served: Served):
    seed = {
        "records": [{"module": "crm", "table": "gates", "project_id": 42, "rows": [{"id": 5}]}],
        "secrets": {"com.example.inspected": {"API_KEY": "k"}},
        "sla_events": [
            {"issue_id": 7, "project_id": 42, "state": "breached", "definition": {"id": 1}}
        ],
    }
    assert served.client.post("/fake/seed", json=seed).status_code == 200, "seeded"
    record = "/fake/records/42/crm/gates/5"
    edited = served.client.put(record, json={"open": True, "id": 99})
    assert edited.json() == {"record": {"open": True, "id": 5}}  # the path names the record
    assert served.fake.records("crm", "gates", project_id=42) == [{"open": True, "id": 5}]
    assert served.send("acme.gate", payload={})["answer"].count("gate open") == 1

    assert served.client.put("/fake/secrets/com.example.inspected/API_KEY", json={"value": "k2"})
    assert served.fake.secrets == {"com.example.inspected": {"API_KEY": "k2"}}
    sla_event = f"/fake/sla_events/{served.fake.sla_events[0]['id']}"
    for path in (record, "/fake/secrets/com.example.inspected/API_KEY", sla_event):
        assert served.client.delete(path).json() == {"deleted": True}
        assert served.client.delete(path).status_code == 404
    state = served.client.get("/fake").json()
    assert (state["records"][0]["rows"], state["secrets"], state["sla_events"]) == ([], {}, [])


def test_a_secret_that_is_not_text_is_refused(served: Served):
    refused = served.client.put("/fake/secrets/a/B", json={"value": 3})
    assert refused.status_code == 422
    assert "text" in refused.json()["detail"]


def test_a_seed_with_one_bad_key_applies_nothing(served: Served):
    seed = {
        "secrets": {"com.example.inspected": {"API_KEY": "k"}},
        "records": [{"module": "crm", "table": "t", "project_id": 1, "rows": [{"email": "x"}]}],
        "sla_events": [{"state": 3}],
    }
    refused = served.client.post("/fake/seed", json=seed)
    assert refused.status_code == 422
    assert "SlaEvent" in refused.json()["detail"]
    state = served.client.get("/fake").json()
    assert (state["records"], state["secrets"], state["sla_events"]) == ([], {}, [])


_MALFORMED: list[tuple[str, bytes]] = [
    ("not JSON", b"{"),
    ("a list", b"[1, 2]"),
    ("a number", b"3"),
    ("not UTF-8", b"\xff\xfe{"),
    ("deeply nested", b"[" * 100_000),
    ("a huge integer", b'{"event": ' + b"9" * 5000 + b"}"),
    ("oversized", b'{"event": "' + b"x" * (1024 * 1024 + 10) + b'"}'),
]
_WRONG_TYPES: list[tuple[str, bytes]] = [
    ("event a number", b'{"event": 3, "payload": {}, "as": 3, "value": 3}'),
    ("version null", b'{"event": "issue.created", "version": null, "as": null, "value": null}'),
    ("payload a list", b'{"event": "issue.created", "payload": [], "as": [], "value": []}'),
    ("non-ASCII", '{"event": "issue.créé ✓", "as": "ñ", "value": 1}'.encode()),
]
_ROUTES: list[tuple[str, str]] = [
    ("POST", "/send"),
    ("POST", "/validate"),
    ("POST", "/fake/seed"),
    ("POST", "/deliveries/{serial}/resend"),
    ("PUT", "/fake/records/42/crm/gates/1"),
    ("PUT", "/fake/secrets/com.example.inspected/API_KEY"),
]


@pytest.mark.parametrize(("method", "route"), _ROUTES)
def test_bad_bodies_are_a_json_4xx_never_a_500(served: Served, method: str, route: str):
    """Malformed bodies are refused by every route; values of the wrong type by every route
    that reads them (a record may be any JSON object, and validate answers ``valid: false``)."""
    serial = served.send()["serial"]
    path = route.format(serial=serial)
    json_type = {"content-type": "application/json"}
    for name, body in _MALFORMED:
        answer = served.client.request(method, path, content=body, headers=json_type)
        assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.text[:300])
        assert isinstance(answer.json()["detail"], str), name
    for name, body in _WRONG_TYPES:
        answer = served.client.request(method, path, content=body, headers=json_type)
        if "/fake/records/" in path:
            assert answer.status_code == 200, answer.text
        elif path.endswith("/validate") and answer.status_code == 200:
            assert answer.json()["valid"] is False, name
        else:
            assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.text[:300])
            assert isinstance(answer.json()["detail"], str), name


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/deliveries/999"),
        ("GET", "/deliveries/" + "9" * 5000),
        ("GET", "/deliveries/-1"),
        ("GET", "/deliveries/%C3%A9"),
        ("POST", "/deliveries/" + "9" * 5000 + "/resend"),
        ("DELETE", "/fake/records/42/crm/gates/" + "9" * 5000),
        ("DELETE", "/fake/secrets/nobody/NOTHING"),
        ("DELETE", "/fake/sla_events/" + "9" * 5000),
        ("GET", "/no/such/route"),
        ("DELETE", "/send"),
        ("POST", "/deliveries"),
        ("PATCH", "/fake/secrets/a/b"),
    ],
)
def test_unknown_objects_routes_and_methods_are_a_json_4xx(served: Served, method: str, path: str):
    answer = served.client.request(method, path, json={"as": "same"})
    assert answer.status_code in (404, 405), answer.text[:300]
    assert isinstance(answer.json()["detail"], str)


def test_requests_answered_before_the_pipeline_are_journaled_too(served: Served):
    wrong_method = httpx.get(served.url + "/v/v1/webhooks/issue.created")
    nowhere = httpx.post(served.url + "/v1/webhook/issue.created", content=b'{"id": "x"}')
    assert (wrong_method.status_code, nowhere.status_code) == (405, 404)
    assert httpx.get(served.url + "/health").status_code == 200  # not a delivery: not journaled
    sent = served.send()  # through the pipeline: journaled once, by the observer

    entries = served.client.get("/deliveries").json()["deliveries"]
    assert [entry["answered_by"] for entry in entries] == ["pipeline", "routing", "routing"]
    assert entries[0]["serial"] == sent["serial"]
    missing, method = entries[1], entries[2]
    assert (method["method"], method["event"], method["version"], method["status"]) == (
        "GET",
        "issue.created",
        "v1",
        405,
    )
    assert (missing["path"], missing["status"], missing["request"]["body"]) == (
        "/v1/webhook/issue.created",
        404,
        "",  # the app answered without reading it, and nothing reads ahead of the app
    )
    assert missing["answer_headers"]["content-type"].startswith("application/json")
    refused = served.client.post(f"/deliveries/{missing['serial']}/resend", json={"as": "same"})
    assert refused.status_code == 422


# -- every body under the extension's own JSON rule ---------------------------------------------


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        (
            "/fake/seed",
            "POST",
            b'{"records": [{"module": "m", "table": "t", "project_id": 1, "rows": [{"x": NaN}]}]}',
        ),
        ("/fake/seed", "POST", b'{"sla_events": [{"issue_id": 7, "state": "s", "x": Infinity}]}'),
        ("/fake/records/42/crm/contacts/7", "PUT", b'{"score": -Infinity}'),
        ("/validate", "POST", b'{"event": "acme.gate", "payload": {"x": NaN}}'),
        ("/validate", "POST", b'{"event": "acme.gate", "payload": {"x": "\\ud800"}}'),
        ("/send", "POST", b'{"event": "acme.gate", "payload": {"x": NaN}}'),
        ("/send", "POST", b'{"event": "acme.gate", "payload": {"n": ' + b"9" * 5000 + b"}}"),
        ("/fake/secrets/com.example.app/K", "PUT", b'{"value": "\\udfff"}'),
    ],
)
def test_a_body_the_extension_would_refuse_as_json_is_a_400(
    served: Served, path: str, method: str, body: bytes
):
    headers = {"Content-Type": "application/json"}
    answer = served.client.request(method, path, content=body, headers=headers)
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert "JSON" in detail or "number" in detail
    assert "sys." not in detail
    assert "set_int_max_str_digits" not in detail
    state = served.client.get("/fake")
    assert state.status_code == 200
    assert state.json()["records"] == state.json()["sla_events"] == []
    assert served.client.get("/deliveries").json()["deliveries"] == []


@pytest.mark.parametrize(
    ("record", "key"),
    [
        ({"module": "crm", "table": "t", "project_id": "abc"}, "records[0].project_id"),
        ({"module": "crm", "table": "t", "project_id": True}, "records[0].project_id"),
        ({"module": "crm", "table": "t", "project_id": 1.5}, "records[0].project_id"),
        ({"module": "crm", "table": "t", "project_id": 10**25}, "records[0].project_id"),
        ({"module": "", "table": "t", "project_id": 1}, "records[0].module"),
        ({"module": "crm", "table": "a/b", "project_id": 1}, "records[0].table"),
        ({"module": "c?m", "table": "t", "project_id": 1}, "records[0].module"),
        ({"module": "crm", "table": "t#1", "project_id": 1}, "records[0].table"),
        ({"module": "crm", "table": "t", "project_id": 1, "rows": {"id": 5}}, "records[0].rows"),
        (
            {"module": "crm", "table": "t", "project_id": 1, "rows": [{"id": 5}, {"id": 5}]},
            "records[0].rows[1].id",
        ),
        (
            {"module": "crm", "table": "t", "project_id": 1, "rows": [{"id": "a/b"}]},
            "records[0].rows[0].id",
        ),
    ],
)
def test_a_seed_the_fake_cannot_use_is_a_422_naming_the_key(
    served: Served, record: dict[str, Any], key: str
):
    answer = served.client.post("/fake/seed", json={"records": [record]})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith(key), answer.json()["detail"]
    assert served.client.get("/fake").json()["records"] == []


def test_seeded_row_ids_are_unique_against_the_rows_already_stored(served: Served):
    table = {"module": "crm", "table": "t", "project_id": 1}
    assert served.client.post(
        "/fake/seed", json={"records": [{**table, "rows": [{}, {}]}]}
    ).is_success
    stored = [row["id"] for row in served.fake.records("crm", "t", project_id=1)]
    again = served.client.post(
        "/fake/seed", json={"records": [{**table, "rows": [{"id": stored[0]}]}]}
    )
    assert again.status_code == 422
    assert "already taken" in again.json()["detail"]
    extra = {
        "records": [{**table, "rows": [{}]}, {**table, "project_id": "1", "rows": [{"id": 99}]}]
    }
    assert served.client.post("/fake/seed", json=extra).is_success
    ids = [row["id"] for row in served.fake.records("crm", "t", project_id=1)]
    assert len(ids) == len(set(ids)) == 4
    deleted = served.client.delete(f"/fake/records/1/crm/t/{ids[0]}")
    assert deleted.status_code == 200
    assert len(served.fake.records("crm", "t", project_id=1)) == 3


@pytest.mark.parametrize(
    ("value", "kind"), [(None, "null"), (5, "number"), (True, "boolean"), (["k"], "array")]
)
def test_a_seeded_secret_that_is_not_text_is_refused_as_put_refuses_it(
    served: Served, value: object, kind: str
):
    answer = served.client.post("/fake/seed", json={"secrets": {"com.example.app": {"K": value}}})
    assert answer.status_code == 422
    assert answer.json()["detail"] == f"secrets.com.example.app.K must be text, got {kind}"
    put = served.client.put("/fake/secrets/com.example.app/K", json={"value": value})
    assert put.status_code == 422
    assert put.json()["detail"].endswith(f"must be text, got {kind}")  # JSON's words, not Python's
    put = served.client.put("/fake/secrets/com.example.app/K", json={"value": value})
    assert put.status_code == 422
    assert served.fake.secrets == {}


# -- send and resend: exact serials, the ledger outcome, headers as received ------------------


def test_send_and_resend_answer_the_ledger_outcome_and_the_answer_headers(served: Served):
    sent = served.send("acme.gate", payload={"id": "evt_ledger"})
    assert sent["ledger"] == "first_run"
    assert sent["answer_headers"]["content-type"].startswith("application/json")
    same = served.client.post(f"/deliveries/{sent['serial']}/resend", json={}).json()
    assert same["ledger"] == "duplicate"
    assert same["answer_headers"]["x-kiket-duplicate"] == "true"
    assert served.delivery(same["serial"])["ledger"] == "duplicate"


def test_concurrent_identical_sends_each_answer_their_own_serial(served: Served):
    body = {"event": "acme.gate", "version": "v1", "payload": {"note": "same"}}
    answers: list[dict[str, Any]] = []

    def post() -> None:
        with httpx.Client(base_url=served.client.base_url, timeout=20.0) as client:
            answers.append(client.post("/send", json=body).json())

    with served.fake.locked():  # the handlers wait on the fake: all three sends are in flight
        threads = [threading.Thread(target=post) for _ in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
    for thread in threads:
        thread.join(20)
    serials = [answer["serial"] for answer in answers]
    assert len(set(serials)) == 3, answers
    listed = served.client.get("/deliveries").json()["deliveries"]
    assert sorted(serials) == sorted(entry["serial"] for entry in listed)


def test_resend_same_bytes_sends_a_non_ascii_header_as_received(served: Served):
    body = b'{"id": "evt_latin", "note": "x"}'
    headers = signed_headers(SECRET, body, version="v1")
    sent = [(name.encode(), value.encode()) for name, value in headers.items()]
    sent.append((b"x-kiket-event-version", "v1\u00e9".encode("latin-1")))
    sent = [pair for pair in sent if pair[0].lower() != b"x-kiket-event-version"] + sent[-1:]
    httpx.post(served.url + "/webhooks/acme.gate", content=body, headers=sent)
    [first] = served.client.get("/deliveries").json()["deliveries"]
    assert first["request"]["headers"]["x-kiket-event-version"] == "v1\u00e9"
    for mode in ("same", "new"):
        answer = served.client.post(f"/deliveries/{first['serial']}/resend", json={"as": mode})
        assert answer.status_code == 200, answer.text
        again = served.delivery(answer.json()["serial"])
        if mode == "same":
            assert again["request"]["headers"]["x-kiket-event-version"] == "v1\u00e9"


def test_a_send_the_routing_answers_names_its_own_journal_entry(served: Served):
    elsewhere = inspector_app(
        served.journal,
        served.fake,
        served.url + "/nowhere",
        SECRET,
        registered=[("acme.gate", "v1")],
    )

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=elsewhere)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.post(API + "/send", json={"event": "acme.gate", "payload": {}})

    served.send("acme.gate", payload={})  # an entry of the pipeline first
    answer = asyncio.run(send()).json()
    assert answer["status"] == 404
    entry = served.delivery(answer["serial"])
    assert entry["answered_by"] == "routing"
    assert entry["path"] == "/nowhere/v/v1/webhooks/acme.gate"
    assert answer["ledger"] is None


@pytest.mark.parametrize("project", ["abc", "1.5", "9" * 26])
def test_a_record_put_in_a_project_that_is_no_number_is_a_422(served: Served, project: str):
    answer = served.client.put(f"/fake/records/{project}/crm/t/1", json={"x": 1})
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("the project id must")
    assert served.client.get("/fake").json()["records"] == []

"""The inspector's JSON API and event stream, over real uvicorn servers on loopback."""

from __future__ import annotations

import json
from typing import Any

import httpx

from kiket_sdk._generated.catalogue import EVENT_PAYLOADS, KNOWN_EVENTS
from kiket_sdk._inspector.api import PREFIX

from .conftest import API, Served


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


def test_the_catalogue_is_every_event_of_the_spec_with_a_valid_example(served: Served):
    events = served.client.get("/events").json()["events"]
    expected = {
        (event, version) for event, versions in KNOWN_EVENTS.items() for version in versions
    }
    assert {(item["event"], item["version"]) for item in events} == expected
    for item in events:
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

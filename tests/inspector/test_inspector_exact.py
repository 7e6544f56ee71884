"""The inspector API keeps what it is given exactly: the payload's bytes, resends' headers and
numbers, and one rule for every path segment and project id of the editing routes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kiket_sdk._delivery.request import webhook_path
from kiket_sdk.testing import signed_headers

from .conftest import SECRET, Served

BIG = '"big": 9007199254740993, "huge": 1' + "0" * 400 + ', "fine": 1.000000000000000000001'


def _example(served: Served, event: str = "issue.created") -> dict[str, Any]:
    events = served.client.get("/events").json()["events"]
    example: dict[str, Any] = next(item for item in events if item["event"] == event)["example"]
    return example


def _big_payload_text(served: Served) -> str:
    text = json.dumps(_example(served), indent=1)
    return text[: text.rindex("}")] + ", " + BIG + "\n}"


def test_send_posts_the_payload_text_as_its_very_bytes(served: Served):
    text = _big_payload_text(served)
    sent = served.send(payload_text=text)
    assert sent["status"] == 200, sent
    assert served.delivery(sent["serial"])["request"]["body"] == text


def test_validate_and_send_check_the_payload_text_with_the_extension_rule(served: Served):
    good = {"event": "issue.created", "version": "v1", "payload_text": _big_payload_text(served)}
    assert served.client.post("/validate", json=good).json() == {"valid": True}
    for text in ("{", "[1]", '{"x": NaN}'):
        answer = served.client.post("/validate", json={**good, "payload_text": text})
        assert answer.status_code == 400, answer.text
        assert "payload_text" in answer.json()["detail"]
    invalid = served.client.post("/send", json={**good, "payload_text": '{"id": 5}'})
    assert invalid.status_code == 422
    assert invalid.json()["errors"]
    both = served.client.post("/send", json={**good, "payload": {}})
    assert both.status_code == 422


def test_resend_as_new_changes_only_the_id(served: Served):
    text = _big_payload_text(served)
    first = served.send(payload_text=text)
    again = served.client.post(f"/deliveries/{first['serial']}/resend", json={"as": "new"})
    assert again.status_code == 200, again.text
    body = served.delivery(again.json()["serial"])["request"]["body"]
    new_id = json.loads(body)["id"]
    assert new_id != json.loads(text)["id"]
    assert body == text.replace(json.dumps(json.loads(text)["id"]), json.dumps(new_id), 1)


def test_resend_same_bytes_sends_every_original_header_again(served: Served):
    body = json.dumps(_example(served)).encode()
    signed = signed_headers(SECRET, body, version="v1")
    headers = [
        *((name.encode(), value.encode()) for name, value in signed.items()),
        (b"X-Weird", "caf\xe9 value".encode("latin-1")),
        (b"X-Trace-Id", b"t-1"),
    ]
    url = served.url + webhook_path("issue.created", "v1")
    posted = httpx.post(url, content=body, headers=headers)
    assert posted.status_code == 200
    [original] = served.client.get("/deliveries").json()["deliveries"]
    again = served.client.post(f"/deliveries/{original['serial']}/resend", json={})
    assert again.status_code == 200, again.text
    resent = served.delivery(again.json()["serial"])["request"]["headers"]
    assert resent["x-weird"] == "caf\xe9 value"
    assert resent["x-trace-id"] == "t-1"
    for name in ("x-kiket-signature", "x-kiket-timestamp", "content-type"):
        assert resent[name] == original["request"]["headers"][name]


def test_resend_same_bytes_replaces_the_old_send_token(served: Served):
    first = served.send()
    old = served.delivery(first["serial"])["request"]["headers"]["x-kiket-inspector-send"]
    again = served.client.post(f"/deliveries/{first['serial']}/resend", json={"as": "same"})
    assert again.status_code == 200, again.text
    assert again.json()["serial"] != first["serial"]
    resent = served.delivery(again.json()["serial"])["request"]["headers"]
    assert resent["x-kiket-inspector-send"] != old


BAD_SEGMENTS = ["%2E%2E", "%2E", "a%3Fb", "%23", "%20", "a%09b", "%00", "%FF", "%C3"]


@pytest.mark.parametrize("segment", BAD_SEGMENTS)
@pytest.mark.parametrize(
    ("route", "part"),
    [
        ("/fake/records/7/{}/t/x", "the module"),
        ("/fake/records/7/m/{}/x", "the table"),
        ("/fake/records/7/m/t/{}", "the record id"),
        ("/fake/secrets/{}/KEY", "the extension id"),
        ("/fake/secrets/app/{}", "the secret name"),
    ],
)
def test_every_editing_path_segment_follows_the_seed_rule(
    served: Served, route: str, part: str, segment: str
):
    for method in ("PUT", "DELETE"):
        body = {"value": "v"} if "secrets" in route else {"a": 1}
        answer = served.client.request(
            method, route.format(segment), json=body if method == "PUT" else None
        )
        assert answer.status_code == 422, (method, answer.text)
        assert answer.json()["detail"].startswith(part)
    state = served.client.get("/fake").json()
    assert state["records"] == []
    assert state["secrets"] == {}


@pytest.mark.parametrize("segment", BAD_SEGMENTS)
def test_an_sla_event_id_follows_the_seed_rule(served: Served, segment: str):
    answer = served.client.delete(f"/fake/sla_events/{segment}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith("the SLA event id")


def test_a_segment_the_seed_rule_refuses_in_a_path_is_refused_in_a_seed_too(served: Served):
    seed = {"records": [{"module": "m", "table": "t", "project_id": 1, "rows": [{"id": "a b"}]}]}
    answer = served.client.post("/fake/seed", json=seed)
    assert answer.status_code == 422
    assert "records[0].rows[0].id" in answer.json()["detail"]


def test_project_ids_are_canonical_in_routes_and_seeds(served: Served):
    assert served.client.put("/fake/records/042/m/t/x", json={"a": 1}).status_code == 200
    seed = {"records": [{"module": "m", "table": "t", "project_id": "0042", "rows": [{"id": 5}]}]}
    assert served.client.post("/fake/seed", json=seed).status_code == 200
    ids = [row["id"] for row in served.fake.records("m", "t", project_id=42)]
    assert ids == ["x", 5]
    assert [group["project_id"] for group in served.client.get("/fake").json()["records"]] == ["42"]
    assert served.client.delete("/fake/records/00042/m/t/x").status_code == 200


def test_a_record_id_with_leading_zeros_finds_the_number_and_text_ids_stay_text(served: Served):
    assert served.client.put("/fake/records/1/m/t/07", json={"a": 1}).status_code == 200
    assert served.fake.records("m", "t", project_id=1) == [{"a": 1, "id": 7}]
    assert served.client.delete("/fake/records/1/m/t/7").status_code == 200
    seed = {"records": [{"module": "m", "table": "t", "project_id": 1, "rows": [{"id": "007"}]}]}
    assert served.client.post("/fake/seed", json=seed).status_code == 200
    assert served.client.delete("/fake/records/1/m/t/007").status_code == 200


def test_big_ids_are_given_as_exact_text(served: Served):
    rows = [{"id": 9007199254740992}, {"id": 9007199254740993}, {"id": 10**22 - 1}]
    seed = {
        "records": [{"module": "m", "table": "t", "project_id": 1, "rows": rows}],
        "sla_events": [
            {"id": 10**400, "issue_id": 7, "project_id": 1, "state": "breached", "definition": {}}
        ],
    }
    assert served.client.post("/fake/seed", json=seed).status_code == 200, seed
    state = served.client.get("/fake").json()
    assert state["records"][0]["row_ids"] == ["9007199254740992", "9007199254740993", "9" * 22]
    assert state["sla_event_ids"] == [str(10**400)]
    assert served.client.delete("/fake/records/1/m/t/9007199254740993").status_code == 200
    assert [r["id"] for r in served.fake.records("m", "t", project_id=1)] == [
        9007199254740992,
        10**22 - 1,
    ]
    assert served.client.delete(f"/fake/sla_events/{10**400}").status_code == 200


def test_the_rebinding_refusal_names_the_real_port(served: Served):
    answer = served.client.get("/fake", headers={"Host": "evil.example"})
    assert answer.status_code == 403
    port = served.url.rsplit(":", 1)[1]
    assert f"http://127.0.0.1:{port}" in answer.json()["detail"]
    assert "PORT" not in answer.json()["detail"]


def test_what_is_journaled_before_the_pipeline_is_what_the_readme_says(served: Served):
    # README: not GET/HEAD (404, 405), or any .../webhooks/... path; other GETs are not listed
    assert httpx.get(served.url + "/nope").status_code == 404
    assert httpx.post(served.url + "/nope", content=b"x").status_code in (404, 405)
    assert httpx.get(served.url + "/webhooks/acme.gate").status_code in (404, 405)
    listed = served.client.get("/deliveries").json()["deliveries"]
    assert [(entry["method"], entry["path"]) for entry in reversed(listed)] == [
        ("POST", "/nope"),
        ("GET", "/webhooks/acme.gate"),
    ]

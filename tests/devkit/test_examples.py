"""Every handler of the examples, delivered in process with a FakeKiket as the Kiket API."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from types import ModuleType

import pytest
from examples import inbound_email, quickstart

from kiket_sdk.testing import FakeKiket, deliver_sync, event_payload

SECRET = "examples-secret"


@pytest.fixture
def fake() -> Iterator[FakeKiket]:
    kiket = FakeKiket(strict_responses=True)
    with kiket.serve():
        yield kiket


def _load(module: ModuleType, fake: FakeKiket, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    assert fake.url is not None
    monkeypatch.setenv("KIKET_BASE_URL", fake.url)
    monkeypatch.setenv("KIKET_WEBHOOK_SECRET", SECRET)
    return importlib.reload(module)


def _send(module: ModuleType, fake: FakeKiket, event: str, version: str = "v1", **overrides):
    payload = event_payload(event, version, api={"base_url": fake.url}, **overrides)
    return deliver_sync(module.sdk, event, payload, version=version)


def _paths(fake: FakeKiket) -> list[tuple[str, str]]:
    return [(call.method, call.path) for call in fake.calls]


@pytest.fixture
def qs(fake: FakeKiket, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _load(quickstart, fake, monkeypatch)


def test_sdk_reads_its_configuration_from_the_environment(qs: ModuleType, fake: FakeKiket):
    assert qs.sdk.base_url == fake.url
    assert qs.sdk.verifier.secrets == (SECRET,)
    assert qs.sdk.extension_id == "com.example.marketing"


def test_issue_created_v1_logs_stores_a_secret_and_creates_a_contact(
    qs: ModuleType, fake: FakeKiket
):
    answer = _send(qs, fake, "issue.created")
    assert answer.status_code == 200, answer.text
    assert answer.json()["metadata"]["contact_created"] is True
    ext = "/api/v1/extensions/com.example.marketing"
    paths = _paths(fake)
    assert paths[0] == ("POST", f"{ext}/events")
    assert fake.calls[0].json["event"] == "issue.received"
    assert fake.calls[0].json["version"] == "v1"
    assert paths[1][1].startswith(f"{ext}/secrets")
    assert paths[2] == ("GET", "/api/v1/ext/custom_data/crm/contacts")
    assert paths[3] == ("POST", "/api/v1/ext/custom_data/crm/contacts")
    assert fake.calls[3].json["record"]["email"] == "sam@acme.example"
    assert all(200 <= call.status < 300 for call in fake.calls)

    # the contact exists now: a second issue from the same reporter creates nothing
    again = _send(qs, fake, "issue.created")
    assert again.json()["metadata"]["contact_created"] is False


def test_issue_created_v2_logs_actor_and_custom_fields(qs: ModuleType, fake: FakeKiket):
    answer = _send(qs, fake, "issue.created", "v2")
    assert answer.status_code == 200, answer.text
    (call,) = fake.calls
    assert call.json["version"] == "v2"
    assert call.json["data"]["actor"] == "sam@acme.example"
    assert call.json["data"]["fields"] == {"building": "HQ", "floor": 3}


def test_sla_status_lists_imminent_events(qs: ModuleType, fake: FakeKiket):
    answer = _send(qs, fake, "workflow.sla_status")
    assert answer.status_code == 200, answer.text
    call = fake.calls[0]
    assert (call.method, call.path) == ("GET", "/api/v1/ext/sla/events")
    assert call.query["state"] == "imminent"
    assert call.query["limit"] == "5"
    assert call.query["project_id"] == "42"
    imminent = answer.json()["metadata"]["imminent"]
    assert (("POST", "/api/v1/extensions/notifications") in _paths(fake)) == (imminent > 0)


def test_automation_dispatch_notifies_when_the_budget_is_low(
    fake: FakeKiket, monkeypatch: pytest.MonkeyPatch
):
    fake.rate_limiter.limit = 3
    qs = _load(quickstart, fake, monkeypatch)
    answer = _send(qs, fake, "automation.dispatch")
    assert answer.status_code == 200, answer.text
    paths = _paths(fake)
    assert paths[0] == ("GET", "/api/v1/ext/rate_limit")
    assert ("POST", "/api/v1/extensions/notifications") in paths
    assert fake.calls[-1].json["event"] == "automation.ran"


def test_automation_dispatch_stays_quiet_with_budget(qs: ModuleType, fake: FakeKiket):
    answer = _send(qs, fake, "automation.dispatch")
    assert answer.status_code == 200, answer.text
    assert ("POST", "/api/v1/extensions/notifications") not in _paths(fake)
    assert answer.json()["metadata"]["remaining"] > 5


def test_test_connection_returns_output_fields(qs: ModuleType, fake: FakeKiket):
    answer = _send(qs, fake, "extension.testConnection")
    assert answer.status_code == 200, answer.text
    fields = answer.json()["metadata"]["output_fields"]
    assert fields == {"inbound_email": "support@acme.kiket.dev", "status": "connected"}
    assert fake.calls == []


def test_test_connection_denies_without_credentials(qs: ModuleType, fake: FakeKiket):
    answer = _send(qs, fake, "extension.testConnection", secrets={})
    assert answer.json()["status"] == "deny"


# --- inbound e-mail ----------------------------------------------------------------------------


@pytest.fixture
def mail(fake: FakeKiket, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.delenv("MAILJET_WEBHOOK_TOKEN", raising=False)
    return _load(inbound_email, fake, monkeypatch)


def _relayed(body: dict[str, str], *, header: str | None = None, query: str | None = None):
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Webhook-Token"] = header
    return {
        "body": json.dumps(body),
        "headers": headers,
        "content_type": "application/json",
        "method": "POST",
        "query_params": {"token": query} if query is not None else {},
    }


GENERIC = {
    "from": "Sam Reporter <sam@example.com>",
    "to": "support@acme.kiket.dev",
    "subject": "Printer on fire",
    "text": "Again.",
    "html": "<p>Again.</p>",
}


def test_inbound_email_with_header_token_is_stored(mail: ModuleType, fake: FakeKiket):
    answer = _send(
        mail,
        fake,
        "external.webhook.inbound_email",
        secrets={"MAILJET_WEBHOOK_TOKEN": "tok"},
        external_webhook=_relayed(GENERIC, header="tok"),
    )
    assert answer.status_code == 200, answer.text
    (call,) = fake.calls
    assert (call.method, call.path, call.status) == ("POST", "/api/v1/ext/inbound_emails", 200)
    stored = call.json["inbound_email"]
    assert stored["from_email"] == "sam@example.com"
    assert stored["from_name"] == "Sam Reporter"
    assert stored["to_email"] == "support@acme.kiket.dev"
    assert stored["subject"] == "Printer on fire"
    assert stored["text_body"] == "Again."
    assert stored["html_body"] == "<p>Again.</p>"
    assert answer.json()["metadata"]["inbound_email_id"] == call_id(fake)


def call_id(fake: FakeKiket):
    return fake.inbound_emails[-1]["id"]


def test_inbound_email_mailjet_body_with_query_token(
    mail: ModuleType, fake: FakeKiket, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MAILJET_WEBHOOK_TOKEN", "env-tok")  # ctx.secret falls back to env
    body = {
        "Sender": "reporter@example.com",
        "Recipient": "support@acme.kiket.dev",
        "Subject": "Hi",
        "Text-part": "t",
    }
    answer = _send(
        mail,
        fake,
        "external.webhook.inbound_email",
        secrets={},
        external_webhook=_relayed(body, query="env-tok"),
    )
    assert answer.status_code == 200, answer.text
    stored = fake.calls[0].json["inbound_email"]
    assert stored["from_email"] == "reporter@example.com"
    assert stored["text_body"] == "t"


@pytest.mark.parametrize(
    ("secrets", "hook"),
    [
        ({"MAILJET_WEBHOOK_TOKEN": "tok"}, _relayed(GENERIC, header="wrong")),
        ({"MAILJET_WEBHOOK_TOKEN": "tok"}, _relayed(GENERIC)),
        ({}, _relayed(GENERIC, header="tok")),
        ({"MAILJET_WEBHOOK_TOKEN": "tok"}, {**_relayed(GENERIC, header="tok"), "body": "no"}),
        ({"MAILJET_WEBHOOK_TOKEN": "tok"}, _relayed({"subject": "x"}, header="tok")),
    ],
    ids=["wrong-token", "no-token", "not-configured", "not-json", "no-addresses"],
)
def test_inbound_email_refusals_make_no_calls(mail: ModuleType, fake: FakeKiket, secrets, hook):
    answer = _send(
        mail, fake, "external.webhook.inbound_email", secrets=secrets, external_webhook=hook
    )
    assert answer.json()["status"] == "deny", answer.text
    assert fake.calls == []

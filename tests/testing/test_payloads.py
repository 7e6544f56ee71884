"""event_payload and set_path: spec examples as fresh, typed, overridable payloads."""

from __future__ import annotations

from typing import Any

import pytest

from kiket_sdk._generated.catalogue import EVENT_PAYLOADS, KNOWN_EVENTS
from kiket_sdk._generated.models import EventEnvelope, ExternalWebhookEvent
from kiket_sdk.testing import event_payload, set_path


@pytest.mark.parametrize(("event", "version"), sorted(EVENT_PAYLOADS))
def test_every_catalogued_event_has_a_payload_its_model_accepts(event: str, version: str) -> None:
    payload = event_payload(event, version)
    model = EVENT_PAYLOADS[(event, version)].model_validate(payload)
    assert model.model_dump(by_alias=True, exclude_unset=True)["event"] == event
    assert payload["event"] == event
    assert payload["id"].startswith("evt_")


def test_the_catalogue_and_the_payloads_agree() -> None:
    pairs = {(event, version) for event, versions in KNOWN_EVENTS.items() for version in versions}
    assert pairs == set(EVENT_PAYLOADS)


def test_each_call_gets_a_fresh_id_and_a_fresh_copy() -> None:
    first = event_payload("issue.created")
    first["issue"]["title"] = "changed"
    second = event_payload("issue.created")
    assert first["id"] != second["id"]
    assert second["issue"]["title"] == "Printer on fire"


def test_versions_are_compared_like_the_router_does() -> None:
    assert "actor" in event_payload("issue.created", "v2")
    assert "actor" in event_payload("issue.created", " 2 ")
    assert "actor" not in event_payload("issue.created", "1")


def test_overrides_set_nested_and_top_level_values() -> None:
    payload = event_payload(
        "issue.created",
        issue__title="Badge reader offline",
        issue__labels=["hw"],
        project={"id": 7},
        secrets__API_KEY="k",
        custom__deep__value=1,
        id="evt_fixed",
    )
    assert payload["issue"]["title"] == "Badge reader offline"
    assert payload["issue"]["key"] == "OPS-12"  # untouched siblings stay
    assert payload["issue"]["labels"] == ["hw"]
    assert payload["project"] == {"id": 7}
    assert payload["secrets"]["API_KEY"] == "k"
    assert payload["custom"] == {"deep": {"value": 1}}
    assert payload["id"] == "evt_fixed"


def test_event_type_follows_the_event_name() -> None:
    assert event_payload("issue.created")["event_type"] == "issue.created"


def test_unknown_events_get_a_minimal_envelope() -> None:
    payload = event_payload("slack.notify", channel="#ops")
    EventEnvelope.model_validate(payload)
    assert (payload["event"], payload["channel"]) == ("slack.notify", "#ops")
    assert payload["id"] != event_payload("slack.notify")["id"]
    assert "issue" not in payload


def test_unknown_external_webhooks_get_a_relayed_request() -> None:
    payload = event_payload("external.webhook.sync", external_webhook__body='{"a":1}')
    model = ExternalWebhookEvent.model_validate(payload)
    assert model.external_webhook.body == '{"a":1}'
    assert payload["action"] == "sync"


def test_a_known_event_at_an_unknown_version_gets_the_envelope() -> None:
    payload = event_payload("issue.created", "v9")
    assert payload["event"] == "issue.created"
    assert "issue" not in payload


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("issue.title", "X", {"issue": {"title": "X", "labels": ["a", "b"]}, "n": 1}),
        ("issue.labels.1", "c", {"issue": {"title": "T", "labels": ["a", "c"]}, "n": 1}),
        ("issue.labels.-1", "c", {"issue": {"title": "T", "labels": ["a", "c"]}, "n": 1}),
        (
            "new.deep",
            True,
            {"issue": {"title": "T", "labels": ["a", "b"]}, "n": 1, "new": {"deep": True}},
        ),
        ("n", 2, {"issue": {"title": "T", "labels": ["a", "b"]}, "n": 2}),
    ],
)
def test_set_path(path: str, value: Any, expected: dict[str, Any]) -> None:
    payload: dict[str, Any] = {"issue": {"title": "T", "labels": ["a", "b"]}, "n": 1}
    set_path(payload, path, value)
    assert payload == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("n.x", "n is a int"),
        ("issue.labels.5", "out of range"),
        ("issue..title", "not a dotted path"),
    ],
)
def test_set_path_refuses_what_it_cannot_set(path: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        set_path({"issue": {"labels": []}, "n": 1}, path, "X")


def test_a_bad_override_name_is_refused() -> None:
    with pytest.raises(ValueError, match="not an override name"):
        event_payload("issue.created", issue____title="X")

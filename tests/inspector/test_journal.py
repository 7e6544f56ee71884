"""The delivery journal: a ring buffer of deliveries assembled from observation records."""

from __future__ import annotations

from typing import Any

import pytest

from kiket_sdk._inspector.journal import DeliveryJournal
from kiket_sdk.observation import (
    DeferredStarted,
    DeliveryEnded,
    DeliveryObservers,
    HandlerFailed,
    LedgerChecked,
    OutboundCall,
    ProofChecked,
)


def _deliver(observers: DeliveryObservers, body: bytes = b"{}") -> int:
    observed = observers.start("issue.created", "v1", {"x-kiket-signature": "sha256=ab"}, body)
    observed.emit(ProofChecked(observed, "hmac"))
    observed.emit(LedgerChecked(observed, "first_run"))
    observed.emit(
        OutboundCall(observed, "POST", "http://k/api/x", "/api/x", 201, b"{}", b'{"ok":1}', 0, 0.1)
    )
    observed.emit(DeliveryEnded(observed, 200, b"{}", "evt_1", 0.25))
    return observed.serial


def test_a_delivery_is_assembled_from_its_records() -> None:
    journal = DeliveryJournal()
    observers = DeliveryObservers()
    observers.add(journal)
    serial = _deliver(observers, b'{"id":"evt_1"}')

    [entry] = journal.entries()
    assert entry["serial"] == serial
    assert entry["proof"] == {"kind": "hmac", "refused": None}
    assert (entry["ledger"], entry["status"], entry["duration"]) == ("first_run", 200, 0.25)
    assert entry["request"] == {
        "headers": {"x-kiket-signature": "sha256=ab"},
        "body": '{"id":"evt_1"}',
    }
    [call] = entry["timeline"]
    assert (call["kind"], call["path"], call["status"], call["response_body"]) == (
        "outbound",
        "/api/x",
        201,
        '{"ok":1}',
    )
    assert entry["time"].endswith("Z")
    stored = journal.entry(serial)
    assert stored is not None
    assert stored.body == b'{"id":"evt_1"}'


def test_answer_headers_and_who_made_each_outbound_call_are_kept() -> None:
    journal = DeliveryJournal()
    observers = DeliveryObservers()
    observers.add(journal)
    observed = observers.start("issue.created", "v1", {}, b"{}")
    listed = "http://k/a?filters=%7B%7D&limit=5&project_id=42"
    observed.emit(OutboundCall(observed, "GET", listed, "/a", 200, None, None, 0, 0.1))
    duplicate = {"x-kiket-duplicate": "true", "content-type": "application/json"}
    observed.emit(DeliveryEnded(observed, 200, b"{}", "evt_1", 0.2, jobs=1, headers=duplicate))
    observed.emit(DeferredStarted(observed, "app.notify", 1, 0.3))
    by_job = OutboundCall(observed, "POST", "http://k/b", "/b", 201, None, None, 0, 0.1, job=1)
    observed.emit(by_job)

    [entry] = journal.entries()
    assert entry["answer_headers"] == duplicate
    calls = [item for item in entry["timeline"] if item["kind"] == "outbound"]
    assert [(call["path"], call["job"], call["job_function"]) for call in calls] == [
        ("/a", None, None),
        ("/b", 1, "app.notify"),
    ]
    assert [call["query"] for call in calls] == ["filters=%7B%7D&limit=5&project_id=42", ""]


def test_the_oldest_delivery_is_dropped_past_capacity_and_late_records_are_ignored() -> None:
    journal = DeliveryJournal(capacity=2)
    observers = DeliveryObservers()
    observers.add(journal)
    first = observers.start("issue.created", "v1", {}, b"{}")
    serials = [_deliver(observers), _deliver(observers)]
    first.emit(DeliveryEnded(first, 500, b"", None, 1.0))  # its entry is gone: no error

    assert [entry["serial"] for entry in journal.entries()] == serials[::-1]
    assert journal.entry(first.serial) is None


def test_listeners_get_each_change_until_stopped() -> None:
    journal = DeliveryJournal()
    observers = DeliveryObservers()
    observers.add(journal)
    seen: list[dict[str, Any]] = []
    stop = journal.listen(seen.append)
    _deliver(observers)
    assert [entry["status"] for entry in seen] == [None, None, None, None, 200]
    stop()
    _deliver(observers)
    assert len(seen) == 5


def test_capacity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        DeliveryJournal(capacity=0)


def test_a_request_the_pipeline_never_saw_is_numbered_in_the_same_sequence() -> None:
    journal = DeliveryJournal()
    observers = DeliveryObservers()
    observers.add(journal)
    with journal.noticing() as started:
        _deliver(observers)
    assert started == [1]
    with journal.noticing() as started:
        journal.add_unrouted(
            ("GET", "/v/v1/webhooks/issue%2Ecreated", {}, b""),
            (405, {"allow": "POST"}, b"{}"),
            0.0,
            0.001,
        )
    assert started == []
    newest, oldest = journal.entries()
    assert (oldest["serial"], oldest["answered_by"]) == (1, "pipeline")
    assert (newest["serial"], newest["answered_by"], newest["method"]) == (2, "routing", "GET")
    assert (newest["event"], newest["version"], newest["status"]) == ("issue.created", "v1", 405)


def _raise_for_the_test() -> None:
    raise KeyError("contact 7")


def test_a_handler_failure_is_on_the_timeline_with_its_traceback() -> None:
    journal = DeliveryJournal()
    observers = DeliveryObservers()
    observers.add(journal)
    observed = observers.start("issue.created", "v1", {}, b"{}")
    try:
        _raise_for_the_test()
    except KeyError as exc:
        observed.emit(HandlerFailed(observed, "builtins.KeyError", str(exc), False, exc))
    observed.emit(DeliveryEnded(observed, 500, b'{"error":"handler failed"}', None, 0.01))

    [entry] = journal.entries()
    [failed] = entry["timeline"]
    assert failed["kind"] == "handler_failed"
    assert (failed["error_type"], failed["message"], failed["timed_out"]) == (
        "builtins.KeyError",
        "'contact 7'",
        False,
    )
    assert "_raise_for_the_test" in failed["traceback"]
    assert failed["traceback"].rstrip().endswith("KeyError: 'contact 7'")
    assert failed["at"] >= 0

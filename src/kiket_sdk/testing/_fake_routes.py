"""What the fake Kiket API does for each operation of the spec, keyed by ``operationId``.

A route takes the state, the checked parameters (path, query and header values by name, typed and
with defaults) and the checked JSON body, and returns ``(status, body)``; errors are raised as
``ProblemError``. This module holds the extension, custom data, SLA, webhook URL, secret and JWKS
routes; intake forms and audit live beside it. Together they must cover every operation of the
spec (a test checks it).

>>> from kiket_sdk.testing._fake_store import FakeKiketState
>>> ROUTES["set_secret"](FakeKiketState(), {"extension_id": "x", "key": "K"}, {"value": "v"})
(200, {'ok': True})
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from kiket_sdk.testing._fake_problem import ProblemError
from kiket_sdk.testing._fake_store import FakeKiketState

__all__ = ["ACK", "ROUTES", "Answer", "Params", "Route", "RouteTable", "limited", "timestamp"]

Params = dict[str, Any]
Answer = tuple[int, Any]
Route = Callable[[FakeKiketState, Params, Any], Answer]
ACK = {"ok": True}


class RouteTable(dict[str, Route]):
    """Routes by operation id; ``@table.add("operation_id")`` registers one."""

    def add(self, operation_id: str) -> Callable[[Route], Route]:
        def register(function: Route) -> Route:
            self[operation_id] = function
            return function

        return register


ROUTES = RouteTable()
route = ROUTES.add


def limited(items: Iterable[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """Copies of the first ``limit`` items (all when ``limit`` is ``None``)."""
    found = [dict(item) for item in items]
    return found if limit is None else found[:limit]


def timestamp(text: str, name: str) -> datetime:
    """An ISO-8601 text as an aware datetime (UTC when no offset); 400 problem if malformed."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ProblemError(400, f"{name} must be an ISO-8601 timestamp, not {text!r}.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- extension ------------------------------------------------------------------------------------
@route("get_rate_limit")
def _rate_limit(state: FakeKiketState, params: Params, body: Any) -> Answer:
    limiter = state.rate_limiter
    return 200, {
        "rate_limit": {
            "limit": limiter.limit,
            "remaining": limiter.remaining,
            "window_seconds": round(limiter.window_seconds),
            "reset_in": limiter.reset_in,
        }
    }


@route("update_configuration")
def _configure(state: FakeKiketState, params: Params, body: Any) -> Answer:
    state.configuration.update(body["configuration"])
    state.configuration_updates.append(dict(body["configuration"]))
    return 200, ACK


@route("get_extension_metadata")
def _metadata(state: FakeKiketState, params: Params, body: Any) -> Answer:
    extension_id = params["extension_id"]
    return 200, state.extensions.get(extension_id, {"id": extension_id})


@route("log_extension_event")
def _log_event(state: FakeKiketState, params: Params, body: Any) -> Answer:
    state.events.append({"extension_id": params["extension_id"], **body})
    return 200, ACK


@route("send_notification")
def _notify(state: FakeKiketState, params: Params, body: Any) -> Answer:
    state.notifications.append({"level": "info", **body})
    return 200, ACK


@route("emit_metric")
def _metric(state: FakeKiketState, params: Params, body: Any) -> Answer:
    state.metrics.append({"unit": "count", **body})
    return 200, ACK


@route("send_telemetry")
def _telemetry(state: FakeKiketState, params: Params, body: Any) -> Answer:
    state.telemetry.append(dict(body))
    return 200, ACK


@route("create_inbound_email")
def _inbound_email(state: FakeKiketState, params: Params, body: Any) -> Answer:
    email_id = state.next_id()
    state.inbound_emails.append({"id": email_id, **body["inbound_email"]})
    return 200, {"id": email_id, "status": "queued"}


# -- custom data ----------------------------------------------------------------------------------
def _rows(state: FakeKiketState, params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return state.table(params["module_key"], params["table"], params["project_id"])


def _row(state: FakeKiketState, params: dict[str, Any]) -> dict[str, Any]:
    row = _rows(state, params).get(str(params["record_id"]))
    if row is None:
        where = f"{params['module_key']}/{params['table']} of project {params['project_id']}"
        raise ProblemError(404, f"No record {params['record_id']} in table {where}.")
    return row


@route("list_custom_data_records")
def _list_records(state: FakeKiketState, params: Params, body: Any) -> Answer:
    filters: Mapping[str, Any] = params.get("filters") or {}
    rows = _rows(state, params).values()
    matching = (row for row in rows if all(row.get(k) == v for k, v in filters.items()))
    return 200, {"data": limited(matching, params["limit"])}


@route("get_custom_data_record")
def _get_record(state: FakeKiketState, params: Params, body: Any) -> Answer:
    return 200, {"data": dict(_row(state, params))}


@route("create_custom_data_record")
def _create_record(state: FakeKiketState, params: Params, body: Any) -> Answer:
    row = {**body["record"], "id": state.next_id()}
    _rows(state, params)[str(row["id"])] = row
    return 200, {"data": dict(row)}


@route("update_custom_data_record")
def _update_record(state: FakeKiketState, params: Params, body: Any) -> Answer:
    row = _row(state, params)
    row.update({key: value for key, value in body["record"].items() if key != "id"})
    return 200, {"data": dict(row)}


@route("delete_custom_data_record")
def _delete_record(state: FakeKiketState, params: Params, body: Any) -> Answer:
    _row(state, params)
    del _rows(state, params)[str(params["record_id"])]
    return 204, None


# -- SLA events -----------------------------------------------------------------------------------
@route("list_sla_events")
def _sla_events(state: FakeKiketState, params: Params, body: Any) -> Answer:
    def wanted(event: dict[str, Any]) -> bool:
        return (
            str(event.get("project_id", params["project_id"])) == str(params["project_id"])
            and ("issue_id" not in params or str(event["issue_id"]) == str(params["issue_id"]))
            and params.get("state", event["state"]) == event["state"]
        )

    events = sorted(
        filter(wanted, state.sla_events), key=lambda e: e.get("triggered_at", ""), reverse=True
    )
    return 200, {"data": limited(events, params.get("limit"))}


# -- external webhook URLs ------------------------------------------------------------------------
@route("get_webhook_url")
def _webhook_url(state: FakeKiketState, params: Params, body: Any) -> Answer:
    return 200, state.webhook_url(params["action_name"])


@route("rotate_webhook_url")
def _rotate_url(state: FakeKiketState, params: Params, body: Any) -> Answer:
    return 200, state.webhook_url(params["action_name"], rotate=True)


# -- secrets --------------------------------------------------------------------------------------
@route("list_secrets")
def _list_secrets(state: FakeKiketState, params: Params, body: Any) -> Answer:
    return 200, {"keys": sorted(state.secrets.get(params["extension_id"], {}))}


@route("get_secret")
def _get_secret(state: FakeKiketState, params: Params, body: Any) -> Answer:
    value = state.secrets.get(params["extension_id"], {}).get(params["key"])
    if value is None:
        detail = f"No secret {params['key']} for extension {params['extension_id']}."
        raise ProblemError(404, detail)
    return 200, {"value": value}


@route("set_secret")
def _set_secret(state: FakeKiketState, params: Params, body: Any) -> Answer:
    state.secrets.setdefault(params["extension_id"], {})[params["key"]] = body["value"]
    return 200, ACK


@route("delete_secret")
def _delete_secret(state: FakeKiketState, params: Params, body: Any) -> Answer:
    state.secrets.get(params["extension_id"], {}).pop(params["key"], None)
    return 200, ACK


# -- JWKS -----------------------------------------------------------------------------------------
@route("get_jwks")
def _jwks(state: FakeKiketState, params: Params, body: Any) -> Answer:
    return 200, state.jwks

"""Intake form routes of the fake Kiket API (forms are seeded with ``seed_intake_form``).

Submissions made through the API start ``pending``; approve and reject move a pending one on (a
second review answers 409). A required form field missing from the data answers 422, as does a
submission to an inactive form. Stats count the stored submissions.

>>> from kiket_sdk.testing._fake_store import FakeKiketState
>>> state = FakeKiketState()
>>> _ = state.seed_intake_form("bugs", project_id=1)
>>> status, made = ROUTES["create_intake_submission"](
...     state, {"form_key": "bugs"}, {"project_id": 1, "data": {"summary": "Broken"}})
>>> status, made["status"]
(201, 'pending')
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kiket_sdk.testing._fake_problem import ProblemError
from kiket_sdk.testing._fake_routes import Answer, Params, RouteTable, limited, timestamp
from kiket_sdk.testing._fake_store import FakeKiketState, now_iso

__all__ = ["ROUTES"]

ROUTES = RouteTable()
_PERIODS = {"day": timedelta(days=1), "week": timedelta(weeks=1), "month": timedelta(days=30)}
_STATUSES = ("pending", "approved", "rejected", "converted")


def _form(state: FakeKiketState, form_key: str, project_id: int | str) -> dict[str, Any]:
    form = state.intake_form(form_key, project_id)
    if form is None:
        raise ProblemError(
            404,
            f"No intake form {form_key} in project {project_id}. "
            f"Seed one with fake.seed_intake_form({form_key!r}, project_id={project_id!r}).",
        )
    return form


def _view(state: FakeKiketState, form: dict[str, Any], project_id: int | str) -> dict[str, Any]:
    return {**form, "submissions_count": len(state.submissions(form["key"], project_id))}


def _submission(state: FakeKiketState, params: Params, project_id: Any) -> dict[str, Any]:
    _form(state, params["form_key"], project_id)
    wanted = str(params["submission_id"])
    for submission in state.submissions(params["form_key"], project_id):
        if str(submission["id"]) == wanted:
            return submission
    raise ProblemError(404, f"No submission {wanted} of intake form {params['form_key']}.")


@ROUTES.add("list_intake_forms")
def _list_forms(state: FakeKiketState, params: Params, body: Any) -> Answer:
    project_id = params["project_id"]
    forms = [
        _view(state, form, project_id)
        for form in state.intake_forms.get(str(project_id), {}).values()
        if params.get("active", form.get("active")) == form.get("active")
        and params.get("public", form.get("public")) == form.get("public")
    ]
    return 200, {"data": limited(forms, params.get("limit"))}


@ROUTES.add("get_intake_form")
def _get_form(state: FakeKiketState, params: Params, body: Any) -> Answer:
    form = _form(state, params["form_key"], params["project_id"])
    return 200, _view(state, form, params["project_id"])


@ROUTES.add("list_intake_submissions")
def _list_submissions(state: FakeKiketState, params: Params, body: Any) -> Answer:
    project_id = params["project_id"]
    _form(state, params["form_key"], project_id)
    since = timestamp(params["since"], "since") if "since" in params else None
    found = [
        submission
        for submission in state.submissions(params["form_key"], project_id)
        if params.get("status", submission["status"]) == submission["status"]
        and (since is None or timestamp(submission["created_at"], "created_at") >= since)
    ]
    return 200, {"data": limited(found, params.get("limit"))}


@ROUTES.add("get_intake_submission")
def _get_submission(state: FakeKiketState, params: Params, body: Any) -> Answer:
    return 200, dict(_submission(state, params, params["project_id"]))


@ROUTES.add("create_intake_submission")
def _create_submission(state: FakeKiketState, params: Params, body: Any) -> Answer:
    project_id = body["project_id"]
    form = _form(state, params["form_key"], project_id)
    if form.get("active") is False:
        raise ProblemError(422, f"Intake form {form['key']} is not active.")
    missing = [
        field["key"]
        for field in form.get("fields", [])
        if field.get("required") and field["key"] not in body["data"]
    ]
    if missing:
        raise ProblemError(422, f"Missing required fields: {', '.join(missing)}.")
    extra = {"metadata": body["metadata"]} if "metadata" in body else {}
    made = state.seed_intake_submission(
        form["key"], project_id=project_id, data=body["data"], **extra
    )
    return 201, made


def _review(
    state: FakeKiketState, params: dict[str, Any], body: Any, status: str
) -> dict[str, Any]:
    submission = _submission(state, params, body["project_id"])
    if submission["status"] != "pending":
        raise ProblemError(
            409,
            f"Submission {submission['id']} is already {submission['status']}; only "
            "pending submissions can be reviewed.",
        )
    stamp = now_iso()
    submission.update(status=status, reviewed_at=stamp, updated_at=stamp)
    if "notes" in body:
        submission["notes"] = body["notes"]
    return dict(submission)


@ROUTES.add("approve_intake_submission")
def _approve(state: FakeKiketState, params: Params, body: Any) -> Answer:
    return 200, _review(state, params, body, "approved")


@ROUTES.add("reject_intake_submission")
def _reject(state: FakeKiketState, params: Params, body: Any) -> Answer:
    return 200, _review(state, params, body, "rejected")


@ROUTES.add("get_intake_form_stats")
def _stats(state: FakeKiketState, params: Params, body: Any) -> Answer:
    project_id = params["project_id"]
    _form(state, params["form_key"], project_id)
    submissions = state.submissions(params["form_key"], project_id)
    period = params.get("period")
    if period in _PERIODS:
        start = datetime.now(UTC) - _PERIODS[period]
        submissions = [s for s in submissions if timestamp(s["created_at"], "created_at") >= start]
    stats: dict[str, Any] = {"total_submissions": len(submissions)}
    for status in _STATUSES:
        stats[status] = sum(1 for submission in submissions if submission["status"] == status)
    if period is not None:
        stats["period"] = period
    return 200, stats

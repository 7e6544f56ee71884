"""Project-scoped helpers of ``ctx.endpoints``: custom data, SLA events and intake forms.

Each is made for one project (``ctx.endpoints.custom_data(project_id)``) and sends that
``project_id`` with every call; the answers are the generated models. Blocking classes and their
awaited twins (``Async...``) sit side by side with the same methods.

```python
rows = ctx.endpoints.custom_data(42).list("com.example.crm", "contacts", filters={"status": "new"})
events = ctx.endpoints.sla_events(42).list(state="breached", limit=5)
form = ctx.endpoints.intake_forms(42).get("bug-report")
```
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kiket_sdk._client import AsyncKiketClient, KiketClient
from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._generated.models import (
    CustomDataListResponse,
    CustomDataRecordResponse,
    IntakeForm,
    IntakeFormListResponse,
    IntakeFormStats,
    IntakeSubmission,
    IntakeSubmissionListResponse,
    SlaEventListResponse,
)

__all__ = [
    "AsyncCustomDataClient",
    "AsyncIntakeFormsClient",
    "AsyncSlaEventsClient",
    "CustomDataClient",
    "IntakeFormsClient",
    "SlaEventsClient",
]

ProjectId = int | str
Record = Mapping[str, Any]


def checked_project_id(project_id: ProjectId | None, helper: str) -> ProjectId:
    """``project_id``, or a ``ConfigurationError`` when it is missing or blank."""
    if project_id is None or (isinstance(project_id, str) and not project_id.strip()):
        raise ConfigurationError(
            f"{helper}(project_id) needs a project id, e.g. the delivery's issue.project_id."
        )
    return project_id


def _optional_dict(value: Record | None) -> dict[str, Any] | None:
    return None if value is None else dict(value)


def _stamp(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _form_url(form: IntakeForm) -> str | None:
    # A form marked private has no public URL, whatever the API put in form_url.
    return None if form.public is False else form.form_url


# --- custom data ----------------------------------------------------------------------------


class CustomDataClient:
    """Records of the custom data tables of one project (blocking)."""

    def __init__(self, client: KiketClient, project_id: ProjectId) -> None:
        self._resource = client.custom_data
        self.project_id: ProjectId = checked_project_id(project_id, "custom_data")

    def list(
        self, module: str, table: str, limit: int | None = 50, filters: Record | None = None
    ) -> CustomDataListResponse:
        """Records of ``module``/``table``; ``filters`` is sent as one JSON-encoded object."""
        return self._resource.list(
            module, table, project_id=self.project_id, limit=limit, filters=_optional_dict(filters)
        )

    def get(self, module: str, table: str, record_id: int | str) -> CustomDataRecordResponse:
        """One record by id."""
        return self._resource.get(module, table, record_id, project_id=self.project_id)

    def create(self, module: str, table: str, record: Record) -> CustomDataRecordResponse:
        """Insert ``record``; the answer is the record as stored."""
        return self._resource.create(module, table, project_id=self.project_id, record=dict(record))

    def update(
        self, module: str, table: str, record_id: int | str, record: Record
    ) -> CustomDataRecordResponse:
        """Change the given columns of a record; the answer is the record as stored."""
        return self._resource.update(
            module, table, record_id, project_id=self.project_id, record=dict(record)
        )

    def delete(self, module: str, table: str, record_id: int | str) -> None:
        """Remove a record."""
        self._resource.delete(module, table, record_id, project_id=self.project_id)


class AsyncCustomDataClient:
    """Records of the custom data tables of one project (awaited twin of ``CustomDataClient``)."""

    def __init__(self, client: AsyncKiketClient, project_id: ProjectId) -> None:
        self._resource = client.custom_data
        self.project_id: ProjectId = checked_project_id(project_id, "custom_data")

    async def list(
        self, module: str, table: str, limit: int | None = 50, filters: Record | None = None
    ) -> CustomDataListResponse:
        """Records of ``module``/``table``; ``filters`` is sent as one JSON-encoded object."""
        return await self._resource.list(
            module, table, project_id=self.project_id, limit=limit, filters=_optional_dict(filters)
        )

    async def get(self, module: str, table: str, record_id: int | str) -> CustomDataRecordResponse:
        """One record by id."""
        return await self._resource.get(module, table, record_id, project_id=self.project_id)

    async def create(self, module: str, table: str, record: Record) -> CustomDataRecordResponse:
        """Insert ``record``; the answer is the record as stored."""
        return await self._resource.create(
            module, table, project_id=self.project_id, record=dict(record)
        )

    async def update(
        self, module: str, table: str, record_id: int | str, record: Record
    ) -> CustomDataRecordResponse:
        """Change the given columns of a record; the answer is the record as stored."""
        return await self._resource.update(
            module, table, record_id, project_id=self.project_id, record=dict(record)
        )

    async def delete(self, module: str, table: str, record_id: int | str) -> None:
        """Remove a record."""
        await self._resource.delete(module, table, record_id, project_id=self.project_id)


# --- SLA events -----------------------------------------------------------------------------


class SlaEventsClient:
    """SLA events of one project (blocking)."""

    def __init__(self, client: KiketClient, project_id: ProjectId) -> None:
        self._resource = client.sla_events
        self.project_id: ProjectId = checked_project_id(project_id, "sla_events")

    def list(
        self,
        state: str | None = None,
        limit: int | None = None,
        issue_id: int | str | None = None,
    ) -> SlaEventListResponse:
        """Events, newest first; ``state``: imminent, breached or recovered."""
        return self._resource.list(
            project_id=self.project_id, issue_id=issue_id, state=state, limit=limit
        )


class AsyncSlaEventsClient:
    """SLA events of one project (awaited twin of ``SlaEventsClient``)."""

    def __init__(self, client: AsyncKiketClient, project_id: ProjectId) -> None:
        self._resource = client.sla_events
        self.project_id: ProjectId = checked_project_id(project_id, "sla_events")

    async def list(
        self,
        state: str | None = None,
        limit: int | None = None,
        issue_id: int | str | None = None,
    ) -> SlaEventListResponse:
        """Events, newest first; ``state``: imminent, breached or recovered."""
        return await self._resource.list(
            project_id=self.project_id, issue_id=issue_id, state=state, limit=limit
        )


# --- intake forms ---------------------------------------------------------------------------


class IntakeFormsClient:
    """Intake forms of one project and their submissions (blocking)."""

    def __init__(self, client: KiketClient, project_id: ProjectId) -> None:
        self._resource = client.intake_forms
        self.project_id: ProjectId = checked_project_id(project_id, "intake_forms")

    def list(
        self, active: bool | None = None, public: bool | None = None, limit: int | None = None
    ) -> IntakeFormListResponse:
        """The project's forms, optionally only active/inactive or public/private ones."""
        return self._resource.list(
            project_id=self.project_id, active=active, public=public, limit=limit
        )

    def get(self, form_key: str) -> IntakeForm:
        """One form with its fields."""
        return self._resource.get(form_key, project_id=self.project_id)

    def public_url(self, form: IntakeForm | str) -> str | None:
        """A form's public ``form_url`` (a key is fetched first); ``None`` for a private form."""
        return _form_url(self.get(form) if isinstance(form, str) else form)

    def list_submissions(
        self,
        form_key: str,
        status: str | None = None,
        limit: int | None = None,
        since: datetime | str | None = None,
    ) -> IntakeSubmissionListResponse:
        """Submissions of a form; ``status``: pending, approved, rejected or converted."""
        return self._resource.list_submissions(
            form_key, project_id=self.project_id, status=status, limit=limit, since=_stamp(since)
        )

    def get_submission(self, form_key: str, submission_id: int | str) -> IntakeSubmission:
        """One submission of a form."""
        return self._resource.get_submission(form_key, submission_id, project_id=self.project_id)

    def create_submission(
        self, form_key: str, data: Record, metadata: Record | None = None
    ) -> IntakeSubmission:
        """Submit the form with ``data`` (answers keyed by field key)."""
        return self._resource.create_submission(
            form_key, project_id=self.project_id, data=dict(data), metadata=_optional_dict(metadata)
        )

    def approve_submission(
        self, form_key: str, submission_id: int | str, notes: str | None = None
    ) -> IntakeSubmission:
        """Approve a pending submission."""
        return self._resource.approve_submission(
            form_key, submission_id, project_id=self.project_id, notes=notes
        )

    def reject_submission(
        self, form_key: str, submission_id: int | str, notes: str | None = None
    ) -> IntakeSubmission:
        """Reject a pending submission."""
        return self._resource.reject_submission(
            form_key, submission_id, project_id=self.project_id, notes=notes
        )

    def stats(self, form_key: str, period: str | None = None) -> IntakeFormStats:
        """Submission counts per status; ``period``: day, week or month."""
        return self._resource.stats(form_key, project_id=self.project_id, period=period)


class AsyncIntakeFormsClient:
    """Intake forms of one project (awaited twin of ``IntakeFormsClient``)."""

    def __init__(self, client: AsyncKiketClient, project_id: ProjectId) -> None:
        self._resource = client.intake_forms
        self.project_id: ProjectId = checked_project_id(project_id, "intake_forms")

    async def list(
        self, active: bool | None = None, public: bool | None = None, limit: int | None = None
    ) -> IntakeFormListResponse:
        """The project's forms, optionally only active/inactive or public/private ones."""
        return await self._resource.list(
            project_id=self.project_id, active=active, public=public, limit=limit
        )

    async def get(self, form_key: str) -> IntakeForm:
        """One form with its fields."""
        return await self._resource.get(form_key, project_id=self.project_id)

    async def public_url(self, form: IntakeForm | str) -> str | None:
        """A form's public ``form_url`` (a key is fetched first); ``None`` for a private form."""
        return _form_url(await self.get(form) if isinstance(form, str) else form)

    async def list_submissions(
        self,
        form_key: str,
        status: str | None = None,
        limit: int | None = None,
        since: datetime | str | None = None,
    ) -> IntakeSubmissionListResponse:
        """Submissions of a form; ``status``: pending, approved, rejected or converted."""
        return await self._resource.list_submissions(
            form_key, project_id=self.project_id, status=status, limit=limit, since=_stamp(since)
        )

    async def get_submission(self, form_key: str, submission_id: int | str) -> IntakeSubmission:
        """One submission of a form."""
        return await self._resource.get_submission(
            form_key, submission_id, project_id=self.project_id
        )

    async def create_submission(
        self, form_key: str, data: Record, metadata: Record | None = None
    ) -> IntakeSubmission:
        """Submit the form with ``data`` (answers keyed by field key)."""
        return await self._resource.create_submission(
            form_key, project_id=self.project_id, data=dict(data), metadata=_optional_dict(metadata)
        )

    async def approve_submission(
        self, form_key: str, submission_id: int | str, notes: str | None = None
    ) -> IntakeSubmission:
        """Approve a pending submission."""
        return await self._resource.approve_submission(
            form_key, submission_id, project_id=self.project_id, notes=notes
        )

    async def reject_submission(
        self, form_key: str, submission_id: int | str, notes: str | None = None
    ) -> IntakeSubmission:
        """Reject a pending submission."""
        return await self._resource.reject_submission(
            form_key, submission_id, project_id=self.project_id, notes=notes
        )

    async def stats(self, form_key: str, period: str | None = None) -> IntakeFormStats:
        """Submission counts per status; ``period``: day, week or month."""
        return await self._resource.stats(form_key, project_id=self.project_id, period=period)

"""The in-memory state of ``FakeKiket``: what the fake platform knows, and what it was told.

``FakeKiketState`` holds the data the API serves (custom data records, secrets, intake forms, SLA
events, audit anchors, ...) with ``seed_*`` methods to prepare it, and records what extensions
sent (``events``, ``notifications``, ``metrics``, ``telemetry``, ``inbound_emails``,
``configuration_updates``). Seeded objects are checked against the spec's schemas right away, so
a malformed seed fails where it is written rather than in a later answer.

>>> state = FakeKiketState()
>>> form = state.seed_intake_form("bug-report", project_id=42, name="Bug report")
>>> form["key"], form["active"], state.seed_secrets("com.example", {"API_KEY": "k"})
('bug-report', True, None)
"""

from __future__ import annotations

import itertools
import secrets as token_source
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from kiket_sdk.testing._fake_audit import content_hash, merkle_tree
from kiket_sdk.testing._fake_rate_limit import RateLimiter
from kiket_sdk.testing._spec import error_messages, schema_validator
from kiket_sdk.testing._strict_json import check_json

__all__ = ["FakeKiketState", "checked", "now_iso"]


def now_iso() -> str:
    """The current UTC time as ISO-8601 text (``2026-01-15T10:00:00Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def checked(schema: str, value: dict[str, Any], what: str) -> dict[str, Any]:
    """``value`` if it matches the spec's component ``schema``; ``ValueError`` otherwise."""
    errors = error_messages(schema_validator(("components", "schemas", schema)), value)
    if errors:
        raise ValueError(f"{what} does not match the {schema} schema: {'; '.join(errors)}")
    return value


class FakeKiketState:
    """Data served by the fake Kiket API and everything extensions sent to it.

    Project ids are compared as text: ``42`` and ``"42"`` are the same project.
    """

    def __init__(
        self,
        *,
        rate_limit: int = 600,
        rate_limit_window: float = 60.0,
        webhook_base_url: str = "https://kiket.dev",
    ) -> None:
        self.rate_limiter: RateLimiter = RateLimiter(rate_limit, rate_limit_window)
        self.webhook_base_url: str = webhook_base_url.rstrip("/")
        self.jwks: dict[str, Any] = {"keys": []}
        self._ids = itertools.count(1)
        self.tables: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        self.secrets: dict[str, dict[str, str]] = {}
        self.sla_events: list[dict[str, Any]] = []
        self.intake_forms: dict[str, dict[str, dict[str, Any]]] = {}
        self.intake_submissions: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook_tokens: dict[str, str] = {}
        self.configuration: dict[str, Any] = {}
        self.configuration_updates: list[dict[str, Any]] = []
        self.inbound_emails: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.metrics: list[dict[str, Any]] = []
        self.telemetry: list[dict[str, Any]] = []
        self.extensions: dict[str, dict[str, Any]] = {}
        self.audit_anchors: list[dict[str, Any]] = []
        self.audit_proofs: dict[tuple[str, str], dict[str, Any]] = {}

    def next_id(self) -> int:
        """A fresh integer id (one sequence for every kind of object)."""
        return next(self._ids)

    # -- custom data ------------------------------------------------------------------------------
    def table(self, module: str, table: str, project_id: int | str) -> dict[str, dict[str, Any]]:
        """The live rows of one custom data table, keyed by the record id as text."""
        return self.tables.setdefault((str(project_id), module, table), {})

    def records(self, module: str, table: str, *, project_id: int | str) -> list[dict[str, Any]]:
        """A copy of the records stored in one table, oldest first."""
        return [dict(row) for row in self.table(module, table, project_id).values()]

    def seed_records(
        self,
        module: str,
        table: str,
        records: Iterable[Mapping[str, Any]],
        *,
        project_id: int | str,
    ) -> list[dict[str, Any]]:
        """Store records, replacing a stored one of the same ``id``; returns them as stored.

        Records without an ``id`` get a fresh integer one that no record of the table, stored or
        in ``records``, has. Raises ``ValueError`` for a record that does not match the spec's
        ``CustomDataRecord`` schema or that strict JSON cannot carry (``NaN``, ``Infinity``: the
        fake never answers invalid JSON); the records before it are stored.
        """
        rows = self.table(module, table, project_id)
        batch = [dict(record) for record in records]
        taken = set(rows) | {str(record["id"]) for record in batch if "id" in record}
        stored: list[dict[str, Any]] = []
        for record in batch:
            if "id" not in record:
                fresh = self.next_id()
                while str(fresh) in taken:
                    fresh = self.next_id()
                taken.add(str(fresh))
                record["id"] = fresh
            row = {**record, "id": record["id"]}
            check_json(row, "seeded record")
            rows[str(row["id"])] = checked("CustomDataRecord", row, "seeded record")
            stored.append(dict(row))
        return stored

    # -- secrets, extensions ----------------------------------------------------------------------
    def seed_secrets(self, extension_id: str, values: Mapping[str, str]) -> None:
        """Store secrets of an extension, as if set earlier through the API.

        Raises ``ValueError`` (and stores none of ``values``) for a value that is not text, or
        text strict JSON cannot carry (a lone surrogate).
        """
        for name, value in values.items():
            if not isinstance(value, str):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise ValueError(f"secret {name!r} must be text, got {type(value).__name__}")
        check_json(dict(values), f"the secrets of {extension_id}")
        self.secrets.setdefault(extension_id, {}).update(values)

    def seed_extension(self, extension_id: str, **metadata: Any) -> dict[str, Any]:
        """What ``GET /api/v1/extensions/{extension_id}`` answers (default: just the id)."""
        entry = checked("ExtensionMetadata", {"id": extension_id, **metadata}, "extension")
        self.extensions[extension_id] = entry
        return entry

    # -- SLA events -------------------------------------------------------------------------------
    def seed_sla_events(self, events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add SLA events (``id`` and ``triggered_at`` are filled in when missing).

        Raises ``ValueError`` for an event that does not match the spec's ``SlaEvent`` schema
        or that strict JSON cannot carry (``NaN``, ``Infinity``); the events before it are added.
        """
        added: list[dict[str, Any]] = []
        for event in events:
            entry = {"id": self.next_id(), "triggered_at": now_iso(), **event}
            check_json(entry, "seeded SLA event")
            self.sla_events.append(checked("SlaEvent", entry, "seeded SLA event"))
            added.append(dict(entry))
        return added

    # -- intake forms -----------------------------------------------------------------------------
    def seed_intake_form(
        self,
        key: str,
        *,
        project_id: int | str,
        name: str | None = None,
        fields: Iterable[Mapping[str, Any]] = (),
        active: bool = True,
        public: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Create an intake form of a project; ``extra`` sets any other IntakeForm field."""
        stamp = now_iso()
        form = {
            "id": self.next_id(),
            "key": key,
            "name": name or key.replace("-", " ").replace("_", " ").capitalize(),
            "active": active,
            "public": public,
            "fields": [dict(field) for field in fields],
            "embed_allowed": False,
            "submissions_count": 0,
            "created_at": stamp,
            "updated_at": stamp,
            **extra,
        }
        self.intake_forms.setdefault(str(project_id), {})[key] = checked(
            "IntakeForm", form, "seeded intake form"
        )
        return dict(form)

    def intake_form(self, key: str, project_id: int | str) -> dict[str, Any] | None:
        """The stored form (live), or ``None``."""
        return self.intake_forms.get(str(project_id), {}).get(key)

    def submissions(self, form_key: str, project_id: int | str) -> list[dict[str, Any]]:
        """The live list of submissions made through a form."""
        return self.intake_submissions.setdefault((str(project_id), form_key), [])

    def seed_intake_submission(
        self,
        form_key: str,
        *,
        project_id: int | str,
        data: Mapping[str, Any],
        status: str = "pending",
        **extra: Any,
    ) -> dict[str, Any]:
        """Add a submission to a seeded form (seed the form first)."""
        form = self.intake_form(form_key, project_id)
        if form is None:
            raise ValueError(
                f"no intake form {form_key!r} in project {project_id}: "
                f"call seed_intake_form({form_key!r}, project_id={project_id!r}) first"
            )
        stamp = now_iso()
        submission = {
            "id": self.next_id(),
            "intake_form_id": form["id"],
            "status": status,
            "data": dict(data),
            "created_at": stamp,
            "updated_at": stamp,
            **extra,
        }
        checked("IntakeSubmission", submission, "seeded intake submission")
        self.submissions(form_key, project_id).append(submission)
        return dict(submission)

    # -- webhook URLs -----------------------------------------------------------------------------
    def webhook_url(self, action_name: str, *, rotate: bool = False) -> dict[str, str]:
        """The ``{webhook_url, webhook_token}`` of an action (a new token when ``rotate``)."""
        if rotate or action_name not in self.webhook_tokens:
            self.webhook_tokens[action_name] = "whk_" + token_source.token_hex(8)
        token = self.webhook_tokens[action_name]
        return {"webhook_url": f"{self.webhook_base_url}/hooks/ext/{token}", "webhook_token": token}

    # -- audit ------------------------------------------------------------------------------------
    def seed_audit_anchor(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        record_type: str = "AuditLog",
        network: str = "polygon",
        status: str = "confirmed",
        **extra: Any,
    ) -> dict[str, Any]:
        """Anchor audit records (each with an ``id``) under a real Merkle root.

        Proofs of the records become readable through ``GET /api/v1/audit/records/{id}/proof``
        and pass ``POST /api/v1/audit/verify``. Returns the anchor, ``records`` included.
        """
        batch = [dict(record) for record in records]
        if not batch or any("id" not in record for record in batch):
            raise ValueError("seed_audit_anchor needs at least one record, each with an 'id'")
        leaves = [content_hash(record) for record in batch]
        root, proofs = merkle_tree(leaves)
        stamp = now_iso()
        on_chain = status in ("submitted", "confirmed")
        confirmed = status == "confirmed"
        anchor: dict[str, Any] = {
            "id": self.next_id(),
            "merkle_root": root,
            "leaf_count": len(batch),
            "first_record_at": stamp,
            "last_record_at": stamp,
            "network": network,
            "status": status,
            "tx_hash": content_hash({"anchored_root": root}) if on_chain else None,
            "block_number": 50_000_000 + len(self.audit_anchors) if confirmed else None,
            "block_timestamp": stamp if confirmed else None,
            "confirmed_at": stamp if confirmed else None,
            "explorer_url": None,
            "created_at": stamp,
            "records": [
                {"id": r["id"], "type": record_type, "leaf_index": i, "content_hash": leaves[i]}
                for i, r in enumerate(batch)
            ],
            **extra,
        }
        self.audit_anchors.append(checked("AuditAnchor", anchor, "seeded audit anchor"))
        for index, record in enumerate(batch):
            self.audit_proofs[(record_type, str(record["id"]))] = {
                "record_id": record["id"],
                "record_type": record_type,
                "content_hash": leaves[index],
                "anchor_id": anchor["id"],
                "merkle_root": root,
                "leaf_index": index,
                "leaf_count": len(batch),
                "proof": proofs[index],
                "network": anchor["network"],
                "tx_hash": anchor["tx_hash"],
                "block_number": anchor["block_number"],
                "block_timestamp": anchor["block_timestamp"],
                "verified": confirmed,
                "verification_url": f"{self.webhook_base_url}/audit/verify/{record['id']}",
            }
        return dict(anchor)

"""Editing the fake Kiket's state in place: the inspector's record, secret and SLA event tables.

Every change is made on the fake's own state, under its lock (``FakeKiket.locked``), through
its own ``seed_*`` methods where one exists, so a record is checked against the spec's
``CustomDataRecord`` schema exactly as a seeded one is. ``KeyError`` means "no such object"
(404), ``ValueError`` "not a valid one" (422). Logged events are what the extension sent: the
inspector shows them, never edits them.

>>> from kiket_sdk.testing import FakeKiket
>>> fake = FakeKiket()
>>> put_record(fake, "crm", "contacts", "42", "7", {"email": "ada@example.com"})
{'email': 'ada@example.com', 'id': 7}
>>> fake.records("crm", "contacts", project_id=42)
[{'email': 'ada@example.com', 'id': 7}]
>>> delete_record(fake, "crm", "contacts", "42", "7")
>>> fake.records("crm", "contacts", project_id=42)
[]
"""

from __future__ import annotations

from typing import Any

from kiket_sdk._json_shapes import is_json_object
from kiket_sdk.testing import FakeKiket

__all__ = [
    "delete_record",
    "delete_secret",
    "delete_sla_event",
    "project_text",
    "put_record",
    "put_secret",
    "secret_text",
]

_LONGEST_PROJECT_ID = 18
"""Project ids have at most this many digits."""
_LONGEST_INTEGER_ID = 18
"""Record ids of up to this many digits are stored as integers (as the fake numbers them)."""


def project_text(value: object, what: str) -> str:
    """A project id as text: an integer, or digit text, of at most 18 digits; ``ValueError``
    naming ``what`` otherwise (the fake's project ids are numbers, as Kiket's are).

    >>> project_text(42, "project_id"), project_text("42", "project_id")
    ('42', '42')
    >>> project_text(True, "records[0].project_id")
    Traceback (most recent call last):
    ValueError: records[0].project_id must be a project number (an integer), got True
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        if value >= 10**_LONGEST_PROJECT_ID:
            raise ValueError(f"{what} must have at most {_LONGEST_PROJECT_ID} digits")
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value) > _LONGEST_PROJECT_ID:
            raise ValueError(f"{what} must have at most {_LONGEST_PROJECT_ID} digits")
        return value
    raise ValueError(f"{what} must be a project number (an integer), got {repr(value)[:100]}")


def _record_id(rows: dict[str, dict[str, Any]], record_id: str) -> object:
    """The id to store: the existing row's (so ``7`` stays an integer), else an integer when
    the text is one, else the text."""
    if record_id in rows:
        return rows[record_id]["id"]
    digits = record_id.isascii() and record_id.isdigit()
    return int(record_id) if digits and len(record_id) <= _LONGEST_INTEGER_ID else record_id


def put_record(
    fake: FakeKiket, module: str, table: str, project_id: str, record_id: str, record: object
) -> dict[str, Any]:
    """Create or replace record ``record_id`` of one table with the fields of ``record`` (its
    ``id`` is the one of the path); returns it as stored. ``ValueError`` for a record that is
    no JSON object, a ``project_id`` that is no number (`project_text`), or a record the fake
    refuses (`FakeKiket.seed_records`)."""
    if not is_json_object(record):
        raise ValueError(f"a record must be a JSON object, got {type(record).__name__}")
    project_id = project_text(project_id, "the project id")
    with fake.locked():
        rows = fake.table(module, table, project_id)
        row = {**record, "id": _record_id(rows, record_id)}
        [stored] = fake.seed_records(module, table, [row], project_id=project_id)
    return stored


def delete_record(
    fake: FakeKiket, module: str, table: str, project_id: str, record_id: str
) -> None:
    """Delete record ``record_id`` of one table (``KeyError`` when there is none)."""
    with fake.locked():
        rows = fake.tables.get((project_id, module, table), {})
        if record_id not in rows:
            raise KeyError(f"no record {record_id} in {module}/{table} of project {project_id}")
        del rows[record_id]


def secret_text(value: object, what: str) -> str:
    """``value`` when it is text: the one rule for a secret's value, set on the page or seeded
    (``ValueError`` naming ``what`` otherwise; never ``str()`` of another value).

    >>> secret_text(None, "secrets.app.KEY")
    Traceback (most recent call last):
    ValueError: secrets.app.KEY must be text, got NoneType
    """
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, got {type(value).__name__}")
    return value


def put_secret(fake: FakeKiket, extension_id: str, name: str, value: object) -> None:
    """Set secret ``name`` of an extension (``value`` must be text: `secret_text`)."""
    text = secret_text(value, '"value"')
    with fake.locked():
        fake.seed_secrets(extension_id, {name: text})


def delete_secret(fake: FakeKiket, extension_id: str, name: str) -> None:
    """Delete secret ``name`` of an extension (``KeyError`` when there is none)."""
    with fake.locked():
        values = fake.secrets.get(extension_id, {})
        if name not in values:
            raise KeyError(f"no secret {name} for extension {extension_id}")
        del values[name]
        if not values:
            del fake.secrets[extension_id]


def delete_sla_event(fake: FakeKiket, event_id: str) -> None:
    """Delete the SLA event whose ``id`` is ``event_id`` (``KeyError`` when there is none)."""
    with fake.locked():
        for index, event in enumerate(fake.sla_events):
            if str(event.get("id")) == event_id:
                del fake.sla_events[index]
                return
    raise KeyError(f"no SLA event {event_id}")

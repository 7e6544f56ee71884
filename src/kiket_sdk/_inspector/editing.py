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

import unicodedata
from typing import Any

from kiket_sdk._json_shapes import is_json_object, json_kind
from kiket_sdk.testing import FakeKiket

__all__ = [
    "delete_record",
    "delete_secret",
    "delete_sla_event",
    "project_text",
    "put_record",
    "put_secret",
    "secret_text",
    "segment_text",
]

_LONGEST_PROJECT_ID = 18
"""Project ids have at most this many digits."""
_LONGEST_INTEGER_ID = 18
"""Record ids of up to this many digits are stored as integers (as the fake numbers them)."""


def project_text(value: object, what: str) -> str:
    """A project id as canonical text: an integer, or digit text, of at most 18 digits, without
    leading zeros (``"042"`` is project ``42``, as ``42`` and ``"42"`` are); ``ValueError``
    naming ``what`` otherwise (the fake's project ids are numbers, as Kiket's are). The one
    rule for seeds and the record routes.

    >>> project_text(42, "project_id"), project_text("42", "project_id")
    ('42', '42')
    >>> project_text("042", "project_id"), project_text("000", "project_id")
    ('42', '0')
    >>> project_text(True, "records[0].project_id")
    Traceback (most recent call last):
    ValueError: records[0].project_id must be a project number (an integer), got True
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value) if value < 10**_LONGEST_PROJECT_ID else "9" * 19
    if isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value) > _LONGEST_PROJECT_ID:
            raise ValueError(f"{what} must have at most {_LONGEST_PROJECT_ID} digits")
        return str(int(value))
    raise ValueError(f"{what} must be a project number (an integer), got {repr(value)[:100]}")


def segment_text(value: object, what: str, *, integer: bool = False) -> str:
    """``value`` as one URL path segment (text, or an integer when ``integer``): not empty, not
    ``.`` or ``..``, no ``/``, ``?``, ``#``, whitespace, control character or U+FFFD (what a
    byte that is no UTF-8 decodes to). The one rule for module, table, record id, extension id,
    secret name and SLA event id, seeded or in an editing route's path; ``ValueError`` naming
    ``what`` otherwise.

    >>> segment_text("contacts", "the table"), segment_text(7, "the id", integer=True)
    ('contacts', '7')
    >>> segment_text("..", "the record id")
    Traceback (most recent call last):
    ValueError: the record id must be one URL path segment (not empty, no '/', '?', '#', \
whitespace or control characters, not '.' or '..'), got '..'
    """
    if integer and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        kinds = "text or an integer" if integer else "text"
        raise ValueError(f"{what} must be {kinds}, got {json_kind(value)}")
    if "\ufffd" in value:
        raise ValueError(f"{what} must be UTF-8 text (it holds U+FFFD), got {value[:100]!r}")
    if value in ("", ".", "..") or any(_not_in_segment(char) for char in value):
        raise ValueError(
            f"{what} must be one URL path segment (not empty, no '/', '?', '#', whitespace or "
            f"control characters, not '.' or '..'), got {value[:100]!r}"
        )
    return value


def _not_in_segment(char: str) -> bool:
    return char in "/?#" or char.isspace() or unicodedata.category(char) == "Cc"


def stored_key(rows: dict[str, dict[str, Any]], record_id: str) -> str:
    """The key under which ``rows`` keeps record ``record_id`` from a path: the text itself when
    stored so, else the number it spells (``"07"`` finds record ``7``), else the text."""
    if record_id in rows or not (record_id.isascii() and record_id.isdigit()):
        return record_id
    number = record_id.lstrip("0") or "0"
    return number if number in rows or len(record_id) <= _LONGEST_INTEGER_ID else record_id


def _record_id(rows: dict[str, dict[str, Any]], record_id: str) -> object:
    """The id to store: the existing row's (so ``7`` stays an integer), else an integer when
    the text is one of at most 18 digits, else the text."""
    key = stored_key(rows, record_id)
    if key in rows:
        return rows[key]["id"]
    return int(key) if key != record_id or (key.isdigit() and key.isascii()) else record_id


def put_record(
    fake: FakeKiket, module: str, table: str, project_id: str, record_id: str, record: object
) -> dict[str, Any]:
    """Create or replace record ``record_id`` of one table with the fields of ``record`` (its
    ``id`` is the one of the path); returns it as stored. ``ValueError`` for a record that is
    no JSON object, a ``project_id`` that is no number (`project_text`), or a record the fake
    refuses (`FakeKiket.seed_records`)."""
    if not is_json_object(record):
        raise ValueError(f"a record must be a JSON object, got {json_kind(record)}")
    project_id = project_text(project_id, "the project id")
    module = segment_text(module, "the module")
    table = segment_text(table, "the table")
    record_id = segment_text(record_id, "the record id")
    with fake.locked():
        rows = fake.table(module, table, project_id)
        row = {**record, "id": _record_id(rows, record_id)}
        [stored] = fake.seed_records(module, table, [row], project_id=project_id)
    return stored


def delete_record(
    fake: FakeKiket, module: str, table: str, project_id: str, record_id: str
) -> None:
    """Delete record ``record_id`` of one table (``KeyError`` when there is none; ``ValueError``
    for a path part `put_record` would refuse)."""
    project_id = project_text(project_id, "the project id")
    module = segment_text(module, "the module")
    table = segment_text(table, "the table")
    record_id = segment_text(record_id, "the record id")
    with fake.locked():
        rows = fake.tables.get((project_id, module, table), {})
        key = stored_key(rows, record_id)
        if key not in rows:
            raise KeyError(f"no record {record_id} in {module}/{table} of project {project_id}")
        del rows[key]


def secret_text(value: object, what: str) -> str:
    """``value`` when it is text: the one rule for a secret's value, set on the page or seeded
    (``ValueError`` naming ``what`` otherwise; never ``str()`` of another value).

    >>> secret_text(None, "secrets.app.KEY")
    Traceback (most recent call last):
    ValueError: secrets.app.KEY must be text, got null
    """
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, got {json_kind(value)}")
    return value


def put_secret(fake: FakeKiket, extension_id: str, name: str, value: object) -> None:
    """Set secret ``name`` of an extension (``value`` must be text: `secret_text`)."""
    extension_id = segment_text(extension_id, "the extension id")
    name = segment_text(name, "the secret name")
    text = secret_text(value, '"value"')
    with fake.locked():
        fake.seed_secrets(extension_id, {name: text})


def delete_secret(fake: FakeKiket, extension_id: str, name: str) -> None:
    """Delete secret ``name`` of an extension (``KeyError`` when there is none)."""
    extension_id = segment_text(extension_id, "the extension id")
    name = segment_text(name, "the secret name")
    with fake.locked():
        values = fake.secrets.get(extension_id, {})
        if name not in values:
            raise KeyError(f"no secret {name} for extension {extension_id}")
        del values[name]
        if not values:
            del fake.secrets[extension_id]


def delete_sla_event(fake: FakeKiket, event_id: str) -> None:
    """Delete the SLA event whose ``id`` is ``event_id`` (``KeyError`` when there is none)."""
    event_id = segment_text(event_id, "the SLA event id")
    with fake.locked():
        for index, event in enumerate(fake.sla_events):
            if str(event.get("id")) == event_id:
                del fake.sla_events[index]
                return
    raise KeyError(f"no SLA event {event_id}")

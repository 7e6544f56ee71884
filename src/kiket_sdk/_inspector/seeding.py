"""Seeding the fake Kiket's state from data: the inspector's seed form and ``--seed FILE``.

A seed is a mapping with any of these keys (each optional; the shapes are the spec's
``CustomDataRecord`` and ``SlaEvent`` schemas, checked by ``FakeKiketState``)::

    records:                       # custom-data records, per module / table / project
      - module: crm
        table: contacts
        project_id: 42
        rows: [{email: ada@example.com}]
    sla_events: [{issue_id: 7, state: breached, ...}]
    secrets: {com.example.app: {API_KEY: k}}   # extension id -> name -> value

`apply_seed` is all or nothing: it applies the whole seed to a scratch state first (so every
key is checked, the spec's schemas included) and raises ``ValueError`` naming the first key that
does not fit before touching the fake; `load_seed_file` reads YAML (a superset of JSON) with
PyYAML's safe loader.

>>> from kiket_sdk.testing import FakeKiket
>>> fake = FakeKiket()
>>> apply_seed(fake, {"secrets": {"com.example.app": {"API_KEY": "k"}}})
{'records': 0, 'sla_events': 0, 'secrets': 1}
>>> fake.secrets["com.example.app"]
{'API_KEY': 'k'}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kiket_sdk._json_shapes import is_list, is_mapping
from kiket_sdk.testing import FakeKiket
from kiket_sdk.testing._fake_store import FakeKiketState

__all__ = ["SEED_KEYS", "apply_seed", "fake_state", "load_seed_file"]

SEED_KEYS = ("records", "sla_events", "secrets")
"""The keys a seed may have."""


def _mapping(value: object, what: str) -> dict[str, Any]:
    """``value`` as a dict with text keys; ``ValueError`` naming ``what`` when not a mapping."""
    if not is_mapping(value):
        raise ValueError(f"{what} must be a mapping, got {type(value).__name__}")
    return {str(key): item for key, item in value.items()}


def _list(value: object, what: str) -> list[object]:
    """``value`` itself when a list; ``ValueError`` naming ``what`` otherwise."""
    if not is_list(value):
        raise ValueError(f"{what} must be a list, got {type(value).__name__}")
    return value


def apply_seed(fake: FakeKiket, seed: object) -> dict[str, int]:
    """Seed ``fake`` from ``seed``; returns how many of each kind were added (secrets are
    counted per name). Raises ``ValueError`` for an unknown key or a value of the wrong shape,
    and then nothing of the seed is applied.

    >>> fake = FakeKiket()
    >>> apply_seed(fake, {"secrets": {"a": {"K": "v"}}, "sla_events": [{"state": 3}]})
    Traceback (most recent call last):
    ...
    ValueError: seeded SLA event does not match the SlaEvent schema: ...
    >>> fake.secrets
    {}
    """
    _apply(FakeKiketState(), seed)  # a dry run: raises before the fake is touched
    with fake.locked():
        return _apply(fake, seed)


def _apply(fake: FakeKiketState, seed: object) -> dict[str, int]:
    data = _mapping(seed, "the seed")
    unknown = sorted(set(data) - set(SEED_KEYS))
    if unknown:
        raise ValueError(f"unknown seed keys {unknown}; expected some of {list(SEED_KEYS)}")
    counts: dict[str, int] = dict.fromkeys(SEED_KEYS, 0)
    for index, group in enumerate(_list(data.get("records", []), "records")):
        where = f"records[{index}]"
        table = _mapping(group, where)
        missing = [key for key in ("module", "table", "project_id") if key not in table]
        if missing:
            raise ValueError(f"{where} needs {', '.join(missing)}")
        rows = [_mapping(row, f"{where}.rows[]") for row in _list(table.get("rows", []), where)]
        stored = fake.seed_records(
            str(table["module"]), str(table["table"]), rows, project_id=table["project_id"]
        )
        counts["records"] += len(stored)
    events = _list(data.get("sla_events", []), "sla_events")
    counts["sla_events"] = len(
        fake.seed_sla_events(_mapping(event, "sla_events[]") for event in events)
    )
    for extension_id, values in _mapping(data.get("secrets", {}), "secrets").items():
        named = {str(k): str(v) for k, v in _mapping(values, f"secrets.{extension_id}").items()}
        fake.seed_secrets(str(extension_id), named)
        counts["secrets"] += len(named)
    return counts


def load_seed_file(fake: FakeKiket, path: str | Path) -> dict[str, int]:
    """Seed ``fake`` from a YAML or JSON file; ``OSError`` when it cannot be read,
    ``ValueError`` when it is not YAML or not a seed (the message names the file)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        seed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not YAML: {exc}") from None
    try:
        return apply_seed(fake, seed if seed is not None else {})
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def fake_state(fake: FakeKiket) -> dict[str, Any]:
    """What the inspector shows of the fake: custom-data records per table, SLA events,
    secrets, and the events extensions logged (JSON-ready copies, read under its lock)."""
    with fake.locked():
        return _state(fake)


def _state(fake: FakeKiket) -> dict[str, Any]:
    return {
        "records": [
            {
                "module": module,
                "table": table,
                "project_id": project,
                "rows": [dict(row) for row in rows.values()],
            }
            for (project, module, table), rows in fake.tables.items()
        ],
        "sla_events": [dict(event) for event in fake.sla_events],
        "secrets": {name: dict(values) for name, values in fake.secrets.items()},
        "logged_events": [dict(event) for event in fake.events],
    }

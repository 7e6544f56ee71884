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

`apply_seed` is all or nothing: it checks every key first and raises ``ValueError`` naming
the first one that does not fit (``records[0].project_id``) before touching the fake:

* the seed must be what strict JSON can carry (no ``NaN``/``Infinity``, text keys, no dates
  or other YAML-only values), nested at most `MAX_SEED_DEPTH` levels;
* ``project_id``: an integer or digit text of at most 18 digits, leading zeros dropped
  (`editing.project_text`: ``"042"`` is project 42); ``module``, ``table``, a row's ``id``,
  secret names, extension ids and SLA event ids: text (ids may be integers) that can be one
  segment of a URL path (`editing.segment_text`, the rule of the editing routes too);
* row ids are unique per table (against the seed and the rows already stored); rows without
  an ``id`` get a fresh one;
* secret values are text (`editing.secret_text`, the rule ``PUT fake/secrets`` applies);
* records and SLA events match the spec's schemas (applied to a scratch state first).

`load_seed_file` reads a ``.json`` file with the SDK's strict JSON rule and anything else as
YAML with PyYAML's safe loader (its C version when installed), at most `MAX_SEED_BYTES`.

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

from kiket_sdk._delivery.json_codec import JSONRuleError, parse_object
from kiket_sdk._inspector.editing import project_text, secret_text
from kiket_sdk._inspector.editing import segment_text as _segment
from kiket_sdk._json_shapes import is_list, is_mapping, json_kind
from kiket_sdk.testing import FakeKiket
from kiket_sdk.testing._fake_store import FakeKiketState
from kiket_sdk.testing._strict_json import json_problem

__all__ = [
    "MAX_SEED_BYTES",
    "MAX_SEED_DEPTH",
    "SEED_KEYS",
    "apply_seed",
    "fake_state",
    "load_seed_file",
]

SEED_KEYS = ("records", "sla_events", "secrets")
"""The keys a seed may have."""

MAX_SEED_BYTES = 16 * 1024 * 1024
"""The largest seed file `load_seed_file` reads (16 MiB)."""

MAX_SEED_DEPTH = 100
"""How deeply lists and mappings may nest in a seed."""

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENED = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSED = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _mapping(value: object, what: str) -> dict[str, Any]:
    """``value`` as a dict; ``ValueError`` naming ``what`` when not a mapping."""
    if not is_mapping(value):
        raise ValueError(f"{what} must be a mapping, got {json_kind(value)}")
    return {str(key): item for key, item in value.items()}


def _list(value: object, what: str) -> list[object]:
    """``value`` itself when a list; ``ValueError`` naming ``what`` otherwise."""
    if not is_list(value):
        raise ValueError(f"{what} must be a list, got {json_kind(value)}")
    return value


def apply_seed(fake: FakeKiket, seed: object) -> dict[str, int]:
    """Seed ``fake`` from ``seed``; returns how many of each kind were added (secrets are
    counted per name). Raises ``ValueError`` for an unknown key or a value of the wrong shape
    (the module docstring's rules), and then nothing of the seed is applied.

    >>> fake = FakeKiket()
    >>> apply_seed(fake, {"secrets": {"a": {"K": "v"}}, "sla_events": [{"state": 3}]})
    Traceback (most recent call last):
    ...
    ValueError: seeded SLA event does not match the SlaEvent schema: ...
    >>> fake.secrets
    {}
    >>> apply_seed(fake, {"records": [{"module": "crm", "table": "t", "project_id": "abc"}]})
    Traceback (most recent call last):
    ...
    ValueError: records[0].project_id must be a project number (an integer), got 'abc'
    """
    problem = json_problem(seed, max_depth=MAX_SEED_DEPTH)
    if problem is not None:
        raise ValueError(f"the seed cannot be sent as JSON: {problem}")
    with fake.locked():
        plan = _plan(fake, seed)
        try:
            _apply(FakeKiketState(), plan)  # a dry run: raises before the fake is touched
        except RecursionError:
            raise ValueError("the seed is nested too deeply to check") from None
        return _apply(fake, plan)


_Plan = tuple[
    dict[tuple[str, str, str], list[dict[str, Any]]],
    list[dict[str, Any]],
    dict[str, dict[str, str]],
]


def _plan(fake: FakeKiketState, seed: object) -> _Plan:
    """Check the shape of ``seed`` (against ``fake``'s stored rows for duplicate ids); the
    rows per (project, module, table), the SLA events and the secrets to add."""
    data = _mapping(seed, "the seed")
    unknown = sorted(set(data) - set(SEED_KEYS))
    if unknown:
        raise ValueError(f"unknown seed keys {unknown}; expected some of {list(SEED_KEYS)}")
    tables: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    ids: dict[tuple[str, str, str], set[str]] = {}
    for index, group in enumerate(_list(data.get("records", []), "records")):
        where = f"records[{index}]"
        table = _mapping(group, where)
        missing = [key for key in ("module", "table", "project_id") if key not in table]
        if missing:
            raise ValueError(f"{where} needs {', '.join(missing)}")
        place = (
            project_text(table["project_id"], f"{where}.project_id"),
            _segment(table["module"], f"{where}.module"),
            _segment(table["table"], f"{where}.table"),
        )
        seen = ids.setdefault(place, set(fake.tables.get(place, {})))
        for number, row in enumerate(_list(table.get("rows", []), f"{where}.rows")):
            what = f"{where}.rows[{number}]"
            fields = _mapping(row, what)
            if "id" in fields:
                key = _segment(fields["id"], f"{what}.id", integer=True)
                if key in seen:
                    project, module, name = place
                    raise ValueError(
                        f"{what}.id {key[:100]!r} is already taken in {module}/{name} of project "
                        f"{project} (ids are unique per table)"
                    )
                seen.add(key)
            tables.setdefault(place, []).append(fields)
    events: list[dict[str, Any]] = []
    for index, event in enumerate(_list(data.get("sla_events", []), "sla_events")):
        fields = _mapping(event, f"sla_events[{index}]")
        if "id" in fields:
            _segment(fields["id"], f"sla_events[{index}].id", integer=True)
        events.append(fields)
    secrets: dict[str, dict[str, str]] = {}
    for extension_id, values in _mapping(data.get("secrets", {}), "secrets").items():
        where = f"secrets.{extension_id}"
        _segment(extension_id, f"secrets: the extension id {extension_id[:100]!r}")
        named = secrets.setdefault(extension_id, {})
        for name, value in _mapping(values, where).items():
            _segment(name, f"{where}: the secret name {name[:100]!r}")
            named[name] = secret_text(value, f"{where}.{name}")
    return tables, events, secrets


def _apply(fake: FakeKiketState, plan: _Plan) -> dict[str, int]:
    tables, events, secrets = plan
    counts: dict[str, int] = dict.fromkeys(SEED_KEYS, 0)
    for (project, module, table), rows in tables.items():
        counts["records"] += len(fake.seed_records(module, table, rows, project_id=project))
    counts["sla_events"] = len(fake.seed_sla_events(events))
    for extension_id, named in secrets.items():
        fake.seed_secrets(extension_id, named)
        counts["secrets"] += len(named)
    return counts


def load_seed_file(fake: FakeKiket, path: str | Path) -> dict[str, int]:
    """Seed ``fake`` from a file: strict JSON when its name ends in ``.json``, else YAML.
    ``OSError`` when it cannot be read, ``ValueError`` (naming the file) for anything else: over
    `MAX_SEED_BYTES`, not UTF-8, not JSON or YAML, nested too deeply, or not a seed."""
    with Path(path).open("rb") as file:
        raw = file.read(MAX_SEED_BYTES + 1)
    if len(raw) > MAX_SEED_BYTES:
        raise ValueError(f"{path} is larger than {MAX_SEED_BYTES // (1024 * 1024)} MiB")
    seed = _parse(raw, str(path))
    try:
        return apply_seed(fake, seed if seed is not None else {})
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _parse(raw: bytes, path: str) -> object:
    """The seed in a file's bytes; ``ValueError`` naming ``path`` when it cannot be read."""
    if path.lower().endswith(".json"):
        try:
            return parse_object(raw)
        except JSONRuleError as exc:
            raise ValueError(f"{path}: {str(exc).replace('request body', 'the file')}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    too_deep = ValueError(f"{path} is nested deeper than {MAX_SEED_DEPTH} levels")
    aliased = ValueError(f"{path} uses a YAML alias (*name); a seed spells every value out")
    try:
        depth = 0
        for event in yaml.parse(text, Loader=_YAML_LOADER):  # a flat stream: any depth is safe
            if isinstance(event, yaml.AliasEvent):  # `*name`: expanding them can take minutes
                raise aliased
            depth += isinstance(event, _OPENED) - isinstance(event, _CLOSED)
            if depth > MAX_SEED_DEPTH:
                raise too_deep
        return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 -- a safe loader
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml >= 0.2.5 stops at its own depth limit first
            raise too_deep from None
        raise ValueError(f"{path} is not YAML: {exc}") from None
    except ValueError as exc:
        if exc is too_deep or exc is aliased:
            raise
        if "integer string conversion" in str(exc):  # Python's 4,300-digit limit (sys docs)
            raise ValueError(f"{path} holds a number longer than 4,300 digits") from None
        raise ValueError(f"{path} cannot be read as YAML ({type(exc).__name__})") from None
    except Exception as exc:  # whatever else loading raises is a bad file
        raise ValueError(f"{path} cannot be read as YAML ({type(exc).__name__})") from None


def fake_state(fake: FakeKiket) -> dict[str, Any]:
    """What the inspector shows of the fake: custom-data records per table, SLA events,
    secrets, and the events extensions logged (JSON-ready copies, read under its lock). Each
    table's ``row_ids`` and the ``sla_event_ids`` give the ids as the text the editing routes
    take (a page reading ``9007199254740993`` as a number would round it)."""
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
                "row_ids": list(rows),
            }
            for (project, module, table), rows in fake.tables.items()
        ],
        "sla_events": [dict(event) for event in fake.sla_events],
        "sla_event_ids": [str(event.get("id")) for event in fake.sla_events],
        "secrets": {name: dict(values) for name, values in fake.secrets.items()},
        "logged_events": [dict(event) for event in fake.events],
    }

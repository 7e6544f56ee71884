"""Seeding the fake from a mapping or a YAML file (``kiket-sdk dev --seed``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kiket_sdk._inspector import seeding
from kiket_sdk._inspector.seeding import apply_seed, fake_state, load_seed_file
from kiket_sdk.testing import FakeKiket

SEED_YAML = """
records:
  - module: crm
    table: contacts
    project_id: 42
    rows:
      - {email: ada@example.com}
      - {email: bob@example.com}
secrets:
  com.example.app: {API_KEY: k1, OTHER: k2}
"""


def test_a_yaml_seed_file_fills_the_fake(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED_YAML)
    fake = FakeKiket()
    assert load_seed_file(fake, seed) == {"records": 2, "sla_events": 0, "secrets": 2}
    emails = [row["email"] for row in fake.records("crm", "contacts", project_id="42")]
    assert emails == ["ada@example.com", "bob@example.com"]
    state = fake_state(fake)
    assert state["secrets"] == {"com.example.app": {"API_KEY": "k1", "OTHER": "k2"}}
    assert state["records"][0]["project_id"] == "42"


def test_an_empty_file_seeds_nothing(tmp_path: Path) -> None:
    seed = tmp_path / "empty.yaml"
    seed.write_text("")
    assert load_seed_file(FakeKiket(), seed) == {"records": 0, "sla_events": 0, "secrets": 0}


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ([], "the seed must be a mapping"),
        ({"tables": []}, "unknown seed keys ['tables']"),
        ({"records": [{"module": "crm"}]}, "records[0] needs table, project_id"),
        ({"records": {}}, "records must be a list"),
        ({"secrets": {"x": "y"}}, "secrets.x must be a mapping"),
    ],
)
def test_a_seed_of_the_wrong_shape_names_the_key(seed: object, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        apply_seed(FakeKiket(), seed)
    assert message in str(raised.value)


_SUFFIXES = (".yaml", ".json")


def test_a_file_that_is_not_yaml_names_the_file(tmp_path: Path) -> None:
    seed = tmp_path / "bad.yaml"
    seed.write_text("records: [\n")
    with pytest.raises(ValueError, match=r"bad\.yaml is not YAML"):
        load_seed_file(FakeKiket(), seed)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("deep.yaml", b"x: " + b"[" * 5000 + b"]" * 5000, r"deep\.yaml is nested deeper than 100"),
        ("deep.json", b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}", r"deep\.json: .*too deeply"),
        ("deep2.yaml", b"x: " + b"[" * 300_000 + b"]" * 300_000, "nested deeper"),  # C: no crash
        ("latin.yaml", "secrets: {a: {K: caf\u00e9}}".encode("latin-1"), r"latin\.yaml is not UTF"),
        (
            "nan.yaml",
            b"records: [{module: m, table: t, project_id: 1, rows: [{x: .nan}]}]",
            r"nan\.yaml: .*records\[0\]\.rows\[0\]\.x: nan is not a finite number",
        ),
        ("inf.yaml", b"sla_events: [{issue_id: 7, state: s, x: -.inf}]", r"sla_events\[0\]\.x"),
        ("nan.json", b'{"secrets": {"a": {"K": NaN}}}', r"nan\.json: the file is not valid JSON"),
        (
            "date.yaml",
            b"records: [{module: m, table: t, project_id: 1, rows: [{d: 2026-01-02}]}]",
            r"rows\[0\]\.d: a date is not a JSON value",
        ),
        ("keys.yaml", b"secrets: {a: {1: k}}", r"the key 1 is not text"),
        (
            "rows.yaml",
            b"records: [{module: m, table: t, project_id: 1, rows: {id: 5}}]",
            r"records\[0\]\.rows must be a list",
        ),
        ("none.yaml", b"secrets: {a: {K: null}}", r"secrets\.a\.K must be text, got null"),
        (
            "aliases.yaml",  # a "billion laughs": 9 ** 8 values from eight short lines
            b"a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
            + b"".join(
                f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n".encode()
                for p, n in zip("abcdefg", "bcdefgh", strict=True)
            ),
            r"aliases\.yaml uses a YAML alias",
        ),
        (
            "digits.yaml",
            b"records: [{module: m, table: t, project_id: 1" + b"0" * 5000 + b", rows: []}]",
            r"digits\.yaml holds a number longer than 4,300 digits$",
        ),
        ("slaid.yaml", b"sla_events: [{id: 9" + b"9" * 4400 + b"}]", r"slaid\.yaml holds a num"),
        ("deep3.yaml", b"x:\n" + b"".join(b"  " * n + b"- \n" for n in range(150)), "nested deep"),
        ("five.yaml", b"secrets: {a: {K: 5}}", r"secrets\.a\.K must be text, got number"),
    ],
    ids=lambda value: (
        value if isinstance(value, str) and value.endswith((".yaml", ".json")) else ""
    ),
)
def test_a_seed_file_that_cannot_be_applied_names_the_file_and_changes_nothing(
    tmp_path: Path, name: str, content: bytes, expected: str
):
    seed = tmp_path / name
    seed.write_bytes(content)
    fake = FakeKiket()
    with pytest.raises(ValueError, match=expected):
        load_seed_file(fake, seed)
    assert fake_state(fake) == {
        "records": [],
        "sla_events": [],
        "sla_event_ids": [],
        "secrets": {},
        "logged_events": [],
    }


def test_a_json_seed_is_read_as_json_quickly(tmp_path: Path):
    rows = [{"email": f"user{n}@example.com", "n": n} for n in range(20_000)]
    seed = tmp_path / "big.json"
    table = {"module": "m", "table": "t", "project_id": 1, "rows": rows}
    seed.write_text(json.dumps({"records": [table]}))
    started = time.monotonic()
    assert load_seed_file(FakeKiket(), seed)["records"] == 20_000
    assert time.monotonic() - started < 5  # YAML took about 9 s for a file this size


def test_a_seed_file_over_the_size_limit_is_refused_unread(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(seeding, "MAX_SEED_BYTES", 100)
    seed = tmp_path / "big.yaml"
    seed.write_text("secrets: {a: {K: " + "k" * 200 + "}}")
    with pytest.raises(ValueError, match=r"big\.yaml is larger than"):
        load_seed_file(FakeKiket(), seed)

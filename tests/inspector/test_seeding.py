"""Seeding the fake from a mapping or a YAML file (``kiket-sdk dev --seed``)."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_a_file_that_is_not_yaml_names_the_file(tmp_path: Path) -> None:
    seed = tmp_path / "bad.yaml"
    seed.write_text("records: [\n")
    with pytest.raises(ValueError, match=r"bad\.yaml is not YAML"):
        load_seed_file(FakeKiket(), seed)

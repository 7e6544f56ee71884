"""Any id JSON allows is a key; answers are strict JSON. Found by trying to break the model."""

from __future__ import annotations

import dataclasses
import enum
import json
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from kiket_sdk import HandlerContext, allow
from kiket_sdk.testing import serve_app

from ._deliveries import encode, isolate, issue_payload, make_sdk, post, sign

DUPLICATE = "x-kiket-duplicate"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


def _deliver_ids(ids: list[Any]) -> tuple[list[Any], list[Any]]:
    """Deliver one freshly signed ``issue.created`` per id; the answers and the handler runs."""
    sdk = make_sdk()
    runs: list[Any] = []

    @sdk.webhook("issue.created")
    async def on_issue(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
        runs.append(event.get("id"))
        return {"run": len(runs), "delivery_id": ctx.delivery_id}

    stamp = int(time.time())
    answers = []
    with serve_app(sdk) as url:
        for offset, event_id in enumerate(ids):
            body = encode(issue_payload(id=event_id))
            answers.append(post(url, body, sign(body, timestamp=stamp - offset)))
    return answers, runs


@pytest.mark.parametrize(
    "event_id",
    [1.5, True, False, [1, "a"], {"b": 1, "a": 2}, "ünïcødé", "a" * 10_000, "x\u0000y", 10**4000],
)
def test_any_json_id_is_an_event(event_id: Any) -> None:
    answers, runs = _deliver_ids([event_id, event_id])
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[1].headers.get(DUPLICATE) == "true"
    assert len(runs) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [(True, 1), (False, 0), (1, 1.0), ("1.5", 1.5), ([1], "[1]"), ({"a": 1}, '{"a":1}')],
)
def test_ids_of_different_json_values_are_different_events(first: Any, second: Any) -> None:
    answers, runs = _deliver_ids([first, second])
    assert [a.status_code for a in answers] == [200, 200]
    assert DUPLICATE not in answers[1].headers
    assert len(runs) == 2


def test_an_integer_and_its_decimal_string_are_one_event() -> None:
    answers, runs = _deliver_ids([42, "42"])
    assert [a.headers.get(DUPLICATE) for a in answers] == [None, "true"]
    assert answers[0].json()["delivery_id"] == "42"
    assert len(runs) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [(" 1", "1"), ("1 ", 1), ("json:true", True), ("j:true", True), ("s:1", 1), ("1.0", 1.0)],
)
def test_strings_are_ids_as_sent_and_never_equal_other_json(first: Any, second: Any) -> None:
    answers, runs = _deliver_ids([first, second])
    assert DUPLICATE not in answers[1].headers
    assert len(runs) == 2


def test_a_blank_id_is_no_id() -> None:
    answers, runs = _deliver_ids(["", "  "])
    assert [a.status_code for a in answers] == [200, 200]
    assert len(runs) == 2  # two freshly signed deliveries without an id: two events


class _Color(enum.Enum):
    RED = "red"


class _Answer(BaseModel):
    n: int
    d: dict[Any, str]


@dataclasses.dataclass
class _Plain:
    n: int


def _answering(value: Any) -> Any:
    sdk = make_sdk()

    @sdk.webhook("issue.created")
    async def on_issue(event: dict[str, Any], ctx: HandlerContext) -> Any:
        return value() if callable(value) else value

    with serve_app(sdk) as url:
        return post(url, encode(issue_payload()))


@pytest.mark.parametrize(
    "value",
    [
        {1: "a", "1": "b"},
        {"nested": [{True: 1, "true": 2}]},
        {"n": 10**5000},
        lambda: allow("ok", data={"n": 10**5000}),
        {"raw": b"\xff\xfe"},
        {"obj": object()},
        {_Color.RED: 1, "red": 2},
        lambda: _Answer(n=10**5000, d={}),
        lambda: [_Answer(n=1, d={1: "a", "1": "b"})],
        lambda: _Plain(n=10**5000),
        lambda: allow("ok", data={"model": _Answer(n=10**5000, d={})}),
    ],
    ids=[
        "colliding keys",
        "nested colliding",
        "huge int",
        "huge int in allow",
        "bytes",
        "object",
        "enum key colliding with its value",
        "huge int in a model",
        "colliding keys in a model in a list",
        "huge int in a dataclass",
        "huge int in a model in allow data",
    ],
)
def test_an_answer_that_is_not_strict_json_is_a_500_naming_nothing(value: Any) -> None:
    answered = _answering(value)
    assert answered.status_code == 500
    assert answered.json() == {"error": "handler returned an answer that is not JSON"}


def test_the_largest_readable_integer_is_answered() -> None:
    answered = _answering({"n": 10**4299})
    assert answered.status_code == 200
    assert json.loads(answered.content)["n"] == 10**4299

"""``examples/typed_usage.py`` (type-checked by ``nox -s typed_usage``) also runs: one delivery
per handler kind through a fake Kiket, both clients, the test kit."""

from __future__ import annotations

import pytest


def test_typed_usage_example_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    from examples import typed_usage

    seen = typed_usage.main()

    out = capsys.readouterr().out
    assert "[200, 200, 200, 200]" in out
    assert "not found: 404" in out
    assert any(line.startswith("issue.created@v1 ") for line in seen)
    assert any(line.startswith("v2 ") for line in seen)
    assert any(line.startswith("sla breach in com.example.typed") for line in seen)
    assert "custom ['hello']" in seen
    assert "deferred after the answer" in seen
    assert {r.event for r in typed_usage.telemetry} >= {"issue.created", "sla.breach"}

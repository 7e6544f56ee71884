"""An operation added to the spec reaches every way in with no hand-written code.

A copy of the spec gains ``GET /api/v1/ext/custom_data/{module_key}/{table}/count`` (tag
``custom_data``, ``x-kiket-scope: {helper: custom_data, bound: project_id}``, answer schema
``CustomDataCount`` with an example). The generator writes a throwaway package ``kiket_probe``
into a temporary folder; the test then finds ``count`` on the sync and async clients, on their
``with_raw_response``, and on ``ctx.endpoints.custom_data(project_id)`` (sync and async), and
calls them against a FakeKiket that reads the same spec: it answers the spec's example, with no
route written. The real spec and ``src/kiket_sdk/_generated`` are not touched.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml

from kiket_sdk.testing import FakeKiket, _fake_defaults, _fake_openapi, _spec

ROOT = Path(__file__).resolve().parents[2]
COUNT_PATH = "/api/v1/ext/custom_data/{module_key}/{table}/count"
PROBE = "kiket_probe"


def _spec_with_count() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(
        (ROOT / "openapi" / "kiket-extension-api.yaml").read_text()
    )
    listing = spec["paths"]["/api/v1/ext/custom_data/{module_key}/{table}"]["get"]
    spec["paths"][COUNT_PATH] = {
        "get": {
            "operationId": "count_custom_data_records",
            "tags": ["custom_data"],
            "x-kiket-method": "count",
            "x-kiket-scope": {"helper": "custom_data", "bound": "project_id"},
            "summary": "Count records of a custom data table",
            "description": "Returns how many records the table holds.",
            "parameters": listing["parameters"][:3],  # module_key, table, project_id
            "responses": {
                "200": {
                    "description": "The number of records.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/CustomDataCount"},
                            "example": {"count": 2},
                        }
                    },
                },
                "default": {"$ref": "#/components/responses/Problem"},
            },
        }
    }
    spec["components"]["schemas"]["CustomDataCount"] = {
        "type": "object",
        "description": "How many records a custom data table holds.",
        "required": ["count"],
        "properties": {"count": {"type": "integer", "minimum": 0}},
    }
    return spec


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    folder = tmp_path_factory.mktemp("probe")
    spec_file = folder / "kiket-extension-api.yaml"
    spec_file.write_text(yaml.safe_dump(_spec_with_count(), sort_keys=False))
    package = folder / PROBE
    package.mkdir()
    (package / "__init__.py").write_text("")
    subprocess.run(
        [sys.executable, str(ROOT / "codegen" / "generate.py"), "--spec", str(spec_file),
         "--out", str(package / "_generated")],
        check=True, capture_output=True,
    )  # fmt: skip
    sys.path.insert(0, str(folder))
    try:
        yield {
            name: importlib.import_module(f"{PROBE}._generated.{name}")
            for name in ("operations", "endpoints", "models")
        }
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PROBE or n.startswith(PROBE + ".")]:
            del sys.modules[name]


@pytest.fixture
def fake_on_probe_spec(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKiket]:
    """A FakeKiket that reads the probe spec (the test kit's spec loaders pointed at it)."""
    spec = _spec_with_count()
    for module in (_spec, _fake_openapi, _fake_defaults):
        monkeypatch.setattr(module, "load_spec", lambda: spec)
    caches = (_fake_openapi.operations, _spec._registry, _spec._validator)
    for cached in caches:
        cached.cache_clear()
    yield FakeKiket(strict_responses=True)
    for cached in caches:
        cached.cache_clear()


def test_the_real_spec_has_no_count() -> None:
    spec = yaml.safe_load((ROOT / "openapi" / "kiket-extension-api.yaml").read_text())
    assert COUNT_PATH not in spec["paths"]


def test_count_is_generated_everywhere(probe: dict[str, ModuleType]) -> None:
    operations, endpoints = probe["operations"], probe["endpoints"]
    sync = operations.GeneratedSyncClient(base_url="http://kiket.test")
    asynchronous = operations.GeneratedAsyncClient(base_url="http://kiket.test")
    assert callable(sync.custom_data.count)
    assert callable(asynchronous.custom_data.count)
    assert callable(sync.with_raw_response.custom_data.count)
    assert callable(asynchronous.with_raw_response.custom_data.count)
    assert callable(endpoints.GeneratedEndpoints(sync).custom_data(42).count)
    assert callable(endpoints.GeneratedAsyncEndpoints(asynchronous).custom_data(42).count)
    sync.close()


def test_fake_kiket_answers_count_from_the_spec(
    probe: dict[str, ModuleType], fake_on_probe_spec: FakeKiket
) -> None:
    fake = fake_on_probe_spec
    client = probe["operations"].GeneratedSyncClient(
        base_url="http://kiket.test", http_client=httpx.Client(transport=fake.transport())
    )
    scoped = probe["endpoints"].GeneratedEndpoints(client).custom_data(42).count("crm", "contacts")
    assert isinstance(scoped, probe["models"].CustomDataCount)
    assert scoped.count == 2
    direct = client.custom_data.count("crm", "contacts", project_id=7)
    assert direct.count == 2
    assert [(c.operation_id, c.status, c.query) for c in fake.calls] == [
        ("count_custom_data_records", 200, {"project_id": "42"}),
        ("count_custom_data_records", 200, {"project_id": "7"}),
    ]


async def test_async_count_on_the_fake(
    probe: dict[str, ModuleType], fake_on_probe_spec: FakeKiket
) -> None:
    client = probe["operations"].GeneratedAsyncClient(
        base_url="http://kiket.test",
        http_client=httpx.AsyncClient(transport=fake_on_probe_spec.transport()),
    )
    helper = probe["endpoints"].GeneratedAsyncEndpoints(client).custom_data("42")
    assert (await helper.count("crm", "contacts")).count == 2
    raw = await client.with_raw_response.custom_data.count("crm", "contacts", project_id=42)
    assert raw.json() == {"count": 2}

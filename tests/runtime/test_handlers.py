"""Handler shapes, routing by version and the JSON of every kind of return value."""

from __future__ import annotations

import threading
import types
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.testclient import TestClient

import kiket_sdk
from kiket_sdk import (
    Allow,
    ConfigurationError,
    HandlerContext,
    KiketSDK,
    SyncHandlerContext,
    allow,
    deny,
    pending,
)
from kiket_sdk.events import IssueCreated, IssueCreatedV2

from ._helpers import SECRET, issue_payload, post


class MyIssue(BaseModel):
    title: str


class MyPayload(BaseModel):
    id: str
    issue: MyIssue


class Answer(BaseModel):
    received: str
    count: int = 1


threads: dict[str, threading.Thread] = {}


def _sdk(**options: Any) -> KiketSDK:
    options.setdefault("webhook_secret", SECRET)
    options.setdefault("telemetry_enabled", False)
    sdk = KiketSDK(**options)

    @sdk.webhook("issue.created", version="v1")
    async def typed(event: IssueCreated, ctx: HandlerContext) -> Allow:
        threads["async"] = threading.current_thread()
        assert isinstance(ctx, HandlerContext)
        return allow(
            f"hello {event.issue.title}",
            data={"id": event.issue.id, "ctx_version": ctx.event_version},
            output_fields={"issue_url": "https://x.test/42"},
        )

    @sdk.webhook("issue.created", version="v2")
    async def typed_v2(event: IssueCreatedV2, ctx: HandlerContext) -> dict[str, Any]:
        return {"v": 2, "actor": event.actor.model_dump(exclude_none=True)}

    @sdk.webhook("custom.sync", version="v1")
    def sync(event: dict[str, Any], ctx: SyncHandlerContext) -> dict[str, Any]:
        threads["sync"] = threading.current_thread()
        assert isinstance(ctx, SyncHandlerContext)
        return {"sync": True, "event": ctx.event}

    @sdk.webhook("custom.untyped", version="v1")
    async def untyped(event, ctx):  # type: ignore[no-untyped-def]
        return {"type": type(event).__name__, "title": event["issue"]["title"]}

    @sdk.webhook("custom.model", version="v1")
    async def user_model(event: MyPayload, ctx: HandlerContext) -> Answer:
        return Answer(received=event.issue.title)

    @sdk.webhook("custom.one", version="v1")
    async def one_param(event: dict[str, Any]) -> list[Any]:
        return [1, "two", {"three": 3}]

    @sdk.webhook("custom.none", version="v1")
    async def returns_none(event: dict[str, Any], ctx: HandlerContext) -> None:
        return None

    @sdk.webhook("custom.deny", version="v1")
    async def denies(event: dict[str, Any], ctx: HandlerContext) -> Any:
        return deny("Invalid credentials")

    @sdk.webhook("custom.pending", version="v1")
    async def pends(event: dict[str, Any], ctx: HandlerContext) -> Any:
        return pending("Awaiting approval", data={"ticket": "T-1"})

    @sdk.webhook("custom.allow", version="v1")
    async def allows(event: dict[str, Any], ctx: HandlerContext) -> Any:
        return allow()

    @sdk.webhook("custom.version", version="2024-10-01")
    async def dated(event: dict[str, Any], ctx: HandlerContext) -> Any:
        return {"version": ctx.event_version}

    @sdk.webhook("custom.secret", version="v1")
    async def secret(event: dict[str, Any], ctx: HandlerContext) -> Any:
        return {"value": ctx.secret("API_KEY"), "settings": dict(ctx.settings)}

    return sdk


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(_sdk()) as c:
        yield c


def test_typed_handler_allow_exact_json(client: TestClient) -> None:
    response = post(client)
    assert response.status_code == 200
    assert response.json() == {
        "status": "allow",
        "message": "hello Printer on fire",
        "metadata": {
            "id": 42,
            "ctx_version": "v1",
            "output_fields": {"issue_url": "https://x.test/42"},
        },
    }


def test_allow_without_message_omits_it(client: TestClient) -> None:
    response = post(client, "custom.allow")
    assert response.content == b'{"status":"allow","metadata":{}}'


def test_deny_and_pending_exact_json(client: TestClient) -> None:
    assert post(client, "custom.deny").json() == {
        "status": "deny",
        "message": "Invalid credentials",
        "metadata": {},
    }
    assert post(client, "custom.pending").json() == {
        "status": "pending",
        "message": "Awaiting approval",
        "metadata": {"ticket": "T-1"},
    }


def test_v1_and_v2_of_one_event(client: TestClient) -> None:
    payload = issue_payload(actor={"id": 5, "email": "a@b.test"})
    v2 = post(client, payload=payload, version="v2")
    assert v2.status_code == 200, v2.text
    assert v2.json() == {"v": 2, "actor": {"id": 5, "email": "a@b.test"}}
    assert post(client, version="v1").json()["status"] == "allow"


@pytest.mark.parametrize("version", ["1", "v1", "V1", " v1 "])
def test_numeric_version_path_reaches_v1(client: TestClient, version: str) -> None:
    response = post(client, path=f"/v/{version}/webhooks/issue.created")
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["ctx_version"] == "v1"


def test_header_and_query_versions(client: TestClient) -> None:
    by_header = post(client, version=None, headers={"X-Kiket-Event-Version": "1"})
    assert by_header.status_code == 200
    assert by_header.json()["metadata"]["ctx_version"] == "v1"
    by_query = post(client, path="/webhooks/custom.version?version=2024-10-01")
    assert by_query.json() == {"version": "2024-10-01"}
    # path wins over header, header over query
    path_wins = post(client, headers={"X-Kiket-Event-Version": "v2"})
    assert path_wins.json()["metadata"]["ctx_version"] == "v1"
    header_wins = post(
        client,
        path="/webhooks/issue.created?version=v9",
        headers={"X-Kiket-Event-Version": "v1"},
    )
    assert header_wins.status_code == 200


def test_sync_handler_runs_in_worker_thread(client: TestClient) -> None:
    threads.clear()
    assert post(client).status_code == 200
    sync = post(client, "custom.sync")
    assert sync.json() == {"sync": True, "event": "custom.sync"}
    assert threads["sync"] is not threads["async"]


def test_untyped_handler_gets_dict(client: TestClient) -> None:
    assert post(client, "custom.untyped").json() == {"type": "dict", "title": "Printer on fire"}


def test_user_pydantic_model_in_and_out(client: TestClient) -> None:
    response = post(client, "custom.model")
    assert response.json() == {"received": "Printer on fire", "count": 1}
    bad = post(client, "custom.model", payload={"id": "x1", "issue": {}})
    assert bad.status_code == 422


def test_one_parameter_handler_and_list_result(client: TestClient) -> None:
    assert post(client, "custom.one").json() == [1, "two", {"three": 3}]


def test_none_result_is_ok_true(client: TestClient) -> None:
    response = post(client, "custom.none")
    assert response.content == b'{"ok":true}'


def test_secret_precedence(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", "from-env")
    payload = issue_payload(secrets={"API_KEY": "from-payload"})
    assert post(client, "custom.secret", payload=payload).json()["value"] == "from-payload"
    empty = issue_payload(secrets={"API_KEY": ""})
    assert post(client, "custom.secret", payload=empty).json()["value"] == "from-env"
    assert post(client, "custom.secret").json()["value"] == "from-env"
    monkeypatch.delenv("API_KEY")
    assert post(client, "custom.secret").json()["value"] is None


def test_settings_from_manifest(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = tmp_path / "extension.yaml"
    manifest.write_text(
        "id: com.example.runtime\n"
        "version: 1.2.3\n"
        "settings:\n"
        "  - key: apiKey\n"
        "    default: default-key\n"
        "    secret: true\n"
        "  - key: mode\n"
        "    default: fast\n"
    )
    monkeypatch.setenv("KIKET_SECRET_APIKEY", "env-override")
    with TestClient(_sdk(manifest_path=manifest)) as c:
        settings = post(c, "custom.secret").json()["settings"]
        health = c.get("/health").json()
    assert settings == {"apiKey": "env-override", "mode": "fast"}
    assert health["extension_id"] == "com.example.runtime"
    assert health["extension_version"] == "1.2.3"


def test_explicit_settings_win(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = tmp_path / "extension.yaml"
    manifest.write_text(
        "id: x\nversion: 1.0.0\nsettings:\n  - key: apiKey\n    default: d\n    secret: true\n"
    )
    monkeypatch.setenv("KIKET_SECRET_APIKEY", "env")
    sdk = _sdk(manifest_path=manifest, settings={"apiKey": "explicit"})
    with TestClient(sdk) as c:
        assert post(c, "custom.secret").json()["settings"] == {"apiKey": "explicit"}


def test_load_module_with_marks() -> None:
    module = types.ModuleType("user_handlers")

    @kiket_sdk.webhook("issue.created", version="v1")
    async def marked(event: IssueCreated, ctx: HandlerContext) -> Allow:
        return allow("from module")

    @kiket_sdk.webhook("custom.a", version="v1")
    @kiket_sdk.webhook("custom.a", version="v2", required_scopes=["x"])
    async def twice(event: dict[str, Any], ctx: HandlerContext) -> Any:
        return {"v": ctx.event_version}

    module.marked = marked  # type: ignore[attr-defined]
    module.twice = twice  # type: ignore[attr-defined]
    module.not_a_handler = lambda: None  # type: ignore[attr-defined]
    module.alias_of_marked = marked  # type: ignore[attr-defined]  # exported twice: loaded once
    sdk = KiketSDK(webhook_secret=SECRET, telemetry_enabled=False)
    assert sdk.load(module) == 3
    assert sdk.registered_events == ["custom.a@v1", "custom.a@v2", "issue.created@v1"]
    with TestClient(sdk) as c:
        assert post(c).json() == {"status": "allow", "message": "from module", "metadata": {}}
        assert post(c, "custom.a", version="v2").status_code == 403
        assert post(c, "custom.a").json() == {"v": "v1"}


def test_duplicate_registration_raises() -> None:
    sdk = KiketSDK(webhook_secret=SECRET, telemetry_enabled=False)

    async def h(event: dict[str, Any]) -> None: ...

    sdk.register("issue.created", h, version="v1")
    with pytest.raises(ConfigurationError, match="already registered"):
        sdk.register("issue.created", h, version="1")
    with pytest.raises(ConfigurationError):
        sdk.register("issue.created", h, version="  ")

    def no_args() -> None: ...

    with pytest.raises(ConfigurationError):
        sdk.register("custom.x", no_args)

    def bad_annotation(event: int) -> None: ...

    with pytest.raises(ConfigurationError):
        sdk.register("custom.y", bad_annotation)


def test_static_helpers() -> None:
    assert KiketSDK.allow is allow
    assert KiketSDK.deny is deny
    assert KiketSDK.pending is pending
    sdk = KiketSDK(webhook_secret=SECRET, telemetry_enabled=False)
    assert sdk.allow is allow


def test_router_mounted_into_user_app() -> None:
    sdk = _sdk()
    app = FastAPI()
    app.include_router(sdk.router, prefix="/kiket")

    @app.get("/mine")
    async def mine() -> dict[str, str]:
        return {"mine": "yes"}

    with TestClient(app) as c:
        response = post(c, path="/kiket/v/v1/webhooks/issue.created")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "allow"
        assert post(c, path="/kiket/webhooks/custom.none?version=v1").json() == {"ok": True}
        assert post(c, path="/kiket/v/v1/webhooks/issue.created", secret="x").status_code == 401
        assert c.get("/kiket/health").json()["status"] == "ok"
        assert c.get("/mine").json() == {"mine": "yes"}

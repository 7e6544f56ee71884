"""Every error answer of the webhook endpoint, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from kiket_sdk import HandlerContext, KiketSDK, KiketSDKError
from kiket_sdk.events import IssueCreated

from ._helpers import SECRET, encode, issue_payload, post, signed_headers


class CustomerVisibleError(KiketSDKError):
    pass


def _sdk(**options: Any) -> KiketSDK:
    options.setdefault("webhook_secret", SECRET)
    options.setdefault("telemetry_enabled", False)
    sdk = KiketSDK(**options)

    @sdk.webhook("issue.created", version="v1")
    async def typed(event: IssueCreated, ctx: HandlerContext) -> dict[str, Any]:
        return {"title": event.issue.title}

    @sdk.webhook("issue.created", version="v2")
    async def v2(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
        return {"version": 2}

    @sdk.webhook("issue.updated", version="v1", required_scopes=["issues.read", "issues.write"])
    async def scoped(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
        return {"scoped": True}

    @sdk.webhook("custom.scoped", version="v1")
    async def inner_scope(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
        ctx.require_scopes("admin")
        return {"admin": True}

    @sdk.webhook("custom.boom", version="v1")
    async def boom(event: dict[str, Any], ctx: HandlerContext) -> None:
        raise RuntimeError("db password is hunter2")

    @sdk.webhook("custom.sdkerror", version="v1")
    async def sdk_error(event: dict[str, Any], ctx: HandlerContext) -> None:
        raise CustomerVisibleError("quota exhausted")

    @sdk.webhook("custom.plain", version="v1")
    def plain(event: dict[str, Any]) -> dict[str, Any]:
        return {"plain": True}

    return sdk


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(_sdk()) as c:
        yield c


def _scoped(*scopes: str) -> dict[str, Any]:
    return issue_payload(authentication={"scopes": list(scopes)})


def test_400_malformed_json(client: TestClient) -> None:
    for event in ("issue.created", "custom.plain"):
        response = post(client, event, body=b'{"id": "x", "issue": ')
        assert response.status_code == 400
        assert response.json() == {"error": "request body is not valid JSON"}


def test_400_non_object_body(client: TestClient) -> None:
    for event in ("issue.created", "custom.plain"):
        response = post(client, event, body=b'[{"id": 1}]')
        assert response.status_code == 400
        assert response.json() == {"error": "request body must be a JSON object"}


def test_400_missing_version(client: TestClient) -> None:
    response = post(client, "custom.plain", version=None)
    assert response.status_code == 400
    assert "missing event version" in response.json()["error"]
    blank = post(client, "custom.plain", version=None, headers={"X-Kiket-Event-Version": "  "})
    assert blank.status_code == 400


def test_401_bad_signature(client: TestClient) -> None:
    assert post(client, secret="nope").status_code == 401


def test_403_required_scopes(client: TestClient) -> None:
    response = post(client, "issue.updated", payload=_scoped("issues.read"))
    assert response.status_code == 403
    assert response.json() == {
        "error": "Insufficient scopes",
        "required_scopes": ["issues.read", "issues.write"],
        "missing_scopes": ["issues.write"],
    }
    granted = post(client, "issue.updated", payload=_scoped("issues.read", "issues.write"))
    assert granted.status_code == 200
    assert granted.json() == {"scoped": True}


def test_403_require_scopes_inside_handler(client: TestClient) -> None:
    response = post(client, "custom.scoped", payload=_scoped("issues.read"))
    assert response.status_code == 403
    assert response.json() == {
        "error": "Insufficient scopes",
        "required_scopes": ["admin"],
        "missing_scopes": ["admin"],
    }


def test_star_scope_grants_everything(client: TestClient) -> None:
    assert post(client, "issue.updated", payload=_scoped("*")).status_code == 200
    assert post(client, "custom.scoped", payload=_scoped("*")).json() == {"admin": True}


def test_404_lists_registered_versions(client: TestClient) -> None:
    response = post(client, "issue.created", version="v9")
    assert response.status_code == 404
    body = response.json()
    assert body["registered_versions"] == ["v1", "v2"]
    assert "v1, v2" in body["error"]
    unknown = post(client, "nobody.listens", version="v1")
    assert unknown.status_code == 404
    assert unknown.json()["registered_versions"] == []


def test_413_with_content_length() -> None:
    with TestClient(_sdk(max_body_size=200)) as c:
        payload = issue_payload(padding="x" * 300)
        response = post(c, payload=payload)
        assert response.status_code == 413
        assert "200 bytes" in response.json()["error"]
        assert post(c).status_code == 200


def test_413_with_streamed_body() -> None:
    body = encode(issue_payload(padding="x" * 500))
    headers = signed_headers(body)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64):
            yield body[start : start + 64]

    with TestClient(_sdk(max_body_size=300)) as c:
        response = c.post("/v/v1/webhooks/issue.created", content=chunks(), headers=headers)
    assert response.status_code == 413


def test_streamed_body_under_limit_is_accepted(client: TestClient) -> None:
    body = encode(issue_payload())
    headers = signed_headers(body)

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    response = client.post("/v/v1/webhooks/issue.created", content=chunks(), headers=headers)
    assert response.status_code == 200, response.text


def test_400_invalid_content_length(client: TestClient) -> None:
    body = encode(issue_payload())
    headers: dict[str, Any] = signed_headers(body)
    for bad in (b"abc", b"\xb2", "\u0663".encode()):
        headers["Content-Length"] = bad
        response = client.post("/v/v1/webhooks/issue.created", content=body, headers=headers)
        assert response.status_code == 400, bad


def test_415_text_plain(client: TestClient) -> None:
    response = post(client, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "text/plain" in response.json()["error"]


def test_json_content_type_variants_accepted(client: TestClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.kiket+json"):
        response = post(client, headers={"Content-Type": content_type})
        assert response.status_code == 200, content_type


def test_422_details_without_echoing_input(client: TestClient) -> None:
    marker = "SENSITIVE-VALUE-9f8e7d"
    payload = issue_payload(issue={"id": {"nested": marker}, "title": [marker]})
    response = post(client, payload=payload)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "payload does not match the issue.created@v1 schema"
    assert isinstance(body["details"], list)
    assert body["details"]
    assert all({"loc", "msg", "type"} <= set(d) for d in body["details"])
    assert any(d["loc"][:2] == ["issue", "title"] for d in body["details"])
    assert marker not in response.text
    missing = post(client, payload={"id": "evt-no-issue"})
    assert missing.status_code == 422
    assert any(d["loc"] == ["issue"] for d in missing.json()["details"])


def test_500_generic_message_hides_exception_text(client: TestClient) -> None:
    response = post(client, "custom.boom")
    assert response.status_code == 500
    assert response.json() == {"error": "handler failed", "error_class": "RuntimeError"}
    assert "hunter2" not in response.text


def test_500_sdk_error_text_is_hidden_too(client: TestClient) -> None:
    # Was "shown": an SDK error's text can name an internal URL (APIConnectionError) or echo
    # an upstream answer (APIStatusError), so only debug=True shows any text.
    response = post(client, "custom.sdkerror")
    assert response.status_code == 500
    assert response.json() == {"error": "handler failed", "error_class": "CustomerVisibleError"}


def test_500_debug_shows_exception_text() -> None:
    with TestClient(_sdk(debug=True)) as c:
        response = post(c, "custom.boom")
    assert response.status_code == 500
    assert response.json()["detail"] == "db password is hunter2"


def test_unknown_route_and_method() -> None:
    with TestClient(_sdk()) as c:
        assert c.get("/v/v1/webhooks/issue.created").status_code == 405
        assert c.post("/nope").status_code == 404


def test_non_ascii_digit_version_is_404_not_500(client: TestClient) -> None:
    # "V²": str.isdigit() is true for superscripts but int() rejects them
    for path in ("/v/V%C2%B2/webhooks/custom.plain", "/webhooks/custom.plain?version=V%C2%B2"):
        body = encode(issue_payload())
        response = client.post(path, content=body, headers=signed_headers(body))
        assert response.status_code == 404, path


async def test_non_ascii_content_length_is_400_not_500() -> None:
    import httpx

    sdk = _sdk()
    body = encode(issue_payload())
    transport = httpx.ASGITransport(app=sdk)
    async with httpx.AsyncClient(transport=transport, base_url="http://kiket.test") as http:
        for bad in (b"\xb2", b"\xb9\xb2"):  # latin-1 superscript digits, sent as raw bytes
            headers: dict[str, Any] = signed_headers(body)
            headers["Content-Length"] = bad
            response = await http.post(
                "/v/v1/webhooks/issue.created", content=body, headers=headers
            )
            assert response.status_code == 400, bad

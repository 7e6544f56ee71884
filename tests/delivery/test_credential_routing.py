"""End to end, on real uvicorn servers on loopback: where a handler's credentials go.

The workspace token and the runtime token travel with every call a handler makes, so the API
base a delivery names (``api.base_url``) is used only when HMAC proved the body that names it
*and* its host is allowed: the configured base URL's host (and subdomains), or a host in
``allowed_api_hosts``; never with user info, another scheme, or a downgrade from ``https``. A
runtime token does not cover the body and ``verify=False`` proves nothing: then the configured
base URL is always used.

Loopback has no subdomains: the configured base is ``http://127.0.0.1:<port A>`` and the body
points at ``http://localhost:<port B>`` (another host) or ``http://127.0.0.1:<port B>`` (the
configured host). Each fake API records the requests it receives, headers included. Every
case runs with an ``async def`` and a plain ``def`` handler.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiket_sdk import HandlerContext, KiketSDK, SyncHandlerContext
from kiket_sdk.testing import generate_signing_key, serve_app, sign_runtime_token

from ._deliveries import (
    SECRET,
    UNSIGNED,
    WORKSPACE_TOKEN,
    Call,
    FakeAPI,
    fake_api,
    isolate,
    issue_body,
    make_sdk,
    port_of,
    post,
    sign,
)

RATE_LIMIT_PATH = "/api/v1/ext/rate_limit"
HANDLER_KINDS = ["async", "sync"]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def kiket_key() -> tuple[Any, dict[str, str]]:
    return generate_signing_key(kid="credential-routing-1")


@pytest.fixture
def apis(kiket_key: tuple[Any, dict[str, str]]) -> Iterator[tuple[str, FakeAPI, int, FakeAPI]]:
    """``(configured base URL, its fake, port of a second fake, the second fake)``: the first
    also publishes the JWKS of ``kiket_key``."""
    with fake_api({"keys": [kiket_key[1]]}) as (home_url, home), fake_api() as (other_url, other):
        yield home_url, home, port_of(other_url), other


def register_caller(sdk: KiketSDK, kind: str, outcomes: list[str]) -> None:
    """``issue.created@v1``: call ``ctx.endpoints.rate_limit()`` once; record ``"ok"`` or the
    class of the error."""
    if kind == "async":

        @sdk.webhook("issue.created")
        async def call_async(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
            try:
                await ctx.endpoints.rate_limit()
            except Exception as exc:
                outcomes.append(type(exc).__name__)
            else:
                outcomes.append("ok")
            return {"called": True}

    else:

        @sdk.webhook("issue.created")
        def call_sync(event: dict[str, Any], ctx: SyncHandlerContext) -> dict[str, Any]:
            try:
                ctx.endpoints.rate_limit()
            except Exception as exc:
                outcomes.append(type(exc).__name__)
            else:
                outcomes.append("ok")
            return {"called": True}


def deliver_naming(sdk: KiketSDK, api_base_url: str, *, signed: bool = True) -> None:
    """Serve ``sdk`` and deliver one ``issue.created`` whose body names ``api_base_url``."""
    body = issue_body(api={"base_url": api_base_url})
    with serve_app(sdk) as url:
        response = post(url, body, sign(body) if signed else UNSIGNED)
    assert response.status_code == 200, response.text
    assert response.json() == {"called": True}


def api_calls(fake: FakeAPI) -> list[Call]:
    return [call for call in fake.calls if call.path == RATE_LIMIT_PATH]


def assert_went_to(fake: FakeAPI, *, token: str = WORKSPACE_TOKEN) -> None:
    calls = api_calls(fake)
    assert len(calls) == 1, calls
    assert calls[0].headers.get("authorization") == f"Bearer {token}"


# -- HMAC mode ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", HANDLER_KINDS)
def test_another_host_is_refused_by_default(
    apis: tuple[str, FakeAPI, int, FakeAPI], kind: str
) -> None:
    home_url, home, other_port, other = apis
    outcomes: list[str] = []
    sdk = make_sdk(base_url=home_url, workspace_token=WORKSPACE_TOKEN)
    register_caller(sdk, kind, outcomes)
    deliver_naming(sdk, f"http://localhost:{other_port}")
    assert outcomes == ["ok"]
    assert other.calls == []
    assert_went_to(home)


@pytest.mark.parametrize("kind", HANDLER_KINDS)
def test_an_allowed_host_gets_the_call_with_the_workspace_token(
    apis: tuple[str, FakeAPI, int, FakeAPI], kind: str
) -> None:
    home_url, home, other_port, other = apis
    outcomes: list[str] = []
    sdk = make_sdk(
        base_url=home_url,
        workspace_token=WORKSPACE_TOKEN,
        allowed_api_hosts=[f"localhost:{other_port}"],
    )
    register_caller(sdk, kind, outcomes)
    deliver_naming(sdk, f"http://localhost:{other_port}")
    assert outcomes == ["ok"]
    assert_went_to(other)
    assert api_calls(home) == []


@pytest.mark.parametrize("kind", HANDLER_KINDS)
def test_the_configured_host_on_another_port_is_refused(
    apis: tuple[str, FakeAPI, int, FakeAPI], kind: str
) -> None:
    """Was "allowed" (the port was not checked): another port is another service."""
    home_url, home, other_port, other = apis
    outcomes: list[str] = []
    sdk = make_sdk(base_url=home_url, workspace_token=WORKSPACE_TOKEN)
    register_caller(sdk, kind, outcomes)
    deliver_naming(sdk, f"http://127.0.0.1:{other_port}/")
    assert outcomes == ["ok"]
    assert other.calls == []
    assert_went_to(home)


@pytest.mark.parametrize("kind", HANDLER_KINDS)
def test_an_allowed_host_without_a_port_allows_only_the_default_port(
    apis: tuple[str, FakeAPI, int, FakeAPI], kind: str
) -> None:
    home_url, home, other_port, other = apis
    outcomes: list[str] = []
    sdk = make_sdk(
        base_url=home_url, workspace_token=WORKSPACE_TOKEN, allowed_api_hosts=["localhost"]
    )
    register_caller(sdk, kind, outcomes)
    deliver_naming(sdk, f"http://localhost:{other_port}")
    assert other.calls == []
    assert_went_to(home)


@pytest.mark.parametrize("kind", HANDLER_KINDS)
def test_the_configured_origin_itself_is_allowed_in_any_spelling(
    apis: tuple[str, FakeAPI, int, FakeAPI], kind: str
) -> None:
    home_url, home, _, _ = apis
    outcomes: list[str] = []
    sdk = make_sdk(base_url=home_url, workspace_token=WORKSPACE_TOKEN)
    register_caller(sdk, kind, outcomes)
    deliver_naming(sdk, home_url.replace("http://", "HTTP://") + "/")
    assert outcomes == ["ok"]
    assert_went_to(home)


@pytest.mark.parametrize("kind", HANDLER_KINDS)
@pytest.mark.parametrize(
    "named",
    [
        "http://user:secret@localhost:{port}",
        "http://user@localhost:{port}",
        "http://:secret@localhost:{port}",
        "ftp://localhost:{port}",
        "ws://localhost:{port}",
        "//localhost:{port}",
        "localhost:{port}",
        "http://localhost:{port}.evil.example",
        "http://localhost.evil.example:{port}",
        "http://evil-localhost:{port}",
    ],
)
def test_user_info_other_schemes_and_lookalikes_are_refused(
    apis: tuple[str, FakeAPI, int, FakeAPI], kind: str, named: str
) -> None:
    home_url, home, other_port, other = apis
    outcomes: list[str] = []
    sdk = make_sdk(
        base_url=home_url,
        workspace_token=WORKSPACE_TOKEN,
        allowed_api_hosts=[f"localhost:{other_port}"],
    )
    register_caller(sdk, kind, outcomes)
    deliver_naming(sdk, named.format(port=other_port))
    assert outcomes == ["ok"]
    assert other.calls == []
    assert_went_to(home)


@pytest.mark.parametrize("kind", HANDLER_KINDS)
def test_an_https_base_is_never_downgraded_to_http(
    apis: tuple[str, FakeAPI, int, FakeAPI], kind: str
) -> None:
    home_url, home, other_port, other = apis
    outcomes: list[str] = []
    # The configured base is https (the fake speaks plain HTTP, so calls to it fail: what
    # matters is that the http:// base named in the body gets nothing).
    sdk = make_sdk(
        base_url=home_url.replace("http://", "https://"),
        workspace_token=WORKSPACE_TOKEN,
        allowed_api_hosts=[f"localhost:{other_port}"],
    )
    register_caller(sdk, kind, outcomes)
    deliver_naming(sdk, f"http://localhost:{other_port}")
    assert len(outcomes) == 1
    assert outcomes != ["ok"]
    assert other.calls == []
    assert home.calls == []  # TLS to a plain-HTTP server never reaches its app


@pytest.mark.parametrize("kind", HANDLER_KINDS)
@pytest.mark.parametrize("secret", [None, SECRET], ids=["no secret", "a secret, body signed"])
def test_verify_false_never_uses_the_body_base_url(
    apis: tuple[str, FakeAPI, int, FakeAPI], kind: str, secret: str | None
) -> None:
    """Nothing is proven with verification off, not even a correctly signed body."""
    home_url, home, other_port, other = apis
    outcomes: list[str] = []
    sdk = make_sdk(
        webhook_secret=secret,
        verify=False,
        base_url=home_url,
        workspace_token=WORKSPACE_TOKEN,
        allowed_api_hosts=[f"localhost:{other_port}"],
    )
    register_caller(sdk, kind, outcomes)
    deliver_naming(sdk, f"http://localhost:{other_port}", signed=secret is not None)
    assert outcomes == ["ok"]
    assert other.calls == []
    assert_went_to(home)


# -- token mode: the token does not cover the body -------------------------------------------------


@pytest.mark.parametrize("kind", HANDLER_KINDS)
def test_token_mode_never_uses_the_body_base_url_even_on_an_allowed_host(
    apis: tuple[str, FakeAPI, int, FakeAPI], kind: str, kiket_key: tuple[Any, dict[str, str]]
) -> None:
    home_url, home, other_port, other = apis
    key, jwk = kiket_key
    token = sign_runtime_token(private_key=key, kid=jwk["kid"], org_id=7)
    outcomes: list[str] = []
    sdk = make_sdk(
        webhook_secret=None,
        base_url=home_url,
        workspace_token=WORKSPACE_TOKEN,
        allowed_api_hosts=[f"localhost:{other_port}"],
    )
    register_caller(sdk, kind, outcomes)
    body = issue_body(
        authentication={"runtime_token": token},
        api={"base_url": f"http://localhost:{other_port}"},
    )
    with serve_app(sdk) as url:
        response = post(url, body, UNSIGNED)
    assert response.status_code == 200, response.text
    assert outcomes == ["ok"]
    assert other.calls == []
    assert_went_to(home)
    assert api_calls(home)[0].headers.get("x-kiket-runtime-token") == token

"""Each proof is trusted for exactly what it covers: found by trying to break the model.

* a runtime token covers its claims, not the body: in token mode the body's ``authentication``
  block (scopes, expiry, token type) is not believed;
* a verified token must be meant for this extension (``aud``, a named ``ext_id``);
* 401 texts name no library exception text; 500 texts name nothing without ``debug=True``.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from kiket_sdk import HandlerContext, KiketSDKError
from kiket_sdk.testing import generate_signing_key, serve_app, sign_runtime_token

from ._deliveries import EXT_ID, UNSIGNED, encode, fake_api, isolate, issue_payload, make_sdk, post


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def kiket_key() -> tuple[Any, dict[str, str]]:
    return generate_signing_key(kid="coverage-1")


def _token_delivery(token: str, **authentication: Any) -> bytes:
    return encode(issue_payload(authentication={"runtime_token": token, **authentication}))


def _serve_token_mode(
    jwk: dict[str, str], body: bytes, *, required_scopes: list[str] | None = None, **options: Any
) -> tuple[Any, list[Any]]:
    seen: list[Any] = []
    with fake_api({"keys": [jwk]}) as (kiket_url, _):
        sdk = make_sdk(webhook_secret=None, base_url=kiket_url, **options)

        @sdk.webhook("issue.created", required_scopes=required_scopes)
        async def on_issue(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
            seen.append(ctx.auth)
            return {"ok": True}

        with serve_app(sdk) as url:
            return post(url, body, UNSIGNED), seen


def test_token_mode_takes_no_scopes_or_expiry_from_the_body(
    kiket_key: tuple[Any, dict[str, str]],
) -> None:
    key, jwk = kiket_key
    token = sign_runtime_token(private_key=key, kid=jwk["kid"], ext_id=EXT_ID)  # no scopes
    body = _token_delivery(
        token, scopes=["*"], expires_at="2099-01-01T00:00:00Z", token_type="Forged"
    )
    refused, _ = _serve_token_mode(jwk, body, required_scopes=["issues.write"])
    assert refused.status_code == 403, refused.text
    assert refused.json()["missing_scopes"] == ["issues.write"]
    answered, seen = _serve_token_mode(jwk, body)
    assert answered.status_code == 200, answered.text
    (auth,) = seen
    assert auth.scopes == ()
    assert auth.expires_at is not None
    assert not auth.expires_at.startswith("2099")  # from the token's exp, not the body
    assert auth.token_type is None


def test_token_mode_scopes_come_from_the_token(kiket_key: tuple[Any, dict[str, str]]) -> None:
    key, jwk = kiket_key
    token = sign_runtime_token(private_key=key, kid=jwk["kid"], scopes=["issues.write"])
    answered, seen = _serve_token_mode(
        jwk, _token_delivery(token, scopes=[]), required_scopes=["issues.write"]
    )
    assert answered.status_code == 200, answered.text
    assert seen[0].scopes == ("issues.write",)


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"ext_id": "com.other.ext"}, 401),
        ({"aud": "com.other.ext"}, 401),
        ({"aud": ["com.other.ext", "com.third"]}, 401),
        ({"aud": EXT_ID}, 200),
        ({"aud": ["com.other.ext", EXT_ID]}, 200),
        ({"ext_id": EXT_ID}, 200),
        ({"ext_id": 42}, 200),  # the platform's internal number: not comparable, not refused
        ({"ext_id": "42"}, 200),
        ({"ext_id": ["com.other.ext"]}, 401),
        ({"ext_id": {"id": "com.other.ext"}}, 401),
        ({"ext_id": True}, 401),
        ({"ext_id": 1.5}, 401),
        ({}, 200),
    ],
)
def test_a_token_for_another_extension_is_refused(
    kiket_key: tuple[Any, dict[str, str]], claims: dict[str, Any], status: int
) -> None:
    key, jwk = kiket_key
    token = sign_runtime_token(private_key=key, kid=jwk["kid"], **claims)
    answered, seen = _serve_token_mode(jwk, _token_delivery(token))
    assert answered.status_code == status, answered.text
    assert len(seen) == (status == 200)


def test_a_token_with_an_audience_needs_a_configured_extension_id(
    kiket_key: tuple[Any, dict[str, str]],
) -> None:
    key, jwk = kiket_key
    token = sign_runtime_token(private_key=key, kid=jwk["kid"], aud=EXT_ID)
    answered, _ = _serve_token_mode(jwk, _token_delivery(token), extension_id=None)
    assert answered.status_code == 401
    assert "extension_id" in answered.json()["error"]


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "token",
    [
        _segment(b'{"alg":"ES256","kid":"coverage-1"}') + "." + "A" * 40 + ".c2ln",
        _segment(b'{"alg":"ES256","kid":"coverage-1"}') + "." + _segment(b"9" * 5000) + ".x",
        "e30." + "9" * 5000 + ".x",
        "a.b.c",
    ],
)
def test_a_malformed_token_gets_a_401_without_library_text(
    kiket_key: tuple[Any, dict[str, str]], token: str
) -> None:
    _, jwk = kiket_key
    answered, _ = _serve_token_mode(jwk, _token_delivery(token))
    assert answered.status_code == 401
    error = answered.json()["error"]
    assert len(error) < 200
    assert "Exceeds the limit" not in error
    assert "Invalid" not in error


class _UpstreamError(KiketSDKError):
    pass


@pytest.mark.parametrize("debug", [False, True])
def test_a_500_names_no_exception_text_unless_debug(debug: bool) -> None:
    sdk = make_sdk(debug=debug)

    @sdk.webhook("issue.created")
    async def on_issue(event: dict[str, Any], ctx: HandlerContext) -> None:
        raise _UpstreamError("could not reach http://internal-kiket.corp.local:8080")

    with serve_app(sdk) as url:
        answered = post(url, encode(issue_payload()))
    assert answered.status_code == 500
    assert ("internal-kiket" in answered.text) is debug
    assert answered.json()["error_class"] == "_UpstreamError"


_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _other_signature_form(token: str) -> str:
    """The same token with its ECDSA signature (r, s) written as (r, n - s): also valid."""
    head, claims, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    flipped = r + (_P256_ORDER - s).to_bytes(32, "big")
    return f"{head}.{claims}.{_segment(flipped)}"


def test_a_token_vouches_for_one_body_whatever_its_signature_spelling(
    kiket_key: tuple[Any, dict[str, str]],
) -> None:
    key, jwk = kiket_key
    token = sign_runtime_token(private_key=key, kid=jwk["kid"], ext_id=EXT_ID)
    twin = _other_signature_form(token)
    assert twin != token
    seen: list[Any] = []
    with fake_api({"keys": [jwk]}) as (kiket_url, _):
        sdk = make_sdk(webhook_secret=None, base_url=kiket_url)

        @sdk.webhook("issue.created")
        async def on_issue(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
            seen.append(event["id"])
            return {"ok": True}

        with serve_app(sdk) as url:
            first = post(url, _token_delivery(token), UNSIGNED)
            reused = post(url, _token_delivery(twin), UNSIGNED)  # another body, the twin token
    assert first.status_code == 200, first.text
    assert reused.status_code == 401, reused.text
    assert len(seen) == 1


def test_the_other_signature_spelling_is_a_valid_token_on_its_own(
    kiket_key: tuple[Any, dict[str, str]],
) -> None:
    """The control for the test above: the twin is refused for its reuse, not for its form."""
    key, jwk = kiket_key
    twin = _other_signature_form(sign_runtime_token(private_key=key, kid=jwk["kid"]))
    answered, seen = _serve_token_mode(jwk, _token_delivery(twin))
    assert answered.status_code == 200, answered.text
    assert len(seen) == 1

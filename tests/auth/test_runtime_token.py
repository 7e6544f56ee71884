"""ES256 runtime tokens: `kiket_sdk._runtime_token`, with the JWKS served by a real HTTP server."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import doctest
import hashlib
import hmac
import json
import logging
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import kiket_sdk._runtime_token
from kiket_sdk._exceptions import (
    ConfigurationError,
    SigningKeysUnavailableError,
    WebhookVerificationError,
)
from kiket_sdk._runtime_token import jwks_url_for
from kiket_sdk.auth import (
    JWKSCache,
    RuntimeTokenClaims,
    read_runtime_token_claims,
    verify_runtime_token,
)
from kiket_sdk.testing import generate_signing_key, serve_app, sign_runtime_token

NOW = 1_767_225_600
KEY, JWK = generate_signing_key(kid="kiket-2026-01")
ATTACKER_KEY, ATTACKER_JWK = generate_signing_key(kid="attacker")
CLAIMS = {
    "sub": "installation:9",
    "org_id": 12,
    "ext_id": "com.example.triage",
    "proj_id": "PRJ-3",
    "pi_id": 77,
    "scopes": ["issues:read", "custom_data:write"],
    "src": "webhook",
    "jti": "c0ffee",
}


def token(
    claims: dict[str, Any] | None = None, *, key: Any = KEY, kid: str = JWK["kid"], **extra: Any
) -> str:
    return sign_runtime_token(
        {**CLAIMS, **(claims or {})}, private_key=key, kid=kid, now=NOW, **extra
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(
    header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes] | None = None
) -> str:
    """A token built by hand, as an attacker would: ``sign(signing_input) -> signature``."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()) if sign else b'')}"


def static_cache() -> JWKSCache:
    return JWKSCache.from_jwks({"keys": [JWK]})


async def verify(
    raw_token: str, cache: JWKSCache | None = None, **kwargs: Any
) -> RuntimeTokenClaims:
    return await verify_runtime_token(raw_token, cache or static_cache(), now=NOW, **kwargs)


# --- a real key server ----------------------------------------------------------------------


@dataclass
class KeyServer:
    base_url: str
    keys: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0
    status: int = 200
    body: bytes | None = None  # served verbatim instead of the keys when set
    delay: float = 0.0

    def reset(self) -> None:
        self.keys, self.requests, self.status, self.body, self.delay = [JWK], 0, 200, None, 0.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def key_server_process() -> Iterator[KeyServer]:
    server = KeyServer(base_url="")

    async def jwks(request: Request) -> Response:
        server.requests += 1
        await asyncio.sleep(server.delay)
        if server.body is not None:
            return Response(server.body, status_code=server.status, media_type="application/json")
        return JSONResponse({"keys": server.keys}, status_code=server.status)

    app = Starlette(routes=[Route("/.well-known/jwks.json", jwks)])
    with serve_app(app) as base_url:
        server.base_url = base_url
        yield server


@pytest.fixture
def key_server(key_server_process: KeyServer) -> KeyServer:
    key_server_process.reset()
    return key_server_process


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(key_server: KeyServer, http: httpx.AsyncClient, clock: FakeClock) -> JWKSCache:
    return JWKSCache(jwks_url_for(key_server.base_url), http, clock=clock)


# --- valid tokens ---------------------------------------------------------------------------


async def test_valid_token_gives_typed_claims() -> None:
    claims = await verify(token())
    assert claims == RuntimeTokenClaims(
        sub="installation:9",
        org_id=12,
        ext_id="com.example.triage",
        proj_id="PRJ-3",
        pi_id=77,
        scopes=("issues:read", "custom_data:write"),
        src="webhook",
        iss="kiket.dev",
        iat=NOW,
        exp=NOW + 300,
        jti="c0ffee",
    )
    assert claims.raw["org_id"] == 12


async def test_valid_token_with_keys_from_the_server(
    cache: JWKSCache, key_server: KeyServer
) -> None:
    assert (await verify(token(), cache)).org_id == 12
    assert (await verify(token(), cache)).org_id == 12
    assert key_server.requests == 1  # cached


async def test_leeway_applies_to_exp_and_iat() -> None:
    await verify(token(exp=NOW - 29, iat=NOW + 29))
    await verify(token(exp=NOW - 5), leeway=10)


# --- claims refused -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": NOW - 31}, "expired"),
        ({"exp": NOW - 1000, "iat": NOW - 1300}, "expired"),
        ({"exp": None}, "no valid exp claim"),
        ({"exp": "tomorrow"}, "no valid exp claim"),
        ({"iat": None}, "no valid iat claim"),
        ({"iat": True}, "no valid iat claim"),
        ({"iat": NOW + 31}, "issued in the future"),
        ({"nbf": NOW + 60}, "not valid yet"),
        ({"nbf": "soon"}, "not valid yet"),
        ({"iss": "evil.example"}, "issuer is not 'kiket.dev'"),
        ({"iss": None}, "issuer is not 'kiket.dev'"),
    ],
)
async def test_bad_claims_are_refused(claims: dict[str, Any], message: str) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        await verify(token(claims))


async def test_custom_issuer() -> None:
    await verify(token(), issuer="kiket.dev")
    await verify(
        sign_runtime_token(private_key=KEY, kid=JWK["kid"], issuer="staging", now=NOW),
        issuer="staging",
    )
    with pytest.raises(WebhookVerificationError, match="issuer"):
        await verify(token(), issuer="staging")


async def test_nan_now_fails_closed() -> None:
    with pytest.raises(WebhookVerificationError, match="expired"):
        await verify_runtime_token(token(), static_cache(), now=float("nan"))


# --- algorithm and key confusion ------------------------------------------------------------


def public_pem() -> bytes:
    return KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


async def test_hs256_signed_with_the_public_key_is_refused_before_any_fetch(
    cache: JWKSCache, key_server: KeyServer
) -> None:
    payload = {**CLAIMS, "iss": "kiket.dev", "iat": NOW, "exp": NOW + 300}
    forged = forge(
        {"alg": "HS256", "typ": "JWT", "kid": JWK["kid"]},
        payload,
        lambda data: hmac.new(public_pem(), data, hashlib.sha256).digest(),
    )
    with pytest.raises(WebhookVerificationError, match="'HS256' is not allowed"):
        await verify(forged, cache)
    assert key_server.requests == 0


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "", None, "RS256", "ES384", "es256", 256])
async def test_only_es256_is_accepted(alg: Any, cache: JWKSCache, key_server: KeyServer) -> None:
    header = {"typ": "JWT", "kid": JWK["kid"]} | ({} if alg is None else {"alg": alg})
    payload = {"iss": "kiket.dev", "iat": NOW, "exp": NOW + 300}
    with pytest.raises(WebhookVerificationError, match=r"is not allowed|malformed"):
        await verify(forge(header, payload), cache)
    assert key_server.requests == 0


async def test_es256_header_with_an_empty_signature_is_refused() -> None:
    forged = forge(
        {"alg": "ES256", "kid": JWK["kid"]}, {"iss": "kiket.dev", "iat": NOW, "exp": NOW + 1}
    )
    with pytest.raises(WebhookVerificationError, match=r"signature is invalid|malformed"):
        await verify(forged)


async def test_kid_is_required() -> None:
    forged = forge({"alg": "ES256"}, {"iss": "kiket.dev", "iat": NOW, "exp": NOW + 1})
    with pytest.raises(WebhookVerificationError, match="no key id"):
        await verify(forged)


async def test_attacker_key_with_a_kid_the_jwks_lacks(
    cache: JWKSCache, key_server: KeyServer
) -> None:
    # Not yet published as far as the cache knows: temporary (503), never a pass.
    with pytest.raises(SigningKeysUnavailableError, match="not published yet"):
        await verify(token(key=ATTACKER_KEY, kid=ATTACKER_JWK["kid"]), cache)
    with pytest.raises(WebhookVerificationError, match="unknown signing key id"):
        await verify(token(key=ATTACKER_KEY, kid=ATTACKER_JWK["kid"]))  # fixed keys: permanent


async def test_attacker_key_reusing_the_real_kid() -> None:
    with pytest.raises(WebhookVerificationError, match="signature is invalid"):
        await verify(token(key=ATTACKER_KEY, kid=JWK["kid"]))


async def test_tampered_payload() -> None:
    header, _, signature = token().split(".")
    evil = b64(
        json.dumps(
            {**CLAIMS, "org_id": 13, "iss": "kiket.dev", "iat": NOW, "exp": NOW + 300}
        ).encode()
    )
    with pytest.raises(WebhookVerificationError, match="signature is invalid"):
        await verify(f"{header}.{evil}.{signature}")


@pytest.mark.parametrize("raw", ["", "abc", "a.b.c", "a.b", "....", "é.é.é", "x" * 20_000])
async def test_malformed_tokens(raw: str) -> None:
    with pytest.raises(WebhookVerificationError):
        await verify(raw)


# --- the JWKS cache -------------------------------------------------------------------------


async def test_unknown_kid_refetches_once_then_is_rate_limited(
    cache: JWKSCache, key_server: KeyServer, clock: FakeClock
) -> None:
    await verify(token(), cache)
    assert key_server.requests == 1

    rotated_key, rotated_jwk = generate_signing_key(kid="kiket-2026-07")
    key_server.keys = [JWK, rotated_jwk]  # Kiket rotates: the new kid is unknown to the cache
    clock.now += 10  # the default min_refetch_interval
    await verify(token(key=rotated_key, kid=rotated_jwk["kid"]), cache)
    assert key_server.requests == 2

    for n in range(20):  # a flood of made-up kids inside the interval: no further fetch
        with pytest.raises(SigningKeysUnavailableError, match="not published yet") as caught:
            await verify(token(key=ATTACKER_KEY, kid=f"random-{n}"), cache)
        assert caught.value.retry_after == 10
    assert key_server.requests == 2

    clock.now += 9.5
    with pytest.raises(SigningKeysUnavailableError) as caught:
        await cache.get_signing_key("random-again")
    assert (caught.value.retry_after, key_server.requests) == (1, 2)  # 0.5 s, rounded up
    clock.now += 0.5
    with pytest.raises(SigningKeysUnavailableError, match="not published yet"):
        await cache.get_signing_key("random-again")
    assert key_server.requests == 3


async def test_concurrent_callers_share_one_fetch(cache: JWKSCache, key_server: KeyServer) -> None:
    key_server.delay = 0.05
    keys = await asyncio.gather(*(cache.get_signing_key(JWK["kid"]) for _ in range(25)))
    assert len({id(key) for key in keys}) == 1
    assert key_server.requests == 1
    results = await asyncio.gather(
        *(cache.get_signing_key(f"nope-{n}") for n in range(10)), return_exceptions=True
    )
    assert all(isinstance(result, SigningKeysUnavailableError) for result in results)
    assert key_server.requests == 1


async def test_keys_expire_after_ttl(
    cache: JWKSCache, key_server: KeyServer, clock: FakeClock
) -> None:
    await cache.get_signing_key(JWK["kid"])
    clock.now += 3599
    await cache.get_signing_key(JWK["kid"])
    assert key_server.requests == 1
    clock.now += 1
    await cache.get_signing_key(JWK["kid"])
    assert key_server.requests == 2


async def test_stale_keys_are_served_while_a_refresh_fails(
    cache: JWKSCache, key_server: KeyServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await verify(token(), cache)
    key_server.status = 503
    clock.now += 3600
    with caplog.at_level(logging.WARNING, logger="kiket_sdk"):
        await verify(token(), cache)
    assert key_server.requests == 2
    assert "HTTP 503" in caplog.text


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, None, "HTTP 500"),
        (404, b"not found", "HTTP 404"),
        (200, b"<html>", "not valid JSON"),
        (200, b"\xff\xfe", "not valid JSON"),
        (200, b'{"keys": "none"}', "not a JWKS"),
        (200, b"[]", "not a JWKS"),
    ],
)
async def test_fetch_errors(
    cache: JWKSCache,
    key_server: KeyServer,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: bytes | None,
    reason: str,
) -> None:
    key_server.status, key_server.body = status, body
    with caplog.at_level(logging.WARNING, logger="kiket_sdk"):
        for _ in range(3):  # no retry before the backoff passed, failing the same way meanwhile
            with pytest.raises(SigningKeysUnavailableError, match="could not fetch signing keys"):
                await verify(token(), cache)
    assert key_server.requests == 1
    assert reason in caplog.text  # the reason goes to the log, not to the caller
    assert key_server.base_url not in caplog.text


async def test_unreachable_key_server(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connection refused
        cache = JWKSCache(jwks_url_for(f"http://127.0.0.1:{port}"), http, timeout=2)
        with (
            caplog.at_level(logging.WARNING, logger="kiket_sdk"),
            pytest.raises(SigningKeysUnavailableError) as caught,
        ):
            await cache.get_signing_key(JWK["kid"])
    assert str(caught.value) == "could not fetch signing keys from Kiket; retry later"
    assert "ConnectError" in caplog.text
    assert "127.0.0.1" not in caplog.text


async def test_only_p256_es256_public_keys_are_used() -> None:
    rsa_jwk = RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048).public_key(), as_dict=True)
    p384 = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP384R1()).public_key(), as_dict=True)
    private_jwk = ECAlgorithm.to_jwk(KEY, as_dict=True)  # includes "d": only x/y are kept
    cache = JWKSCache.from_jwks(
        {
            "keys": [
                rsa_jwk | {"kid": "rsa"},
                p384 | {"kid": "p384"},
                JWK | {"kid": "es384", "alg": "ES384"},
                JWK | {"kid": "no-x", "x": ""},
                {"kid": "junk"},
                "junk",
                private_jwk | {"kid": "priv"},
            ]
        }
    )
    for kid in ("rsa", "p384", "es384", "no-x", "junk"):
        with pytest.raises(WebhookVerificationError, match="unknown signing key id"):
            await cache.get_signing_key(kid)
    assert isinstance(await cache.get_signing_key("priv"), ec.EllipticCurvePublicKey)
    assert (await verify(token(kid="priv"), cache)).org_id == 12


def test_from_jwks_refuses_a_non_jwks() -> None:
    with pytest.raises(WebhookVerificationError, match="not a JWKS"):
        JWKSCache.from_jwks({"key": []})


def test_jwks_url_always_comes_from_the_configured_base_url() -> None:
    assert jwks_url_for("https://kiket.dev") == "https://kiket.dev/.well-known/jwks.json"
    assert jwks_url_for("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/.well-known/jwks.json"
    with pytest.raises(ConfigurationError, match="KIKET_BASE_URL"):
        jwks_url_for(" ")


# --- reading claims without verification ----------------------------------------------------


def test_read_claims_without_verification() -> None:
    claims = read_runtime_token_claims(token(key=ATTACKER_KEY, exp=NOW - 10_000))
    assert (claims.org_id, claims.scopes, claims.exp) == (
        12,
        ("issues:read", "custom_data:write"),
        NOW - 10_000,
    )


@pytest.mark.parametrize("raw", ["", "not-a-token", "a.b.c", None, 42])
def test_read_claims_of_a_malformed_token(raw: Any) -> None:
    with pytest.raises(WebhookVerificationError):
        read_runtime_token_claims(raw)


def test_claims_from_mapping_tolerates_odd_types() -> None:
    claims = RuntimeTokenClaims.from_mapping(
        {"sub": True, "org_id": "7", "scopes": "a b", "iat": 1.9, "exp": float("inf"), "src": 3}
    )
    assert (claims.sub, claims.org_id, claims.scopes, claims.iat, claims.exp, claims.src) == (
        None,
        "7",
        ("a", "b"),
        1,
        None,
        None,
    )
    assert RuntimeTokenClaims.from_mapping({"scopes": ["a", 1, None]}).scopes == ("a",)
    with pytest.raises(TypeError):
        claims.raw["org_id"] = 8  # type: ignore[index]


# --- signing helpers ------------------------------------------------------------------------


def test_sign_runtime_token_defaults_and_omitted_claims() -> None:
    raw = sign_runtime_token(private_key=KEY, kid="k", now=NOW, expires_in=60, iat=None, a=1)
    header = json.loads(base64.urlsafe_b64decode(raw.split(".")[0] + "=="))
    payload = read_runtime_token_claims(raw).raw
    assert (header["alg"], header["kid"]) == ("ES256", "k")
    assert dict(payload) == {"iss": "kiket.dev", "exp": NOW + 60, "a": 1}


def test_generated_keys_are_distinct_and_public() -> None:
    (_, first), (_, second) = generate_signing_key(), generate_signing_key()
    assert first["kid"] != second["kid"]
    assert "d" not in first
    assert (first["kty"], first["crv"], first["alg"], first["use"]) == (
        "EC",
        "P-256",
        "ES256",
        "sig",
    )


# --- never anything but WebhookVerificationError --------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    raw=st.text() | st.lists(st.text(alphabet="abcAB-_=.é0"), min_size=3, max_size=3).map(".".join),
    header=st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "b64"]), json_values)
    | st.just({"alg": "ES256", "kid": JWK["kid"]}),
    payload=st.dictionaries(st.sampled_from(["iss", "iat", "exp", "nbf", "scopes"]), json_values),
    signature=st.binary(max_size=80),
)
def test_arbitrary_tokens_only_raise_verification_errors(
    raw: str, header: dict[str, Any], payload: dict[str, Any], signature: bytes
) -> None:
    cache = static_cache()
    for candidate in (raw, forge(header, payload, lambda _: signature)):
        with pytest.raises(WebhookVerificationError):
            asyncio.run(verify_runtime_token(candidate, cache, now=NOW))
        with contextlib.suppress(WebhookVerificationError):
            read_runtime_token_claims(candidate)


# --- documentation and import cost ----------------------------------------------------------


def test_docstring_examples_of_runtime_token_module() -> None:
    result = doctest.testmod(kiket_sdk._runtime_token)
    assert result.attempted > 0
    assert result.failed == 0


def test_importing_auth_does_not_import_pyjwt_or_cryptography() -> None:
    code = "import sys, kiket_sdk.auth; print(sorted({m.split('.')[0] for m in sys.modules}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "'jwt'" not in out.stdout
    assert "'cryptography'" not in out.stdout

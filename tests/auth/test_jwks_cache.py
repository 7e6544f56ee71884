"""`JWKSCache` against a real loopback key server: outages, rotation, floods, garbage, hygiene.

The key server is a tiny Starlette app whose behaviour is flipped between tests and steps
(``"500"``, ``"keys"``, ``"garbage"``); time is a fake clock, never a sleep.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import logging
import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kiket_sdk._exceptions import (
    ConfigurationError,
    KiketSDKError,
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
KEY_A, JWK_A = generate_signing_key(kid="kiket-a")
KEY_B, JWK_B = generate_signing_key(kid="kiket-b")
UNAVAILABLE = "could not fetch signing keys from Kiket; retry later"
NOT_PUBLISHED = "signing key id is not published yet; retry later"


def token(key: Any = KEY_A, kid: str = JWK_A["kid"]) -> str:
    return sign_runtime_token(private_key=key, kid=kid, now=NOW, org_id=1)


class FakeClock:
    def __init__(self) -> None:
        self.now = 50_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class KeyServer:
    """What the key server does: ``mode`` is ``"500"``, ``"keys"`` or ``"garbage"``."""

    base_url: str = ""
    mode: str = "keys"
    keys: list[dict[str, str]] = field(default_factory=list)
    garbage: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    delay: float = 0.0
    advance: float = 0.0  # seconds added to `clock` while a request is served (a slow fetch)
    clock: FakeClock | None = None

    def reset(self, clock: FakeClock) -> None:
        self.mode, self.keys, self.garbage, self.headers = "keys", [JWK_A], b"", {}
        self.requests, self.delay, self.advance, self.clock = 0, 0.0, 0.0, clock


@pytest.fixture(scope="module")
def key_server_process() -> Iterator[KeyServer]:
    server = KeyServer()

    async def jwks(request: Request) -> Response:
        server.requests += 1
        await asyncio.sleep(server.delay)
        if server.clock is not None:
            server.clock.now += server.advance
        if server.mode == "500":
            return Response("key server down", status_code=500)
        if server.mode == "garbage":
            return Response(server.garbage, media_type="application/json", headers=server.headers)
        return JSONResponse({"keys": server.keys})

    app = Starlette(routes=[Route("/.well-known/jwks.json", jwks)])
    with serve_app(app) as base_url:
        server.base_url = base_url
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(key_server_process: KeyServer, clock: FakeClock) -> KeyServer:
    key_server_process.reset(clock)
    return key_server_process


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def cache(server: KeyServer, http: httpx.AsyncClient, clock: FakeClock) -> JWKSCache:
    return JWKSCache(jwks_url_for(server.base_url), http, clock=clock)


async def verify(raw_token: str, cache: JWKSCache) -> int | str | None:
    return (await verify_runtime_token(raw_token, cache, now=NOW)).org_id


async def unavailable(cache: JWKSCache, kid: str = JWK_A["kid"]) -> SigningKeysUnavailableError:
    with pytest.raises(SigningKeysUnavailableError) as caught:
        await cache.get_signing_key(kid)
    return caught.value


# --- the error ------------------------------------------------------------------------------


def test_the_error_is_a_verification_error_with_retry_after() -> None:
    error = SigningKeysUnavailableError(retry_after=4.2)
    assert isinstance(error, WebhookVerificationError)
    assert isinstance(error, KiketSDKError)
    assert error.retry_after == 4.2
    assert str(error) == "Kiket's signing keys are unavailable; retry later"
    assert SigningKeysUnavailableError("x", retry_after=0).retry_after == 1
    assert SigningKeysUnavailableError("x", retry_after=math.nan).retry_after == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ttl": -1},
        {"min_refetch_interval": math.nan},
        {"retry_backoff": -0.5},
        {"max_retry_backoff": math.nan},
    ],
)
def test_durations_must_be_non_negative(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError, match=next(iter(kwargs))):
        JWKSCache("http://127.0.0.1:9/.well-known/jwks.json", httpx.AsyncClient(), **kwargs)


# --- outages: short exponential backoff, reset by a success ---------------------------------


async def test_outage_then_recovery_after_the_first_backoff(
    cache: JWKSCache, server: KeyServer, clock: FakeClock
) -> None:
    server.mode = "500"
    error = await unavailable(cache)
    assert str(error) == UNAVAILABLE
    assert error.retry_after == 1  # 0.5 s, rounded up to whole seconds
    assert server.requests == 1

    server.mode = "keys"  # the key server is back
    assert (await unavailable(cache)).retry_after == 1  # still inside the backoff: no fetch
    assert server.requests == 1

    clock.now += 0.5  # not 30 s later
    assert await verify(token(), cache) == 1
    assert server.requests == 2


async def test_backoff_doubles_up_to_the_refetch_interval_and_resets_on_success(
    cache: JWKSCache, server: KeyServer, clock: FakeClock
) -> None:
    server.mode = "500"
    await unavailable(cache)
    for delay in (0.5, 1, 2, 4, 8, 10, 10):  # capped at min_refetch_interval (10)
        clock.now += delay - 0.25
        assert (await unavailable(cache)).retry_after == 1  # 0.25 s left
        clock.now += 0.25
        requests = server.requests
        assert (await unavailable(cache)).retry_after == min(delay * 2, 10)
        assert server.requests == requests + 1

    server.mode = "keys"
    clock.now += 10
    await cache.get_signing_key(JWK_A["kid"])
    server.mode = "500"
    clock.now += 10  # the refetch interval after a success has passed
    await unavailable(cache, "kiket-new")  # fails: the backoff starts over at 0.5 s
    server.mode = "keys"
    clock.now += 0.5
    with pytest.raises(SigningKeysUnavailableError, match="not published yet"):
        await cache.get_signing_key("kiket-new")
    assert server.requests == 8 + 3


async def test_a_custom_backoff(
    server: KeyServer, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    cache = JWKSCache(
        jwks_url_for(server.base_url),
        http,
        clock=clock,
        retry_backoff=2,
        max_retry_backoff=3,
        min_refetch_interval=60,
    )
    server.mode = "500"
    assert (await unavailable(cache)).retry_after == 2
    clock.now += 2
    assert (await unavailable(cache)).retry_after == 3
    clock.now += 3
    assert (await unavailable(cache)).retry_after == 3
    assert server.requests == 3


async def test_expired_keys_are_served_while_the_server_is_down(
    cache: JWKSCache, server: KeyServer, clock: FakeClock
) -> None:
    assert await verify(token(), cache) == 1
    server.mode = "500"
    clock.now += 3600  # expired
    for _ in range(3):
        assert await verify(token(), cache) == 1
    assert server.requests == 2  # one refresh attempt, then backoff
    with pytest.raises(SigningKeysUnavailableError, match="could not fetch"):
        await verify(token(KEY_B, JWK_B["kid"]), cache)


# --- rotation: an unknown kid is temporary --------------------------------------------------


async def test_new_kid_right_after_a_fetch_is_temporary_then_verifies(
    cache: JWKSCache, server: KeyServer, clock: FakeClock
) -> None:
    assert await verify(token(), cache) == 1
    server.keys = [JWK_A, JWK_B]  # Kiket publishes key B just after our fetch

    with pytest.raises(SigningKeysUnavailableError) as caught:
        await verify(token(KEY_B, JWK_B["kid"]), cache)
    assert str(caught.value) == NOT_PUBLISHED
    assert caught.value.retry_after == 10
    assert server.requests == 1

    clock.now += caught.value.retry_after  # the platform retries after Retry-After
    assert await verify(token(KEY_B, JWK_B["kid"]), cache) == 1
    assert await verify(token(), cache) == 1
    assert server.requests == 2


async def test_random_kid_flood_costs_one_fetch(cache: JWKSCache, server: KeyServer) -> None:
    server.delay = 0.05
    results = await asyncio.gather(
        *(cache.get_signing_key(f"random-{n}") for n in range(200)), return_exceptions=True
    )
    assert all(isinstance(result, SigningKeysUnavailableError) for result in results)
    assert {str(result) for result in results} == {NOT_PUBLISHED}
    assert server.requests == 1

    results = await asyncio.gather(  # again, right after: no fetch at all
        *(cache.get_signing_key(f"again-{n}") for n in range(200)), return_exceptions=True
    )
    assert all(isinstance(result, SigningKeysUnavailableError) for result in results)
    assert server.requests == 1
    assert await cache.get_signing_key(JWK_A["kid"]) is not None


@pytest.mark.parametrize("retry_backoff", [0.5, 0.0])
async def test_callers_waiting_on_a_slow_failing_fetch_share_it(
    server: KeyServer, http: httpx.AsyncClient, clock: FakeClock, retry_backoff: float
) -> None:
    cache = JWKSCache(jwks_url_for(server.base_url), http, clock=clock, retry_backoff=retry_backoff)
    server.mode, server.delay, server.advance = "500", 0.05, 5.0  # the fetch "takes" 5 s
    results = await asyncio.gather(
        *(cache.get_signing_key(f"random-{n}") for n in range(200)), return_exceptions=True
    )
    assert {str(result) for result in results} == {UNAVAILABLE}
    assert server.requests == 1  # even with no backoff at all: the waiters reuse its result


async def test_from_jwks_never_fetches_and_an_unknown_kid_stays_permanent() -> None:
    cache = JWKSCache.from_jwks({"keys": [JWK_A]})
    with pytest.raises(WebhookVerificationError, match="unknown signing key id") as caught:
        await cache.get_signing_key(JWK_B["kid"])
    assert not isinstance(caught.value, SigningKeysUnavailableError)


# --- hygiene: nothing about the key server reaches the caller or the log --------------------


@pytest.mark.parametrize("mode", ["500", "garbage", "keys"])
async def test_messages_and_logs_name_no_url_or_host(
    cache: JWKSCache, server: KeyServer, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    server.mode, server.garbage = mode, b"<html>oops</html>"
    with caplog.at_level(logging.DEBUG, logger="kiket_sdk"):
        error = await unavailable(cache, "not-there")
    assert str(error) in {UNAVAILABLE, NOT_PUBLISHED}
    host = server.base_url.removeprefix("http://")
    for text in (str(error), repr(error.args), caplog.text):
        for needle in (server.base_url, host, "127.0.0.1", "jwks", "http://"):
            assert needle not in text


async def test_unresolvable_host_is_not_named(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    cache = JWKSCache(jwks_url_for("http://kiket-keys.invalid"), http, timeout=2)
    with caplog.at_level(logging.WARNING, logger="kiket_sdk"):
        error = await unavailable(cache)
    assert str(error) == UNAVAILABLE
    assert "kiket-keys" not in caplog.text
    assert "ConnectError" in caplog.text


# --- garbage documents: always a fetch failure ----------------------------------------------

OVERSIZED = json.dumps({"keys": [JWK_A], "pad": "x" * 70_000}).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 1000, "not valid JSON"),
        (b'{"keys": ' + b"[" * 5000, "not valid JSON"),
        (b"\xff\xfe\x00{", "not valid JSON"),
        (b'{"keys": ["\xc3\x28"]}', "not valid JSON"),
        (b"NaN", "not valid JSON"),
        (b'{"keys": [{"kid": "k", "x": NaN}]}', "not valid JSON"),
        (b'{"keys": [Infinity]}', "not valid JSON"),
        (b"9" * 5000, "not valid JSON"),
        (b'{"keys": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[]", "not a JWKS"),
        (b'"keys"', "not a JWKS"),
        (b"42", "not a JWKS"),
        (b"null", "not a JWKS"),
        (b'{"keys": {"kid": "k"}}', "not a JWKS"),
        (OVERSIZED, "larger than 65536 bytes"),
    ],
    ids=lambda value: value[:24] if isinstance(value, bytes) else value,
)
async def test_garbage_documents_are_fetch_failures(
    cache: JWKSCache,
    server: KeyServer,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    reason: str,
) -> None:
    server.mode, server.garbage = "garbage", body
    with caplog.at_level(logging.WARNING, logger="kiket_sdk"):
        error = await unavailable(cache)
    assert str(error) == UNAVAILABLE
    assert reason in caplog.text


async def test_a_compressed_document_is_capped_after_decompression(
    cache: JWKSCache, server: KeyServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.mode, server.garbage = "garbage", gzip.compress(OVERSIZED + b" " * 5_000_000)
    server.headers = {"Content-Encoding": "gzip"}
    with caplog.at_level(logging.WARNING, logger="kiket_sdk"):
        await unavailable(cache)
    assert "larger than 65536 bytes" in caplog.text


async def test_a_document_just_under_the_cap_is_used(cache: JWKSCache, server: KeyServer) -> None:
    document = json.dumps({"keys": [JWK_A], "pad": ""}).encode()
    server.mode = "garbage"
    server.garbage = document[:-2] + b"x" * (65_536 - len(document)) + b'"}'
    assert len(server.garbage) == 65_536
    assert await verify(token(), cache) == 1


# --- tokens with huge numbers or deep nesting -----------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(payload: str, header: str = f'{{"alg":"ES256","kid":"{JWK_A["kid"]}"}}') -> str:
    """A token whose JSON is written by hand and validly signed with key A."""
    signing_input = f"{b64(header.encode())}.{b64(payload.encode())}"
    r, s = decode_dss_signature(KEY_A.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


GOOD = f'"iss":"kiket.dev","iat":{NOW}'
DEEP_OBJECTS = '{"a":' * 1500 + "1" + "}" * 1500
HUGE_PAYLOADS = {
    "exp-1e400": f'{{{GOOD},"exp":1e400}}',
    "exp-negative-1e400": f'{{{GOOD},"exp":-1e400}}',
    "exp-401-digits": f'{{{GOOD},"exp":1{"0" * 400}}}',
    "iat-401-digits": f'{{"iss":"kiket.dev","iat":1{"0" * 400},"exp":{NOW + 60}}}',
    "exp-5000-digits": f'{{{GOOD},"exp":{"9" * 5000}}}',
    "claim-5000-digits": f'{{{GOOD},"exp":{NOW + 60},"org_id":{"9" * 5000}}}',
    "deep-1000": f'{{{GOOD},"exp":{NOW + 60},"x":{"[" * 1000}{"]" * 1000}}}',
    "deep-5000": f'{{{GOOD},"exp":{NOW + 60},"x":{"[" * 5000}{"]" * 5000}}}',
    "deep-objects": f'{{{GOOD},"exp":{NOW + 60},"x":{DEEP_OBJECTS}}}',
}


def read_or_error(raw: str) -> RuntimeTokenClaims | WebhookVerificationError:
    try:
        return read_runtime_token_claims(raw)
    except WebhookVerificationError as exc:  # the only exception allowed
        return exc


@pytest.mark.parametrize("payload", HUGE_PAYLOADS.values(), ids=HUGE_PAYLOADS.keys())
async def test_huge_numbers_and_deep_nesting_in_the_payload(payload: str) -> None:
    raw = raw_token(payload)
    cache = JWKSCache.from_jwks({"keys": [JWK_A]})
    with pytest.raises(WebhookVerificationError) as caught:
        await verify_runtime_token(raw, cache, now=NOW)
    assert len(str(caught.value)) <= 140
    claims = read_or_error(raw)
    if isinstance(claims, WebhookVerificationError):
        assert len(str(claims)) <= 140
    else:
        assert claims.exp is None or claims.iat is None  # out of range: no timestamp


@pytest.mark.parametrize(
    "header",
    [
        f'{{"alg":"ES256","kid":"{JWK_A["kid"]}","x":{"[" * 5000}{"]" * 5000}}}',
        f'{{"alg":"ES256","kid":"{JWK_A["kid"]}","x":{"9" * 5000}}}',
        f'{{"alg":"ES256","kid":{"9" * 400}}}',
        '{"alg":1e400,"kid":"k"}',
    ],
    ids=["deep", "5000-digits", "kid-400-digits", "alg-1e400"],
)
async def test_huge_numbers_and_deep_nesting_in_the_header(header: str) -> None:
    raw = raw_token(f'{{{GOOD},"exp":{NOW + 60}}}', header)
    cache = JWKSCache.from_jwks({"keys": [JWK_A]})
    with pytest.raises(WebhookVerificationError) as caught:
        await verify_runtime_token(raw, cache, now=NOW)
    assert len(str(caught.value)) <= 140
    claims = read_or_error(raw)  # no header check here: the claims may well be readable
    assert not isinstance(claims, WebhookVerificationError) or len(str(claims)) <= 140


def test_a_valid_hand_written_token_verifies() -> None:
    raw = raw_token(f'{{{GOOD},"exp":{NOW + 60},"org_id":5}}')
    claims = asyncio.run(verify_runtime_token(raw, JWKSCache.from_jwks({"keys": [JWK_A]}), now=NOW))
    assert claims.org_id == 5

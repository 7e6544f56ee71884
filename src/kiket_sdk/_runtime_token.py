"""ES256 runtime tokens: the second proof of origin.

Each delivery may carry ``payload["authentication"]["runtime_token"]``, a JWT signed by Kiket with
ES256. It is checked against the public keys published at ``{base_url}/.well-known/jwks.json``,
chosen by the token's ``kid``. When the keys cannot be fetched, or the ``kid`` is not (yet)
published, `SigningKeysUnavailableError` is raised: a temporary failure (``503`` with
``Retry-After``), since Kiket may just have rotated its keys or the key server may be back soon.

Security: the JWKS URL is built from the base URL the *extension* was configured with
(`jwks_url_for`), never from the ``api.base_url`` inside the payload. The payload is what is
being verified; if it could name the key server, anyone could host their own JWKS, sign a token
with their own key and pass verification. (The official Python SDK makes that mistake.)

``jwt`` (PyJWT) and ``cryptography`` are imported inside the functions that need them, so that
``import kiket_sdk`` stays fast for extensions that only use HMAC.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

import httpx

from kiket_sdk._exceptions import (
    ConfigurationError,
    SigningKeysUnavailableError,
    WebhookVerificationError,
)
from kiket_sdk._json_shapes import is_array, is_list, is_mapping

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
    from jwt.types import Options

__all__ = [
    "DEFAULT_ISSUER",
    "SIGNING_ALGORITHM",
    "JWKSCache",
    "RuntimeTokenClaims",
    "jwks_url_for",
    "read_runtime_token_claims",
    "verify_runtime_token",
]

logger = logging.getLogger(__name__)

DEFAULT_ISSUER = "kiket.dev"
SIGNING_ALGORITHM = "ES256"  # runtime tokens: ECDSA P-256 with SHA-256 (the contract)
_MAX_TOKEN_LENGTH = 16_384
_MAX_JWKS_BYTES = 65_536  # a JWKS holds a handful of keys; anything bigger is refused
_MAX_TIMESTAMP = 2**53  # iat/exp beyond this (or not finite) are no valid timestamps
_MAX_ERROR_TEXT = 100  # how much of an underlying error a message may echo
_KEYS_UNAVAILABLE = "could not fetch signing keys from Kiket; retry later"
_KID_NOT_PUBLISHED = "signing key id is not published yet; retry later"
_USABLE_KEY = ("EC", "P-256", SIGNING_ALGORITHM, "sig")
# PyJWT checks the signature; the claims are checked here, against an injectable `now`.
_NO_CLAIM_CHECKS = ("exp", "iat", "nbf", "iss", "aud", "sub", "jti")
_SIGNATURE_ONLY = cast("Options", {f"verify_{claim}": False for claim in _NO_CLAIM_CHECKS})
_NOTHING: Options = {**_SIGNATURE_ONLY, "verify_signature": False}


def _identifier(value: Any) -> str | int | None:
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def _number(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return int(value) if -_MAX_TIMESTAMP <= value <= _MAX_TIMESTAMP else None  # never overflows


def _malformed(exc: BaseException) -> WebhookVerificationError:
    # The library's own text stays in the debug log: it can echo parts of the token, and the
    # caller is not authenticated yet.
    logger.debug("runtime token unreadable: %s", str(exc)[:_MAX_ERROR_TEXT])
    return WebhookVerificationError("malformed runtime token (not a readable JWT)")


@dataclass(frozen=True, slots=True)
class RuntimeTokenClaims:
    """The claims of a runtime token. Identifiers may be strings or integers.

    >>> claims = RuntimeTokenClaims.from_mapping({"sub": "ext", "org_id": 7, "scopes": ["a"]})
    >>> claims.org_id, claims.scopes, claims.exp
    (7, ('a',), None)
    """

    sub: str | int | None = None
    org_id: str | int | None = None
    ext_id: str | int | None = None
    proj_id: str | int | None = None
    pi_id: str | int | None = None
    scopes: tuple[str, ...] = ()
    src: str | None = None
    iss: str | None = None
    iat: int | None = None
    exp: int | None = None
    jti: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict[str, Any], repr=False, compare=False)

    @classmethod
    def from_mapping(cls, claims: Mapping[str, Any]) -> RuntimeTokenClaims:
        """Build from a decoded payload; values of the wrong type become ``None``."""
        scopes: object = claims.get("scopes")
        if isinstance(scopes, str):  # tolerate an OAuth-style space-separated string
            scopes = scopes.split()
        if not is_array(scopes):
            scopes = ()
        src, iss, jti = (claims.get(name) for name in ("src", "iss", "jti"))
        return cls(
            sub=_identifier(claims.get("sub")),
            org_id=_identifier(claims.get("org_id")),
            ext_id=_identifier(claims.get("ext_id")),
            proj_id=_identifier(claims.get("proj_id")),
            pi_id=_identifier(claims.get("pi_id")),
            scopes=tuple(scope for scope in scopes if isinstance(scope, str)),
            src=src if isinstance(src, str) else None,
            iss=iss if isinstance(iss, str) else None,
            iat=_number(claims.get("iat")),
            exp=_number(claims.get("exp")),
            jti=jti if isinstance(jti, str) else None,
            raw=MappingProxyType(dict(claims)),
        )


def jwks_url_for(base_url: str) -> str:
    """The JWKS URL for a *configured* base URL.

    >>> jwks_url_for("https://kiket.dev/")
    'https://kiket.dev/.well-known/jwks.json'
    """
    if not base_url or not base_url.strip():
        raise ConfigurationError("a base URL is needed: set KIKET_BASE_URL or pass base_url=")
    return f"{base_url.strip().rstrip('/')}/.well-known/jwks.json"


def read_runtime_token_claims(token: str) -> RuntimeTokenClaims:
    """Read a token's claims WITHOUT checking its signature.

    Only for tokens whose delivery was already proven genuine (for example by its HMAC).

    >>> from kiket_sdk.testing import generate_signing_key, sign_runtime_token
    >>> key, jwk = generate_signing_key()
    >>> read_runtime_token_claims(sign_runtime_token(private_key=key, kid=jwk["kid"], sub="x")).sub
    'x'
    """
    import jwt

    if not _is_given_token(token) or len(token) > _MAX_TOKEN_LENGTH:
        raise WebhookVerificationError("missing or oversized runtime token")
    try:
        payload = jwt.decode(token, options=_NOTHING)
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError) as exc:
        raise _malformed(exc) from None
    return RuntimeTokenClaims.from_mapping(payload)


class JWKSCache:
    """Kiket's public signing keys, fetched from a JWKS URL and cached.

    Keys are kept for ``ttl`` seconds; expired keys are still served while a refresh fails.
    A token with an unknown ``kid`` (Kiket rotated its keys) triggers a refetch, but after a
    successful fetch the next one waits ``min_refetch_interval`` seconds, so a flood of made-up
    key ids costs at most one fetch per interval. A *failed* fetch is retried sooner, with
    exponential backoff: after ``retry_backoff`` seconds, then twice as long each time, at most
    ``max_retry_backoff`` seconds (default: ``min_refetch_interval``); a success resets it.
    Concurrent callers share one fetch.

    When no key can be given, `SigningKeysUnavailableError` says when to retry (``retry_after``).

    Args:
        jwks_url: where the keys are published; build it with `jwks_url_for`.
        client: the ``httpx.AsyncClient`` to fetch with, or a callable returning the one to
            use now (``AsyncKiketClient``'s per-event-loop pools are handed in that way).
        ttl: seconds the fetched keys count as fresh (default 3600).
        min_refetch_interval: seconds between a successful fetch and the next one (default 10).
        timeout: seconds one fetch may take (default 10).
        retry_backoff: seconds before the first retry of a failed fetch (default 0.5).
        max_retry_backoff: cap of the doubling retry delay in seconds (default ``None``: the
            ``min_refetch_interval``).
        clock: a monotonic clock in seconds (injectable for tests).

    ```python
    async with httpx.AsyncClient() as http:
        jwks = JWKSCache(jwks_url_for("https://kiket.dev"), http)
        claims = await verify_runtime_token(token, jwks)
    ```
    """

    def __init__(
        self,
        jwks_url: str,
        client: httpx.AsyncClient | Callable[[], httpx.AsyncClient],
        *,
        ttl: float = 3600,
        min_refetch_interval: float = 10,
        timeout: float = 10,
        retry_backoff: float = 0.5,
        max_retry_backoff: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_retry_backoff is None:
            max_retry_backoff = min_refetch_interval
        durations = {
            "ttl": ttl,
            "min_refetch_interval": min_refetch_interval,
            "retry_backoff": retry_backoff,
            "max_retry_backoff": max_retry_backoff,
        }
        for name, value in durations.items():
            if not value >= 0:  # `not` form: NaN is refused too
                raise ConfigurationError(f"JWKSCache: {name} must be >= 0 seconds, not {value!r}")
        self._url, self._client, self._timeout, self._clock = jwks_url, client, timeout, clock
        self._ttl, self._min_refetch_interval = ttl, min_refetch_interval
        self._retry_backoff, self._max_retry_backoff = retry_backoff, max_retry_backoff
        self._keys: dict[str, EllipticCurvePublicKey] = {}
        self._fetched_at: float | None = None  # clock() when the last successful fetch began
        self._next_fetch_at: float | None = None  # no fetch before this clock(); None: any time
        self._failures = 0  # failed fetches since the last success
        self._fetches = 0  # completed fetches, good or bad: waiters reuse the one they waited on
        self._lock = asyncio.Lock()
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> JWKSCache:
        """A cache holding a fixed key set; it never fetches (tests, in-process use).

        An unknown ``kid`` raises a plain `WebhookVerificationError` (retrying cannot help).

        >>> from kiket_sdk.testing import generate_signing_key
        >>> key, jwk = generate_signing_key(kid="k1")
        >>> cache = JWKSCache.from_jwks({"keys": [jwk]})
        """
        return _FixedKeys(_parse_jwks(jwks))

    async def get_signing_key(self, kid: str) -> EllipticCurvePublicKey:
        """The public key for ``kid``.

        Raises `SigningKeysUnavailableError` (with ``retry_after``) when the keys cannot be
        fetched and none are cached, or when ``kid`` is not among the published keys.

        >>> from kiket_sdk.testing import generate_signing_key
        >>> import asyncio
        >>> key, jwk = generate_signing_key(kid="k1")
        >>> public_key = asyncio.run(JWKSCache.from_jwks({"keys": [jwk]}).get_signing_key("k1"))
        """
        key = self._keys.get(kid) if self._is_fresh() else None
        if key is not None:
            return key
        fetches_seen = self._fetches
        async with self._fetch_lock():
            # A fetch that completed while this caller waited is shared, never repeated.
            if (
                not (self._is_fresh() and kid in self._keys)
                and self._fetches == fetches_seen
                and self._may_fetch()
            ):
                await self._refresh()
            key = self._keys.get(kid)
        if key is not None:
            return key  # possibly expired: served while refreshing fails
        unavailable = self._failures > 0 or self._fetched_at is None
        raise SigningKeysUnavailableError(
            _KEYS_UNAVAILABLE if unavailable else _KID_NOT_PUBLISHED,
            retry_after=self._retry_after(),
        )

    def _is_fresh(self) -> bool:
        return self._fetched_at is not None and self._clock() - self._fetched_at < self._ttl

    def _may_fetch(self) -> bool:
        return self._next_fetch_at is None or self._clock() >= self._next_fetch_at

    def _retry_after(self) -> float:
        """Whole seconds until the next fetch is allowed, at least 1."""
        remaining = 0.0 if self._next_fetch_at is None else self._next_fetch_at - self._clock()
        return float(max(1, math.ceil(remaining)))

    async def _refresh(self) -> None:
        started = self._clock()
        try:
            keys = _parse_jwks(_load_json(await self._download()))
        except (
            httpx.HTTPError,
            httpx.InvalidURL,
            ValueError,
            WebhookVerificationError,
            _FetchError,
        ) as exc:
            # Never str(exc) of an httpx error: it can hold the URL.
            safe = isinstance(exc, _FetchError | WebhookVerificationError)  # texts of ours
            reason = str(exc) if safe else type(exc).__name__
            delay = min(self._retry_backoff * 2 ** min(self._failures, 62), self._max_retry_backoff)
            self._failures += 1
            self._next_fetch_at = self._clock() + delay
            logger.warning(
                "could not fetch Kiket's signing keys (%s); next attempt in %.1f s", reason, delay
            )
        else:
            self._keys, self._fetched_at, self._failures = keys, started, 0
            self._next_fetch_at = self._clock() + self._min_refetch_interval
        self._fetches += 1

    def _fetch_lock(self) -> asyncio.Lock:
        """The lock serialising fetches; a new one for each event loop the cache is used from
        (an asyncio lock belongs to one loop)."""
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:
            if self._lock_loop is not None:
                self._lock = asyncio.Lock()
            self._lock_loop = loop
        return self._lock

    async def _download(self) -> bytes:
        """The JWKS document's bytes; `_FetchError` on a non-2xx answer or a too big body."""
        headers = {"Accept": "application/json"}
        client = self._client if isinstance(self._client, httpx.AsyncClient) else self._client()
        async with client.stream(
            "GET", self._url, headers=headers, timeout=self._timeout
        ) as response:
            if not response.is_success:
                raise _FetchError(f"HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():  # decoded: a gzip bomb stops here too
                size += len(chunk)
                if size > _MAX_JWKS_BYTES:
                    raise _FetchError(f"document larger than {_MAX_JWKS_BYTES} bytes")
                chunks.append(chunk)
        return b"".join(chunks)


class _FetchError(Exception):
    """A fetch failed for a reason that is safe to log as it is (no URL, no remote text)."""


def _load_json(content: bytes) -> Any:
    """Strict JSON: no NaN/Infinity, bounded nesting and numbers; `_FetchError` otherwise."""
    from pydantic_core import from_json

    try:
        return from_json(content, allow_inf_nan=False)
    except ValueError:  # invalid UTF-8 or JSON, too deep, a number out of range
        raise _FetchError("not valid JSON") from None


class _FixedKeys(JWKSCache):
    """What `JWKSCache.from_jwks` returns: no URL, no client, never fetches."""

    def __init__(self, keys: dict[str, EllipticCurvePublicKey]) -> None:
        self._keys = keys

    async def get_signing_key(self, kid: str) -> EllipticCurvePublicKey:
        return _known(kid, self._keys.get(kid))


def _known(kid: str, key: EllipticCurvePublicKey | None) -> EllipticCurvePublicKey:
    if key is None:
        raise WebhookVerificationError(f"unknown signing key id (kid) {kid[:64]!r}")
    return key


def _parse_jwks(document: object) -> dict[str, EllipticCurvePublicKey]:
    """Public ES256 keys by kid; keys of any other type or curve are skipped."""
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
    from jwt.algorithms import ECAlgorithm

    raw_keys = document.get("keys") if is_mapping(document) else None
    if not is_list(raw_keys):
        raise WebhookVerificationError("not a JWKS: expected an object with a list of keys")
    keys: dict[str, EllipticCurvePublicKey] = {}
    for jwk in raw_keys:
        kid = jwk.get("kid") if is_mapping(jwk) else None
        if not is_mapping(jwk) or not isinstance(kid, str):
            continue
        fields = (
            jwk.get("kty"),
            jwk.get("crv"),
            jwk.get("alg", SIGNING_ALGORITHM),
            jwk.get("use", "sig"),
        )
        if fields != _USABLE_KEY:  # only P-256 signing keys for ES256
            continue
        public = {name: jwk.get(name) for name in ("kty", "crv", "x", "y")}  # never "d"
        try:
            key = ECAlgorithm.from_jwk(public)
        except Exception:  # a bad key is skipped, never fatal
            key = None
        if isinstance(key, EllipticCurvePublicKey):
            keys[kid] = key
        else:
            logger.warning("skipping an unreadable signing key (kid %r)", kid[:64])
    return keys


async def verify_runtime_token(
    token: str,
    jwks: JWKSCache,
    *,
    issuer: str = DEFAULT_ISSUER,
    leeway: float = 30,
    now: float | None = None,
) -> RuntimeTokenClaims:
    """Verify a runtime token (ES256 signature, ``iss``, ``exp``, ``iat``) and return its claims.

    >>> from kiket_sdk.testing import generate_signing_key, sign_runtime_token
    >>> import asyncio
    >>> key, jwk = generate_signing_key()
    >>> token = sign_runtime_token(private_key=key, kid=jwk["kid"], org_id=7)
    >>> asyncio.run(verify_runtime_token(token, JWKSCache.from_jwks({"keys": [jwk]}))).org_id
    7
    """
    import jwt

    if not _is_given_token(token):
        raise WebhookVerificationError("missing runtime token")
    if len(token) > _MAX_TOKEN_LENGTH:
        raise WebhookVerificationError("runtime token is too large")
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError) as exc:
        raise _malformed(exc) from None
    alg, kid = header.get("alg"), header.get("kid")
    if alg != SIGNING_ALGORITHM:  # checked before any key lookup: no "none", no HS256 key confusion
        raise WebhookVerificationError(
            f"runtime token algorithm {str(alg)[:20]!r} is not allowed (only ES256)"
        )
    if not isinstance(kid, str) or not kid:
        raise WebhookVerificationError("runtime token has no key id (kid)")
    key = await jwks.get_signing_key(kid)
    try:
        payload = jwt.decode(token, key, algorithms=[SIGNING_ALGORITHM], options=_SIGNATURE_ONLY)
    except jwt.InvalidSignatureError:
        raise WebhookVerificationError("runtime token signature is invalid") from None
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError) as exc:
        raise _malformed(exc) from None
    _check_claims(payload, issuer, leeway, time.time() if now is None else now)
    return RuntimeTokenClaims.from_mapping(payload)


def _is_given_token(token: object) -> bool:
    """A non-empty string (a caller's argument: the annotation is no guarantee)."""
    return isinstance(token, str) and bool(token)


def _check_claims(payload: Mapping[str, Any], issuer: str, leeway: float, now: float) -> None:
    if payload.get("iss") != issuer:
        raise WebhookVerificationError(f"runtime token issuer is not {issuer!r}")
    exp, iat, nbf = (_number(payload.get(name)) for name in ("exp", "iat", "nbf"))
    if exp is None or iat is None:
        missing = "exp" if exp is None else "iat"
        raise WebhookVerificationError(f"runtime token has no valid {missing} claim")
    if not exp > now - leeway:  # `not` form: a NaN `now` or `leeway` fails closed
        raise WebhookVerificationError("runtime token has expired")
    if not iat <= now + leeway:
        raise WebhookVerificationError("runtime token was issued in the future")
    if "nbf" in payload and not (nbf is not None and nbf <= now + leeway):
        raise WebhookVerificationError("runtime token is not valid yet (nbf)")

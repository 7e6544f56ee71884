"""Proof of origin: what vouches for a delivery, and for exactly what (contract section 1).

One module answers "is this delivery genuine, and what may be trusted because of it?":

* **HMAC** (a webhook secret is configured): ``X-Kiket-Signature`` over
  ``"{X-Kiket-Timestamp}.{body}"``. It covers the body bytes -- and so everything in the body,
  ``api.base_url`` and the runtime token included -- but **not the URL**: the same bytes on
  another event or version are refused by the ledger (the proof is bound to its route). The
  runtime token is then signature-checked only with ``verify_runtime_token=True``; otherwise
  its claims are read as the (HMAC-proven) body states them.
* **Runtime token** (no webhook secret): an ES256 JWT at ``authentication.runtime_token``,
  checked against the JWKS of the *configured* base URL. It covers its own claims only, not
  the body: nothing in the body may steer credentials (``api.base_url`` is ignored), and one
  token vouches for one body (the ledger binds it).
* **None** (``verify=False``, local development): nothing is proven; claims are read but not
  presented as verified, and ``api.base_url`` is ignored.

`DeliveryVerifier.check_signature` runs before the body is parsed; `DeliveryVerifier.prove`
after, and returns the `Proof`: which scheme vouched, the ledger binding of that proof, and the
token's claims.

>>> verifier = DeliveryVerifier(secrets=("sh_123",))
>>> verifier.mode
'hmac'
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from kiket_sdk._delivery import messages as msg
from kiket_sdk._exceptions import WebhookVerificationError
from kiket_sdk._runtime_token import (
    JWKSCache,
    RuntimeTokenClaims,
    read_runtime_token_claims,
    verify_runtime_token,
)
from kiket_sdk._signature import DEFAULT_TOLERANCE_SECONDS, secret_keys, verify_with_keys

__all__ = ["NOT_CONFIGURED", "DeliveryVerifier", "Proof", "ProofKind"]

logger = logging.getLogger("kiket_sdk")

ProofKind = Literal["hmac", "runtime_token", "none"]

NOT_CONFIGURED = (
    "webhook verification is not configured: set KIKET_WEBHOOK_SECRET (or pass "
    "webhook_secret=) for HMAC signatures, or configure base_url so runtime tokens can be "
    "checked against Kiket's published keys"
)
_MAX_TOKEN_BINDING = 24 * 3600.0  # a token is remembered at most this long (seconds)
_TOKEN_LEEWAY = 30.0  # seconds; the same leeway `verify_runtime_token` grants `exp`
_PREFIX = "sha256="


@dataclass(frozen=True, slots=True)
class Proof:
    """What a delivery's proof of origin established.

    ``kind``: the scheme that vouched (``"hmac"``, ``"runtime_token"`` or ``"none"``).
    ``covers_body``: the body bytes are proven (HMAC only), so body fields such as
    ``api.base_url`` may be used. ``binding_key``/``binding_ttl``: the digest that identifies
    this proof in the ledger and how long (seconds) the proof stays acceptable; ``None`` when
    nothing was proven. ``claims``: the runtime token's claims (verified when
    ``token_verified``), if the delivery carried a readable token.
    """

    kind: ProofKind
    covers_body: bool
    binding_key: str | None
    binding_ttl: float
    claims: RuntimeTokenClaims | None
    token_verified: bool


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\x00".join(parts)).hexdigest()


def signature_binding_key(timestamp: str, signature: str) -> str:
    """The ledger key of an HMAC proof: the signature read the way verification reads it
    (``sha256=`` prefix dropped, lower case), so re-spelling the header is the same proof.

    >>> sig = "ab" * 32
    >>> signature_binding_key("1767225600", sig) == signature_binding_key(
    ...     " 1767225600", "SHA256=" + sig.upper())
    True
    """
    text = signature.strip(" \t")
    if text[: len(_PREFIX)].lower() == _PREFIX:
        text = text[len(_PREFIX) :]
    return _digest(b"hmac", timestamp.strip(" \t").encode(), text.lower().encode())


class DeliveryVerifier:
    """Checks a delivery's proof of origin according to the configured mode (fail closed).

    ``secrets``: HMAC secrets (all accepted: rotation). ``tolerance``: seconds a timestamp may
    be off (default 300). ``jwks``: a provider of the JWKS cache for the configured base URL
    (``None``: token mode cannot verify, every token delivery is refused).
    ``verify_runtime_token``: with HMAC, also check the token's signature. ``enabled=False``:
    verify nothing (local development).
    """

    def __init__(
        self,
        *,
        secrets: Sequence[str] = (),
        tolerance: float = DEFAULT_TOLERANCE_SECONDS,
        jwks: Callable[[], JWKSCache] | None = None,
        verify_runtime_token: bool = False,
        enabled: bool = True,
        extension_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secrets: tuple[str, ...] = tuple(s for s in secrets if s)
        self._keys_for: tuple[str, ...] | None = None
        self._keys: tuple[bytes, ...] = ()
        self.tolerance = tolerance
        self._jwks = jwks
        self.verify_runtime_token = verify_runtime_token
        self.enabled = enabled
        self.extension_id = extension_id
        self._clock = clock

    @property
    def mode(self) -> Literal["hmac", "runtime_token", "off"]:
        """``hmac``, ``runtime_token`` or ``off``."""
        if not self.enabled:
            return "off"
        return "hmac" if self.secrets else "runtime_token"

    def check_signature(self, body: bytes, headers: Mapping[str, str]) -> None:
        """In HMAC mode, check the signature headers against the raw body (before anything is
        parsed); raises `WebhookVerificationError`."""
        if self.mode == "hmac":
            if not headers.get("x-kiket-signature", "").strip(" \t"):
                raise WebhookVerificationError(msg.SIGNATURE_EXPECTED)
            secrets = self.secrets  # may be replaced after construction (kiket-sdk dev does)
            if secrets is not self._keys_for:
                self._keys, self._keys_for = secret_keys(secrets), secrets
            verify_with_keys(
                self._keys,
                body,
                headers.get("x-kiket-signature"),
                headers.get("x-kiket-timestamp"),
                tolerance=self.tolerance,
            )

    async def prove(self, headers: Mapping[str, str], token: str | None) -> Proof:
        """The `Proof` of a delivery whose signature (if any) `check_signature` accepted.

        Raises `WebhookVerificationError` (401), or its subclass ``SigningKeysUnavailableError``
        (503: Kiket's keys could not be had; the platform retries).
        """
        mode = self.mode
        if mode == "off":
            return Proof("none", False, None, 0.0, _unverified_claims(token), False)
        if mode == "hmac":
            key = signature_binding_key(
                headers.get("x-kiket-timestamp", ""), headers.get("x-kiket-signature", "")
            )
            ttl = 2 * float(self.tolerance) + 1
            if self.verify_runtime_token:
                claims = await self._verified_claims(token, hmac_present=True)
                return Proof("hmac", True, key, ttl, claims, True)
            return Proof("hmac", True, key, ttl, _unverified_claims(token), False)
        try:
            claims = await self._verified_claims(token, hmac_present=False)
        except WebhookVerificationError as exc:
            if "x-kiket-signature" in headers and type(exc) is WebhookVerificationError:
                raise WebhookVerificationError(
                    msg.SIGNATURE_WITHOUT_SECRET
                    if not token
                    else msg.SIGNATURE_WITHOUT_SECRET_TOKEN_REFUSED.format(reason=exc)
                ) from None
            raise
        assert token is not None  # _verified_claims refuses a missing token
        # The token is identified by what its signature signs (header and claims), not by the
        # signature's bytes: an ECDSA signature has a second valid form, (r, n - s).
        signed_part = token.rsplit(".", 1)[0]
        return Proof(
            "runtime_token",
            False,
            _digest(b"token", signed_part.encode()),
            self._token_binding_ttl(claims),
            claims,
            True,
        )

    async def _verified_claims(
        self, token: str | None, *, hmac_present: bool
    ) -> RuntimeTokenClaims:
        if self._jwks is None:
            raise WebhookVerificationError(NOT_CONFIGURED)
        if not token:
            raise WebhookVerificationError(
                msg.TOKEN_EXPECTED_WITH_HMAC
                if hmac_present
                else "the delivery carries no HMAC signature and no runtime token; "
                + NOT_CONFIGURED
            )
        claims = await verify_runtime_token(token, self._jwks())
        self._check_audience(claims)
        return claims

    def _check_audience(self, claims: RuntimeTokenClaims) -> None:
        """A verified token must be meant for this extension: its ``aud`` (RFC 7519 section
        4.1.3: a principal not named there must reject the token) and its ``ext_id`` unless
        that is a number or a string of digits (the platform's internal id: nothing to compare
        it with). Any other ``ext_id`` -- another name, a list, an object -- is refused."""
        audience = claims.raw.get("aud")
        if audience is not None:
            named = [audience] if isinstance(audience, str) else audience
            if not isinstance(named, list) or self.extension_id not in named:
                raise WebhookVerificationError(
                    "the runtime token is meant for another audience"
                    + ("" if self.extension_id else ": set extension_id (or the manifest id)")
                )
        if "ext_id" not in claims.raw:
            return
        ext_id = claims.raw["ext_id"]
        if isinstance(ext_id, int) and not isinstance(ext_id, bool):
            return  # the platform's internal number: nothing to compare it with
        if isinstance(ext_id, str) and (ext_id.isdigit() or not self.extension_id):
            return
        if ext_id != self.extension_id:
            raise WebhookVerificationError("the runtime token was issued for another extension")

    def _token_binding_ttl(self, claims: RuntimeTokenClaims) -> float:
        if claims.exp is None:
            return _MAX_TOKEN_BINDING
        remaining = claims.exp - self._clock() + _TOKEN_LEEWAY
        return min(max(remaining, 1.0), _MAX_TOKEN_BINDING)


def _unverified_claims(token: str | None) -> RuntimeTokenClaims | None:
    if not token or token.count(".") != 2:
        return None  # not a JWT: nothing to read (and no exception cost on the hot path)
    try:
        return read_runtime_token_claims(token)
    except WebhookVerificationError:
        logger.debug("runtime token is not a readable JWT; no claims taken from it")
        return None

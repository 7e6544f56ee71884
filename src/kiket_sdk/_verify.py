"""Proof of origin for one delivery: which scheme applies, and checking it (fail closed).

- A webhook secret is configured: the HMAC signature is required. The runtime token is then
  signature-checked only with ``verify_runtime_token=True``; otherwise its claims are read as they
  are (the HMAC already vouches for the whole body, token included).
- No webhook secret: the runtime token is the proof and must verify against the JWKS published
  at the *configured* base URL (never the payload's ``api.base_url``).
- ``verify=False`` (local development only): nothing is checked; claims are still read.

>>> verifier = DeliveryVerifier(secrets=("sh_123",))
>>> verifier.mode
'hmac'
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Literal

from kiket_sdk._exceptions import WebhookVerificationError
from kiket_sdk._runtime_token import (
    JWKSCache,
    RuntimeTokenClaims,
    read_runtime_token_claims,
    verify_runtime_token,
)
from kiket_sdk._signature import DEFAULT_TOLERANCE_SECONDS, verify_signature

__all__ = ["DeliveryVerifier", "JWKSUnavailableError"]

logger = logging.getLogger("kiket_sdk")

NOT_CONFIGURED = (
    "webhook verification is not configured: set KIKET_WEBHOOK_SECRET (or pass "
    "webhook_secret=) for HMAC signatures, or configure base_url so runtime tokens can be "
    "checked against Kiket's published keys"
)


class JWKSUnavailableError(WebhookVerificationError):
    """Kiket's signing keys could not be fetched: answered 503 so the platform retries."""


class DeliveryVerifier:
    """Checks a delivery's proof of origin according to the configured mode."""

    def __init__(
        self,
        *,
        secrets: Sequence[str] = (),
        tolerance: float = DEFAULT_TOLERANCE_SECONDS,
        jwks: Callable[[], JWKSCache] | None = None,
        verify_runtime_token: bool = False,
        enabled: bool = True,
    ) -> None:
        self.secrets = tuple(s for s in secrets if s)
        self.tolerance = tolerance
        self._jwks = jwks
        self.verify_runtime_token = verify_runtime_token
        self.enabled = enabled

    @property
    def mode(self) -> Literal["hmac", "runtime_token", "off"]:
        """``hmac``, ``runtime_token`` or ``off``."""
        if not self.enabled:
            return "off"
        return "hmac" if self.secrets else "runtime_token"

    def check_signature(self, body: bytes, signature: str | None, timestamp: str | None) -> bool:
        """Check the HMAC headers when the mode needs them; ``True`` when they were verified."""
        if self.mode != "hmac":
            return False
        verify_signature(self.secrets, body, signature, timestamp, tolerance=self.tolerance)
        return True

    async def check_token(self, token: str | None) -> tuple[RuntimeTokenClaims | None, bool]:
        """The token's claims and whether its signature was verified."""
        mode = self.mode
        must_verify = mode == "runtime_token" or (mode == "hmac" and self.verify_runtime_token)
        if not must_verify:
            return _unverified_claims(token), False
        if not token:
            if mode == "runtime_token" and self._jwks is None:
                raise WebhookVerificationError(NOT_CONFIGURED)
            raise WebhookVerificationError(
                "the delivery carries no runtime token (authentication.runtime_token)"
                if mode == "hmac"
                else "the delivery carries no HMAC signature and no runtime token; "
                + NOT_CONFIGURED
            )
        if self._jwks is None:
            raise WebhookVerificationError(NOT_CONFIGURED)
        try:
            claims = await verify_runtime_token(token, self._jwks())
        except WebhookVerificationError as exc:
            if "could not fetch signing keys" in str(exc):
                raise JWKSUnavailableError(str(exc)) from exc
            raise
        return claims, True


def _unverified_claims(token: str | None) -> RuntimeTokenClaims | None:
    if not token or token.count(".") != 2:
        return None  # not a JWT: nothing to read (and no exception cost on the hot path)
    try:
        return read_runtime_token_claims(token)
    except WebhookVerificationError:
        logger.debug("runtime token is not a readable JWT; no claims taken from it")
        return None

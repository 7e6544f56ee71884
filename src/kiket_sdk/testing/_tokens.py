"""Signing runtime tokens the way Kiket does: for tests and the test kit, never for verifying.

Verification lives in `kiket_sdk._runtime_token`; these helpers produce what it checks. Both are
exported by `kiket_sdk.testing`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kiket_sdk._runtime_token import DEFAULT_ISSUER, SIGNING_ALGORITHM

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

__all__ = ["generate_signing_key", "sign_runtime_token"]


def generate_signing_key(kid: str | None = None) -> tuple[EllipticCurvePrivateKey, dict[str, str]]:
    """A new P-256 key pair for tests: ``(private_key, public_jwk)``.

    >>> key, jwk = generate_signing_key(kid="test-1")
    >>> jwk["kid"], jwk["kty"], jwk["crv"], jwk["alg"], "d" in jwk
    ('test-1', 'EC', 'P-256', 'ES256', False)
    """
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    private_key = ec.generate_private_key(ec.SECP256R1())
    jwk = {str(k): str(v) for k, v in ECAlgorithm.to_jwk(private_key.public_key(), True).items()}
    jwk.update(kid=kid or secrets.token_hex(8), alg=SIGNING_ALGORITHM, use="sig")
    return private_key, jwk


def sign_runtime_token(
    claims: Mapping[str, Any] | None = None,
    *,
    private_key: EllipticCurvePrivateKey,
    kid: str,
    issuer: str = DEFAULT_ISSUER,
    expires_in: float = 300,
    now: float | None = None,
    **extra_claims: Any,
) -> str:
    """Sign a runtime token like Kiket does (ES256, ``iss``/``iat``/``exp`` filled in).

    A claim given as ``None`` is left out, e.g. ``iat=None`` for a token without ``iat``.

    >>> key, jwk = generate_signing_key()
    >>> token = sign_runtime_token({"scopes": ["issues:read"]}, private_key=key, kid=jwk["kid"])
    >>> token.count(".")
    2
    """
    import jwt

    issued = int(time.time() if now is None else now)
    payload: dict[str, Any] = {"iss": issuer, "iat": issued, "exp": int(issued + expires_in)}
    payload.update(claims or {}, **extra_claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, private_key, algorithm=SIGNING_ALGORITHM, headers={"kid": kid})

"""Proof of origin as OpenAPI security: the HMAC headers as two ``apiKey`` schemes that a
delivery presents together, and the runtime-token mode, which needs no header.

``components.securitySchemes`` (contract section 1, "Proof of origin")::

    KiketSignature: {type: apiKey, in: header, name: X-Kiket-Signature}
    KiketTimestamp: {type: apiKey, in: header, name: X-Kiket-Timestamp}

and every webhook operation's ``security`` is ``[{KiketSignature: [], KiketTimestamp: []}, {}]``:
both headers together (one requirement object names both), or none when the extension runs in
runtime-token mode -- no webhook secret configured, the proof is the ES256 JWT in the body at
``authentication.runtime_token`` -- or with ``verify=False`` (local development).

FastAPI lists the schemes in ``components`` from the route's security dependencies
(`PROOF_DEPENDENCIES`), but writes one requirement object per scheme, which OpenAPI reads as
*either* header; `proof_requirements` is put in the route's ``openapi_extra`` and replaces that
list (FastAPI appends ``openapi_extra`` lists to its own with ``+``).

>>> proof_requirements()
[{'KiketSignature': [], 'KiketTimestamp': []}, {}]
>>> [{"KiketSignature": []}, {"KiketTimestamp": []}] + proof_requirements()
[{'KiketSignature': [], 'KiketTimestamp': []}, {}]
"""

from __future__ import annotations

from fastapi import Security
from fastapi.params import Depends
from fastapi.security import APIKeyHeader

__all__ = [
    "PROOF_DEPENDENCIES",
    "PROOF_MODES",
    "SIGNATURE_SCHEME",
    "TIMESTAMP_SCHEME",
    "SecurityRequirements",
    "proof_requirements",
]

SIGNATURE_SCHEME = "KiketSignature"
TIMESTAMP_SCHEME = "KiketTimestamp"

PROOF_MODES = (
    "Proof of origin is one of: **HMAC** (a webhook secret is configured): the headers "
    "`X-Kiket-Signature` and `X-Kiket-Timestamp`, together; **runtime token** (no webhook "
    "secret): no header, the ES256 JWT at `authentication.runtime_token` in the body, checked "
    "against the JWKS of the configured base URL; **none** (`verify=False`, local development "
    "only)."
)

_SIGNATURE = APIKeyHeader(
    name="X-Kiket-Signature",
    scheme_name=SIGNATURE_SCHEME,
    description=(
        'Lowercase hex HMAC-SHA256 of `"{X-Kiket-Timestamp}.{raw body}"` with the webhook '
        "secret (`sha256=<hex>` is accepted too); sent together with `X-Kiket-Timestamp`. "
        + PROOF_MODES
    ),
    auto_error=False,
)
_TIMESTAMP = APIKeyHeader(
    name="X-Kiket-Timestamp",
    scheme_name=TIMESTAMP_SCHEME,
    description=(
        "Unix seconds when the delivery was signed; refused when more than 300 s from the "
        "extension's clock. Sent together with `X-Kiket-Signature`."
    ),
    auto_error=False,
)

PROOF_DEPENDENCIES: list[Depends] = [Security(_SIGNATURE), Security(_TIMESTAMP)]
"""Route dependencies that make FastAPI list both schemes in ``components.securitySchemes``
(the documentation routes are never called, so the dependencies never run)."""


class SecurityRequirements(list[dict[str, list[str]]]):
    """A ``security`` list that replaces, rather than extends, the one FastAPI derived from
    the route's dependencies when it is merged in from ``openapi_extra`` (``derived + this``
    is this)."""

    def __radd__(self, other: object) -> SecurityRequirements:
        return SecurityRequirements(self)


def proof_requirements() -> SecurityRequirements:
    """The ``security`` of a webhook operation: both HMAC headers together, or none (runtime
    token in the body, or verification off)."""
    return SecurityRequirements([{SIGNATURE_SCHEME: [], TIMESTAMP_SCHEME: []}, {}])

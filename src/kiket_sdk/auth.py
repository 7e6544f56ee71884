"""Proof of origin: check that a delivery really comes from Kiket.

Two schemes exist and an extension may be configured for either or both:

- **HMAC**: headers ``X-Kiket-Signature`` (hex HMAC-SHA256 of ``"{timestamp}.{body}"``) and
  ``X-Kiket-Timestamp``; see `verify_signature` and, to sign test requests, `signature_headers`.
- **Runtime token**: an ES256 JWT in ``payload["authentication"]["runtime_token"]``, checked
  against the keys at ``{configured base URL}/.well-known/jwks.json``; see
  `verify_runtime_token` and `JWKSCache`.

Every failure raises `WebhookVerificationError` (answered with ``401``); its message gives the
reason and never a secret. The webhook router calls these for you; use them directly to verify
deliveries in another framework, or in tests:

```python
from kiket_sdk.auth import WebhookVerificationError, signature_headers, verify_signature

body = b'{"event": "issue.created", "issue": {"id": 42}}'
headers = signature_headers("whsec_test", body)  # what Kiket would send

signature, timestamp = headers["X-Kiket-Signature"], headers["X-Kiket-Timestamp"]

verify_signature("whsec_test", body, signature, timestamp)  # passes: returns None
try:
    verify_signature("whsec_test", b'{"event": "forged"}', signature, timestamp)
except WebhookVerificationError as exc:
    print(exc)  # signature mismatch
```
"""

from __future__ import annotations

from kiket_sdk._exceptions import SigningKeysUnavailableError, WebhookVerificationError
from kiket_sdk._runtime_token import (
    JWKSCache,
    RuntimeTokenClaims,
    read_runtime_token_claims,
    verify_runtime_token,
)
from kiket_sdk._signature import (
    SignatureHeaders,
    generate_signature,
    signature_headers,
    verify_signature,
)

__all__ = [
    "JWKSCache",
    "RuntimeTokenClaims",
    "SignatureHeaders",
    "SigningKeysUnavailableError",
    "WebhookVerificationError",
    "generate_signature",
    "read_runtime_token_claims",
    "signature_headers",
    "verify_runtime_token",
    "verify_signature",
]

"""HMAC-SHA256 proof of origin for inbound deliveries.

Kiket signs each delivery with the extension's webhook secret:

```
X-Kiket-Timestamp: 1767225600                      (unix seconds)
X-Kiket-Signature: <lowercase hex of HMAC-SHA256(secret, b"1767225600." + raw body)>
```

The platform docs write the signature as ``sha256=<hex>``, the official SDKs send bare hex; both
are accepted. A delivery older or newer than the tolerance (300 s) is refused, so a captured
request cannot be replayed later.

Everything that can go wrong with a header becomes a ``WebhookVerificationError`` with a reason
that is safe to send back (never the secret). No ``ValueError`` escapes: a malformed header is a
``401``, not a ``500``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TypedDict

from kiket_sdk._exceptions import ConfigurationError, WebhookVerificationError

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SignatureHeaders",
    "generate_signature",
    "secret_keys",
    "signature_headers",
    "verify_signature",
    "verify_with_keys",
]

SIGNATURE_HEADER = "X-Kiket-Signature"
TIMESTAMP_HEADER = "X-Kiket-Timestamp"
DEFAULT_TOLERANCE_SECONDS = 300

_PREFIX = "sha256="
_HEX_LENGTH = hashlib.sha256().digest_size * 2
_HEX_DIGITS = frozenset("0123456789abcdef")
# 19 digits is more than any real clock will read (int64); longer strings are refused unparsed.
_MAX_TIMESTAMP_DIGITS = 19
_MILLISECONDS_THRESHOLD = 10**12  # unix seconds pass this in the year 33658


class SignatureHeaders(TypedDict):
    """What `generate_signature` returns: the two values Kiket sends as headers."""

    signature: str
    timestamp: str


def generate_signature(
    secret: str, body: bytes | str, timestamp: int | str | None = None
) -> SignatureHeaders:
    """Sign ``body`` the way Kiket does.

    ``timestamp`` defaults to now (unix seconds). A ``str`` body is encoded as UTF-8.

    >>> signed = generate_signature("s3cret", b'{"event":"issue.created"}', timestamp=1767225600)
    >>> signed["signature"]
    'c44a09c50cb128c17213f6e089242cb7b76c7d3441fd5326044bf9e1b832e9c6'
    >>> signed["timestamp"]
    '1767225600'
    """
    if not secret:
        raise ConfigurationError("generate_signature needs a non-empty secret")
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    digest = hmac.digest(secret.encode("utf-8"), stamp.encode("ascii") + b"." + raw, "sha256")
    return {"signature": digest.hex(), "timestamp": stamp}


def signature_headers(
    secret: str, body: bytes | str, timestamp: int | str | None = None
) -> dict[str, str]:
    """The headers of a signed delivery, ready to pass to an HTTP client.

    >>> import httpx
    >>> body = b'{"event":"issue.created"}'
    >>> headers = signature_headers("s3cret", body)
    >>> sorted(headers)
    ['X-Kiket-Signature', 'X-Kiket-Timestamp']
    >>> request = httpx.Request("POST", "http://127.0.0.1/webhooks/issue.created",
    ...                         content=body, headers=headers)
    """
    signed = generate_signature(secret, body, timestamp)
    return {SIGNATURE_HEADER: signed["signature"], TIMESTAMP_HEADER: signed["timestamp"]}


def verify_signature(
    secrets: str | Sequence[str],
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Check a delivery's HMAC headers; return ``None`` or raise `WebhookVerificationError`.

    ``secrets`` is one secret or several (during a rotation, old and new): the delivery passes
    when any of them produced the signature. Empty secrets are ignored.

    >>> body = b'{"event":"issue.created"}'
    >>> signed = generate_signature("new", body)
    >>> verify_signature(["old", "new"], body, signed["signature"], signed["timestamp"])
    >>> verify_signature("old", body, signed["signature"], signed["timestamp"])
    Traceback (most recent call last):
    kiket_sdk._exceptions.WebhookVerificationError: signature mismatch
    """
    keys = _secret_keys((secrets,) if isinstance(secrets, str) else _only_strings(secrets))
    verify_with_keys(keys, body, signature, timestamp, tolerance=tolerance, now=now)


def verify_with_keys(
    keys: tuple[bytes, ...],
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """`verify_signature` for secrets already encoded as UTF-8 (`secret_keys`); the inbound
    path keeps them so that each delivery does not encode them again."""
    if not keys:
        raise WebhookVerificationError(
            "webhook verification is not configured: "
            "set KIKET_WEBHOOK_SECRET or pass webhook_secret="
        )
    signature = _header_text(signature, SIGNATURE_HEADER)
    timestamp = _header_text(timestamp, TIMESTAMP_HEADER)
    if not signature or not timestamp:
        missing = [SIGNATURE_HEADER] if not signature else []
        missing += [] if timestamp else [TIMESTAMP_HEADER]
        plural = "s" if len(missing) > 1 else ""
        raise WebhookVerificationError(f"missing {' and '.join(missing)} header{plural}")
    _check_timestamp(timestamp, tolerance, time.time() if now is None else now)
    expected = _parse_signature(signature)

    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    message = timestamp.encode("ascii") + b"." + raw
    matched = False
    for key in keys:  # no early exit: the time taken does not reveal which secret matched
        matched |= hmac.compare_digest(hmac.digest(key, message, "sha256"), expected)
    if not matched:
        raise WebhookVerificationError("signature mismatch")


def _only_strings(secrets: Iterable[object]) -> tuple[str, ...]:
    try:
        return tuple(item for item in secrets if isinstance(item, str))
    except TypeError:  # not iterable (None, a number): treated as "no secret configured"
        return ()


def secret_keys(secrets: tuple[str, ...]) -> tuple[bytes, ...]:
    """The non-empty ``secrets`` encoded as UTF-8, without repeats, in order."""
    return _secret_keys(secrets)


@lru_cache(maxsize=64)
def _secret_keys(secrets: tuple[str, ...]) -> tuple[bytes, ...]:
    """Encode the configured secrets once; later calls with the same secrets hit the cache."""
    return tuple(dict.fromkeys(secret.encode("utf-8") for secret in secrets if secret))


def _header_text(value: object, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            raise WebhookVerificationError(f"malformed {name} header: not ASCII") from None
    if not isinstance(value, str):
        raise WebhookVerificationError(f"malformed {name} header")
    return value.strip(" \t")


def _check_timestamp(text: str, tolerance: float, now: float) -> None:
    if not (text.isascii() and text.isdigit()):
        raise WebhookVerificationError(
            f"malformed {TIMESTAMP_HEADER} header: expected unix seconds"
        )
    if len(text) > _MAX_TIMESTAMP_DIGITS:
        raise WebhookVerificationError(f"malformed {TIMESTAMP_HEADER} header: number too large")
    skew = now - int(text)
    # Written as `not <=` so that a NaN tolerance or clock fails closed.
    if not abs(skew) <= tolerance:
        direction = "old" if skew > 0 else "in the future"
        hint = (
            f" ({TIMESTAMP_HEADER} must be unix seconds, not milliseconds)"
            if int(text) >= _MILLISECONDS_THRESHOLD
            else ""
        )
        raise WebhookVerificationError(
            f"timestamp outside tolerance: {abs(skew):.0f} s {direction}, "
            f"allowed {tolerance:g} s{hint}"
        )


def _parse_signature(text: str) -> bytes:
    if text[: len(_PREFIX)].lower() == _PREFIX:
        text = text[len(_PREFIX) :]
    if not text.isascii():
        raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header: not ASCII")
    if len(text) != _HEX_LENGTH:
        raise WebhookVerificationError(
            f"malformed {SIGNATURE_HEADER} header: expected {_HEX_LENGTH} hex digits"
        )
    text = text.lower()
    if not _HEX_DIGITS.issuperset(text):
        raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header: not hex")
    return bytes.fromhex(text)

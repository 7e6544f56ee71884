"""HMAC proof of origin: `kiket_sdk._signature` and its public face `kiket_sdk.auth`."""

from __future__ import annotations

import contextlib
import doctest
import hashlib
import hmac
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kiket_sdk._signature
import kiket_sdk.auth
from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._signature import (
    DEFAULT_TOLERANCE_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    generate_signature,
    signature_headers,
)
from kiket_sdk.auth import WebhookVerificationError, verify_signature

SECRET = "whsec_test"
BODY = b'{"event":"issue.created","issue":{"id":42,"title":"caf\xc3\xa9"}}'
NOW = 1_767_225_600
# Digits that `str.isdigit()` and `int()` accept but an HTTP header must not carry.
ARABIC_INDIC_DIGITS = "".join(chr(0x0660 + int(d)) for d in str(NOW))
FULLWIDTH_DIGITS = "".join(chr(0xFF10 + int(d)) for d in str(NOW))


def signed(body: bytes = BODY, secret: str = SECRET, timestamp: int = NOW) -> tuple[str, str]:
    headers = generate_signature(secret, body, timestamp)
    return headers["signature"], headers["timestamp"]


def reason(excinfo: pytest.ExceptionInfo[WebhookVerificationError]) -> str:
    return str(excinfo.value)


# --- signing --------------------------------------------------------------------------------


def test_signature_is_lowercase_hex_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert generate_signature(SECRET, BODY, NOW) == {"signature": expected, "timestamp": str(NOW)}
    assert re.fullmatch(r"[0-9a-f]{64}", expected)


def test_str_body_and_str_timestamp_sign_like_bytes() -> None:
    assert generate_signature(SECRET, BODY.decode(), str(NOW)) == generate_signature(
        SECRET, BODY, NOW
    )


def test_timestamp_defaults_to_now() -> None:
    signature, timestamp = (generate_signature(SECRET, BODY)[k] for k in ("signature", "timestamp"))
    verify_signature(SECRET, BODY, signature, timestamp)


def test_signature_headers_use_the_kiket_header_names() -> None:
    headers = signature_headers(SECRET, BODY, NOW)
    assert headers == {SIGNATURE_HEADER: signed()[0], TIMESTAMP_HEADER: str(NOW)}
    assert (SIGNATURE_HEADER, TIMESTAMP_HEADER) == ("X-Kiket-Signature", "X-Kiket-Timestamp")


def test_signing_with_an_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        generate_signature("", BODY)


# --- verifying: accepted --------------------------------------------------------------------


def test_valid_signature_passes() -> None:
    verify_signature(SECRET, BODY, *signed(), now=NOW)  # returns None, raises nothing


def test_empty_body() -> None:
    verify_signature(SECRET, b"", *signed(b""), now=NOW)


@pytest.mark.parametrize("prefix", ["sha256=", "SHA256=", "Sha256="])
def test_sha256_prefix_is_accepted(prefix: str) -> None:
    signature, timestamp = signed()
    verify_signature(SECRET, BODY, prefix + signature, timestamp, now=NOW)


def test_upper_case_hex_is_accepted() -> None:
    signature, timestamp = signed()
    verify_signature(SECRET, BODY, signature.upper(), timestamp, now=NOW)


def test_surrounding_blanks_in_headers_are_ignored() -> None:
    signature, timestamp = signed()
    verify_signature(SECRET, BODY, f" {signature}\t", f" {timestamp} ", now=NOW)


def test_bytes_header_values_are_accepted() -> None:
    signature, timestamp = signed()
    verify_signature(SECRET, BODY, signature.encode(), timestamp.encode(), now=NOW)  # type: ignore[arg-type]


def test_rotated_secret_second_one_matches() -> None:
    verify_signature(["old-secret", SECRET], BODY, *signed(), now=NOW)
    verify_signature(("", SECRET), BODY, *signed(), now=NOW)


@pytest.mark.parametrize("skew", [-DEFAULT_TOLERANCE_SECONDS, 0, DEFAULT_TOLERANCE_SECONDS])
def test_timestamps_at_the_edge_of_tolerance_pass(skew: int) -> None:
    verify_signature(SECRET, BODY, *signed(timestamp=NOW + skew), now=NOW)


# --- verifying: refused ---------------------------------------------------------------------


def test_wrong_signature() -> None:
    _, timestamp = signed()
    with pytest.raises(WebhookVerificationError, match="signature mismatch") as excinfo:
        verify_signature(SECRET, BODY, "0" * 64, timestamp, now=NOW)
    assert SECRET not in reason(excinfo)


def test_tampered_body_and_wrong_secret() -> None:
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        verify_signature(SECRET, BODY + b" ", *signed(), now=NOW)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        verify_signature(["a", "b"], BODY, *signed(), now=NOW)


def test_signature_for_another_timestamp_is_refused() -> None:
    signature, _ = signed(timestamp=NOW - 1)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        verify_signature(SECRET, BODY, signature, str(NOW), now=NOW)


@pytest.mark.parametrize(
    ("skew", "direction"), [(-301, "old"), (-86_400, "old"), (301, "in the future")]
)
def test_stale_and_future_timestamps(skew: int, direction: str) -> None:
    with pytest.raises(WebhookVerificationError, match=rf"outside tolerance.*{direction}"):
        verify_signature(SECRET, BODY, *signed(timestamp=NOW + skew), now=NOW)


def test_custom_tolerance() -> None:
    verify_signature(SECRET, BODY, *signed(timestamp=NOW - 500), tolerance=600, now=NOW)
    with pytest.raises(WebhookVerificationError, match="allowed 10 s"):
        verify_signature(SECRET, BODY, *signed(timestamp=NOW - 11), tolerance=10, now=NOW)


def test_nan_tolerance_fails_closed() -> None:
    with pytest.raises(WebhookVerificationError, match="outside tolerance"):
        verify_signature(SECRET, BODY, *signed(), tolerance=float("nan"), now=NOW)


def test_milliseconds_timestamp_gets_a_hint() -> None:
    with pytest.raises(WebhookVerificationError, match="not milliseconds"):
        verify_signature(SECRET, BODY, *signed(timestamp=NOW * 1000), now=NOW)


@pytest.mark.parametrize(
    ("signature", "timestamp", "message"),
    [
        (None, None, "missing X-Kiket-Signature and X-Kiket-Timestamp headers"),
        (None, str(NOW), "missing X-Kiket-Signature header"),
        ("a" * 64, None, "missing X-Kiket-Timestamp header"),
        ("", "", "missing X-Kiket-Signature and X-Kiket-Timestamp headers"),
        ("  ", str(NOW), "missing X-Kiket-Signature header"),
    ],
)
def test_missing_headers(signature: str | None, timestamp: str | None, message: str) -> None:
    with pytest.raises(WebhookVerificationError, match=f"^{message}$"):
        verify_signature(SECRET, BODY, signature, timestamp, now=NOW)


@pytest.mark.parametrize(
    "timestamp",
    [
        "abc",
        "-1767225600",
        "+1767225600",
        "1767225600.5",
        "1_767_225_600",
        "1e9",
        "0x10",
        ARABIC_INDIC_DIGITS,
        FULLWIDTH_DIGITS,
        "176722\u00b2",
        "é",
    ],
)
def test_malformed_timestamps(timestamp: str) -> None:
    with pytest.raises(WebhookVerificationError, match="malformed X-Kiket-Timestamp"):
        verify_signature(SECRET, BODY, signed()[0], timestamp, now=NOW)


def test_huge_timestamp_is_refused_without_parsing() -> None:
    with pytest.raises(WebhookVerificationError, match="number too large"):
        verify_signature(SECRET, BODY, signed()[0], "9" * 100_000, now=NOW)
    with pytest.raises(WebhookVerificationError, match="outside tolerance"):
        verify_signature(SECRET, BODY, signed()[0], "9" * 19, now=NOW)


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ("g" * 64, "not hex"),
        ("0x" + "a" * 62, "not hex"),
        ("a" * 63, "expected 64 hex digits"),
        ("a" * 65, "expected 64 hex digits"),
        ("a" * 10_000, "expected 64 hex digits"),
        ("sha256=", "expected 64 hex digits"),
        ("é" * 64, "not ASCII"),
        ("\u0660" * 64, "not ASCII"),
        ("sha1=" + "a" * 59, "not hex"),
        ("a" * 62 + " a", "not hex"),
    ],
)
def test_malformed_signatures(signature: str, message: str) -> None:
    with pytest.raises(WebhookVerificationError, match=rf"malformed X-Kiket-Signature.*{message}"):
        verify_signature(SECRET, BODY, signature, str(NOW), now=NOW)


def test_non_ascii_bytes_header_is_malformed() -> None:
    with pytest.raises(WebhookVerificationError, match="not ASCII"):
        verify_signature(SECRET, BODY, "é".encode() * 32, str(NOW), now=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize("secrets", ["", [], ["", ""], None, 42])
def test_no_secret_means_not_configured(secrets: object) -> None:
    with pytest.raises(WebhookVerificationError, match=r"not configured.*KIKET_WEBHOOK_SECRET"):
        verify_signature(secrets, BODY, *signed(), now=NOW)  # type: ignore[arg-type]


# --- never anything but WebhookVerificationError --------------------------------------------

header_text = st.one_of(
    st.none(),
    st.text(),
    st.from_regex(r"\A(sha256=)?[0-9a-fA-F]{64}\Z"),
    st.integers(min_value=0, max_value=10**25).map(str),
)


@given(body=st.binary(), signature=header_text, timestamp=header_text)
def test_arbitrary_headers_only_raise_verification_errors(
    body: bytes, signature: str | None, timestamp: str | None
) -> None:
    error: WebhookVerificationError | None = None
    try:
        verify_signature([SECRET, "second"], body, signature, timestamp, now=NOW)
    except WebhookVerificationError as exc:
        error = exc
    if error is not None:
        assert SECRET not in str(error)
    else:  # only a correct signature can pass
        assert signature is not None
        assert timestamp is not None
        expected = generate_signature(SECRET, body, timestamp.strip())["signature"]
        assert signature.strip().lower().removeprefix("sha256=") == expected


@given(body=st.binary(), timestamp=st.integers(NOW - 300, NOW + 300))
def test_any_signed_body_verifies(body: bytes, timestamp: int) -> None:
    verify_signature(SECRET, body, *signed(body, timestamp=timestamp), now=NOW)


# --- documentation examples run -------------------------------------------------------------


def test_docstring_examples_of_signature_module() -> None:
    result = doctest.testmod(kiket_sdk._signature, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_auth_module_example_runs() -> None:
    doc = kiket_sdk.auth.__doc__ or ""
    code = re.search(r"```python\n(.*?)```", doc, re.DOTALL)
    assert code is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "kiket_sdk.auth docstring", "exec"), {})
    assert out.getvalue() == "signature mismatch\n"


def test_auth_exports_exactly_its_public_api() -> None:
    assert sorted(kiket_sdk.auth.__all__) == [
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
    for name in kiket_sdk.auth.__all__:
        assert getattr(kiket_sdk.auth, name).__doc__

"""Property test: no body and no header value makes the endpoint answer 5xx."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from kiket_sdk import HandlerContext, KiketSDK, SyncHandlerContext, allow
from kiket_sdk.events import IssueCreated

from ._helpers import SECRET, signed_headers

# header values as raw bytes: any octet except the ones that end or break a header line
_header_bytes = st.binary(max_size=80).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
)
_text_header = st.text(max_size=40).map(
    lambda s: s.replace("\r", "").replace("\n", "").replace("\x00", "").encode("utf-8")
)
_header_value = st.one_of(
    st.none(),
    _header_bytes,
    _text_header,
    st.sampled_from(
        [b"v1", b"1", b"V\xb2", b"\xd9\xa3", b"application/json", b"text/plain", b"sha256="]
    ),
)
_json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


def _issue_body(title: str, issue_id: str) -> bytes:
    head = json.dumps(str(time.time_ns()))
    return f'{{"id": {head}, "issue": {{"id": {issue_id}, "title": {title}}}}}'.encode()


def _nested(depth: int, opener: str) -> bytes:
    closer = "]" if opener == "[" else "}"
    inner = opener * depth if opener == "[" else '{"a":' * depth
    return f'{{"id": "n", "x": {inner}1{closer * depth}}}'.encode()


def _huge_number(where: str, digits: int, exponent: bool) -> bytes:
    number = f"1e{digits}" if exponent else "9" * digits
    bodies = {
        "id": f'{{"id": {number}}}',
        "issue.id": f'{{"id": "h", "issue": {{"id": {number}, "title": "t"}}}}',
        "event_id": f'{{"event_id": {number}, "issue": {{"id": 1, "title": "t"}}}}',
        "secrets": f'{{"id": "h", "secrets": {{"K": {number}}}}}',
        "scopes": f'{{"id": "h", "authentication": {{"scopes": [{number}]}}}}',
        "expires_at": f'{{"id": "h", "authentication": {{"expires_at": {number}}}}}',
    }
    return bodies[where].encode()


def _jwt_segment(claims: str) -> str:
    return base64.urlsafe_b64encode(claims.encode()).rstrip(b"=").decode()


def _token_body(claims: str) -> bytes:
    header = _jwt_segment(json.dumps({"alg": "ES256", "kid": "k"}))
    token = f"{header}.{_jwt_segment(claims)}.c2ln"
    return json.dumps({"id": "t", "authentication": {"runtime_token": token}}).encode()


_token_claims = st.sampled_from(
    [
        '{"exp": 1e400, "iat": 1}',
        '{"exp": ' + "9" * 5000 + ', "iat": 1}',
        '{"exp": NaN}',
        '{"scopes": ' + "[" * 2000 + "]" * 2000 + "}",
        '{"org_id": ' + "9" * 4000 + "}",
        "[1]",
        "not json",
    ]
)

_body = st.one_of(
    st.binary(max_size=300),
    st.builds(_nested, st.integers(min_value=100, max_value=3000), st.sampled_from(["[", "{"])),
    st.builds(
        _huge_number,
        st.sampled_from(["id", "issue.id", "event_id", "secrets", "scopes", "expires_at"]),
        st.integers(min_value=300, max_value=6000),
        st.booleans(),
    ),
    st.builds(_token_body, _token_claims),
    _json_like.map(lambda v: json.dumps(v).encode()),
    st.builds(
        _issue_body,
        st.sampled_from(['"t"', "1", "null", "[]", '{"a":1}']),
        st.sampled_from(["1", '"ISS-1"', "null", "1.5", "true"]),
    ),
)


def _sdk(**options: Any) -> KiketSDK:
    sdk = KiketSDK(telemetry_enabled=False, **options)

    @sdk.webhook("issue.created", version="v1")
    async def typed(event: IssueCreated, ctx: HandlerContext) -> Any:
        return allow(message=str(event.issue.title), data={"scopes": list(ctx.auth.scopes)})

    @sdk.webhook("custom.any", version="v1")
    def untyped(event: dict[str, Any], ctx: SyncHandlerContext) -> Any:
        return {"keys": sorted(event)}

    return sdk


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=_body,
    signature=_header_value,
    timestamp=_header_value,
    version=_header_value,
    content_type=_header_value,
    sign=st.booleans(),
    event=st.sampled_from(["issue.created", "custom.any", "nobody.listens"]),
    path_version=st.sampled_from(
        [None, "v1", "1", "V%C2%B2", "%F0%9F%98%80", "%20", "9" * 4400, "v" + "0" * 5000 + "1"]
    ),
    content_length=st.sampled_from([None, "9" * 5000, "-1", "1e3", "\u0663"]),
    query=st.sampled_from(["", "?version=v1", "?version=%C2%B2", "?version="]),
    mode=st.sampled_from(["hmac", "off", "token"]),
)
def test_never_5xx(
    body: bytes,
    signature: bytes | None,
    timestamp: bytes | None,
    version: bytes | None,
    content_type: bytes | None,
    sign: bool,
    event: str,
    path_version: str | None,
    query: str,
    content_length: str | None,
    mode: str,
) -> None:
    fuzzed = {
        b"x-kiket-signature": signature,
        b"x-kiket-timestamp": timestamp,
        b"x-kiket-event-version": version,
        b"content-type": content_type,
    }
    if sign:  # a valid signature gets the body past the proof of origin
        signed = signed_headers(body)
        fuzzed[b"x-kiket-signature"] = signed["X-Kiket-Signature"].encode()
        fuzzed[b"x-kiket-timestamp"] = signed["X-Kiket-Timestamp"].encode()
    headers = [(name, value) for name, value in fuzzed.items() if value is not None]
    if content_length is not None:  # a bogus length is refused before the body is read
        headers.append((b"content-length", content_length.encode()))
    path = f"/v/{path_version}/webhooks/{event}" if path_version else f"/webhooks/{event}"
    client = _CLIENTS[mode]
    response = client.post(path + query, content=body, headers=httpx.Headers(headers))
    if mode == "token" and response.status_code == 503:  # Kiket's keys unreachable: retried
        assert response.headers["retry-after"]
        assert "127.0.0.1" not in response.text
    else:
        assert response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    if response.status_code >= 400:
        assert isinstance(response.json().get("error"), str)


_CLIENTS: dict[str, TestClient] = {}


def setup_module() -> None:
    _CLIENTS["hmac"] = TestClient(_sdk(webhook_secret=SECRET)).__enter__()
    _CLIENTS["off"] = TestClient(_sdk(verify=False)).__enter__()
    # token mode: the key server is a closed port, so a well-formed token meets a 503
    _CLIENTS["token"] = TestClient(_sdk(base_url="http://127.0.0.1:9")).__enter__()


def teardown_module() -> None:
    for client in _CLIENTS.values():
        client.__exit__(None, None, None)
    _CLIENTS.clear()

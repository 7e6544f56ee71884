"""The inspector refuses what another site could make a browser send (CSRF, DNS rebinding),
and a stalled body, while its own page and scripts on this machine get through."""

from __future__ import annotations

import re
import socket
import time
from urllib.parse import urlsplit

import pytest

from kiket_sdk._inspector import api as inspector_api

from .conftest import API, Served


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/fake"), ("GET", "/deliveries"), ("POST", "/send"), ("DELETE", "/fake/secrets/a/b")],
)
@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://127.0.0.1:1", "http://localhost"]
)
def test_a_request_from_another_origin_is_refused(
    served: Served, method: str, path: str, origin: str
):
    answer = served.client.request(
        method, path, json={"event": "issue.created"}, headers={"Origin": origin}
    )
    assert answer.status_code == 403, answer.text
    assert "another origin" in answer.json()["detail"]
    assert served.client.get("/deliveries").json()["deliveries"] == []  # nothing was sent


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "kiket.dev.attacker.test"])
def test_a_dns_name_host_is_refused_against_rebinding(served: Served, host: str):
    answer = served.client.get("/fake", headers={"Host": host})
    assert answer.status_code == 403
    assert "rebound" in answer.json()["detail"]
    page = served.client.get(served.url + "/_kiket/inspector/", headers={"Host": host})
    assert page.status_code == 403


def test_the_inspectors_own_origin_and_loopback_names_get_through(served: Served):
    port = urlsplit(served.url).port
    own = served.client.get("/fake", headers={"Origin": served.url})
    assert own.status_code == 200
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        answer = served.client.post(
            "/validate",
            json={"event": "issue.created", "version": "v1", "payload": {}},
            headers={"Host": host, "Origin": f"http://{host}"},
        )
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_post_that_is_not_json_is_refused_before_anything_is_sent(
    served: Served, content_type: str | None
):
    headers = {} if content_type is None else {"Content-Type": content_type}
    answer = served.client.post(
        "/send", content=b'{"event": "issue.created", "version": "v1"}', headers=headers
    )
    assert answer.status_code == 415
    assert "application/json" in answer.json()["detail"]
    assert served.client.get("/deliveries").json()["deliveries"] == []


def _stalled_post(url: str, path: str, headers: str = "") -> tuple[bytes, float]:
    """POST a body that announces 100 bytes and sends 10; the answer and the seconds it took."""
    parts = urlsplit(url)
    assert parts.port is not None
    with socket.create_connection(("127.0.0.1", parts.port), timeout=20) as sock:
        started = time.monotonic()
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{parts.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: 100\r\n{headers}\r\n"
            '{"id": "x"'.encode()
        )
        answer = b""
        while True:  # the status line, headers and body may come in separate segments
            chunk = sock.recv(65536)
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            if not chunk or (length and len(body) >= int(length.group(1))):
                return answer, time.monotonic() - started


def test_a_stalled_body_to_the_api_is_a_408(served: Served, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(inspector_api, "BODY_SECONDS", 0.5)
    answer, took = _stalled_post(served.url, API + "/send")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"did not arrive" in answer
    assert took < 10


def test_a_stalled_delivery_body_gets_the_extensions_own_408_through_the_inspector(
    served: Served,
):
    # Nothing in front of the extension reads ahead: its body timeout (1 s here) still holds.
    answer, took = _stalled_post(served.url, "/v/v1/webhooks/issue.created")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert took < 10

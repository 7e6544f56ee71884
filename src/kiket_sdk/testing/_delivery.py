"""Deliver signed events to an extension in process, the way Kiket would.

Two flavours, chosen on purpose:

* ``await deliver(sdk, event, payload)``: async, through ``httpx.ASGITransport``. Use it from
  async tests (``pytest-asyncio``) and anywhere an event loop is already running.
* ``deliver_sync(sdk, event, payload)``: blocking. It runs ``deliver`` on one long-lived event
  loop in a daemon thread shared by every sync delivery, and waits for the answer.

Neither runs the ASGI lifespan, and both say so to the sdk: each delivery's deferred work is
finished before the answer is returned to the test (no warning is logged). The sdk's clients
work from any event loop, so the flavours can be mixed, and with ``TestClient``.
`route_outbound` points an sdk's outbound calls at a fake (the ``kiket_fake`` fixture does it
per test); `settle` runs its shutdown.

Both serialise the payload (a dict, or a pydantic model dumped by alias), sign it with ``secret``
or the sdk's first configured webhook secret, and post it to ``/v/{version}/webhooks/{event}``.

```python
from kiket_sdk.testing import deliver_sync, event_payload

answer = deliver_sync(sdk, "issue.created", event_payload("issue.created"))
assert answer.status_code == 200
```
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel

from kiket_sdk._delivery.request import webhook_path
from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, generate_signature

if TYPE_CHECKING:
    from kiket_sdk._app import KiketSDK

__all__ = [
    "deliver",
    "deliver_sync",
    "delivery_body",
    "jwks_for",
    "replay_payload",
    "route_outbound",
    "settle",
    "signed_headers",
]

_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_TEST_BASE_URL = "http://extension.test"


def signed_headers(
    secret: str,
    body: bytes | str,
    *,
    timestamp: int | str | None = None,
    version: str | None = None,
) -> dict[str, str]:
    """The headers of a signed JSON delivery of ``body``.

    >>> headers = signed_headers("s3cret", b"{}", timestamp=1767225600, version="v2")
    >>> sorted(headers)
    ['Content-Type', 'X-Kiket-Event-Version', 'X-Kiket-Signature', 'X-Kiket-Timestamp']
    """
    signed = generate_signature(secret, body, timestamp)
    headers = {
        SIGNATURE_HEADER: signed["signature"],
        TIMESTAMP_HEADER: signed["timestamp"],
        "Content-Type": "application/json",
    }
    if version:
        headers["X-Kiket-Event-Version"] = version
    return headers


def delivery_body(payload: Mapping[str, Any] | BaseModel | bytes | str) -> bytes:
    """``payload`` as the JSON bytes of a delivery (models are dumped by alias, without unset
    fields; bytes and str are sent as they are)."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, BaseModel):
        return payload.model_dump_json(by_alias=True, exclude_unset=True).encode("utf-8")
    return json.dumps(dict(payload), separators=(",", ":")).encode("utf-8")


def _secret(sdk: KiketSDK, secret: str | None) -> str:
    if secret:
        return secret
    secrets = [s for s in sdk.verifier.secrets if s]
    if not secrets:
        raise ConfigurationError(
            "cannot sign the delivery: pass secret= or configure the sdk with a webhook secret"
        )
    return secrets[0]


def _request(
    sdk: KiketSDK,
    event: str,
    payload: Mapping[str, Any] | BaseModel | bytes | str,
    version: str,
    secret: str | None,
    headers: Mapping[str, str] | None,
) -> tuple[str, bytes, dict[str, str]]:
    body = delivery_body(payload)
    all_headers = signed_headers(_secret(sdk, secret), body, version=version)
    all_headers.update(headers or {})
    return webhook_path(event, version), body, all_headers


async def deliver(
    sdk: KiketSDK,
    event: str,
    payload: Mapping[str, Any] | BaseModel | bytes | str,
    version: str = "v1",
    secret: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Sign and post one delivery to ``sdk`` in process (async; see the module docstring).

    ``headers`` are added last, so they can override the signature headers (to test refusals).
    """
    path, body, all_headers = _request(sdk, event, payload, version, secret, headers)
    pipeline = sdk.pipeline
    if pipeline.lifespan == "unknown":  # no lifespan here, knowingly: each delivery settles
        pipeline.lifespan = "none"
    transport = httpx.ASGITransport(app=sdk)
    async with httpx.AsyncClient(transport=transport, base_url=_TEST_BASE_URL) as http:
        return await http.post(path, content=body, headers=all_headers)


_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="kiket-sdk-deliver", daemon=True
            )
            thread.start()
            _loop = loop
        return _loop


def deliver_sync(
    sdk: KiketSDK,
    event: str,
    payload: Mapping[str, Any] | BaseModel | bytes | str,
    version: str = "v1",
    secret: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = 60.0,
) -> httpx.Response:
    """Sign and post one delivery to ``sdk`` in process (blocking; see the module docstring).

    The app's lifespan is not run, so the sdk keeps its clients between deliveries.
    """
    future = asyncio.run_coroutine_threadsafe(
        deliver(sdk, event, payload, version=version, secret=secret, headers=headers),
        _background_loop(),
    )
    return future.result(timeout)


def route_outbound(sdk: KiketSDK, base_url: str) -> str:
    """Point ``sdk``'s outbound calls (API, signing keys, runtime-token checks) at
    ``base_url`` -- a `FakeKiket`'s URL -- and return the base URL it had, to restore later with
    another call. Blocking; use it between deliveries, not during one.

    The SDK is settled first, as at a shutdown (deferred work finished, pools closed), and its
    in-memory ledger is started afresh, so nothing carries over: calls of the new period go to
    ``base_url`` alone, and events delivered before are not answered from the ledger again.
    The ``kiket_fake`` fixture does this for every SDK a test delivers to with
    ``kiket_deliver``, and undoes it after.

    ```python
    previous = route_outbound(sdk, fake.url)
    try:
        deliver_sync(sdk, "issue.created", event_payload("issue.created"))
    finally:
        route_outbound(sdk, previous)
    ```
    """
    settle(sdk)
    # A test's deliveries are not answered from an earlier test's: the test kit resets the
    # SDK's in-memory ledger, which is no public API.
    sdk._memory_ledger = None  # pyright: ignore[reportPrivateUsage]
    previous, sdk.base_url = sdk.base_url, base_url.rstrip("/")
    return previous


def settle(sdk: KiketSDK, timeout: float | None = 60.0) -> None:
    """Run ``sdk``'s shutdown (``await sdk.aclose()``: deferred work, pools, ledger) on the
    loop that `deliver_sync` uses, and wait for it (blocking; ``timeout`` in seconds)."""
    asyncio.run_coroutine_threadsafe(sdk.aclose(), _background_loop()).result(timeout)


def replay_payload(
    sdk: KiketSDK,
    event: str,
    path: str | Path,
    version: str = "v1",
    secret: str | None = None,
) -> httpx.Response:
    """Deliver a recorded payload (a JSON file) again, freshly signed (blocking).

    The file's bytes are sent as they are, so the handler sees exactly what was recorded.
    """
    raw = Path(path).read_bytes()
    try:
        json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"{path} is not a JSON file: {exc}") from None
    return deliver_sync(sdk, event, raw, version=version, secret=secret)


def jwks_for(jwk_dicts: Mapping[str, Any] | list[Mapping[str, Any]]) -> dict[str, Any]:
    """A JWKS document (``{"keys": [...]}``) of the public members of the given JWKs.

    Serve it from a fake, or hand it to ``JWKSCache.from_jwks`` for in-process verification.

    >>> from kiket_sdk.testing import generate_signing_key
    >>> _, jwk = generate_signing_key(kid="k1")
    >>> [key["kid"] for key in jwks_for([jwk])["keys"]]
    ['k1']
    """
    if isinstance(jwk_dicts, Mapping):
        keys = list(jwk_dicts["keys"]) if "keys" in jwk_dicts else [jwk_dicts]
    else:
        keys = list(jwk_dicts)
    return {
        "keys": [
            {str(name): value for name, value in key.items() if name not in _PRIVATE_JWK_MEMBERS}
            for key in keys
        ]
    }

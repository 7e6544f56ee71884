"""pytest fixtures for Kiket extensions (registered as the ``kiket_sdk`` pytest11 plugin).

This module is imported by every pytest run of every project that has kiket-sdk installed, so it
imports nothing heavy at the top: the test kit is imported inside the fixtures.

* ``kiket_fake``: a ``FakeKiket`` served on a free loopback port (``kiket_fake.url``).
* ``kiket_deliver``: ``kiket_deliver(sdk, event, payload=None, version="v1", **overrides)``
  signs and delivers in process and returns the ``httpx.Response``. Without ``payload`` it builds
  ``event_payload(event, version, **overrides)`` whose ``api.base_url`` is the sdk's base URL (so
  outbound calls of the handler go where the sdk points, e.g. a ``kiket_fake``).
* ``kiket_signed_headers``: ``signed_headers(secret, body, *, timestamp=None, version=None)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx

    from kiket_sdk._app import KiketSDK
    from kiket_sdk.testing._fake_kiket import FakeKiket

__all__ = ["kiket_deliver", "kiket_fake", "kiket_signed_headers"]


@pytest.fixture
def kiket_fake() -> Iterator[FakeKiket]:
    """A running ``FakeKiket`` (its URL in ``.url``), stopped after the test."""
    from kiket_sdk.testing import FakeKiket

    fake = FakeKiket()
    with fake.serve():
        yield fake


@pytest.fixture
def kiket_deliver() -> Callable[..., httpx.Response]:
    """Deliver a signed event to an sdk in process; returns the response."""
    from kiket_sdk.testing import deliver_sync, event_payload

    def send(
        sdk: KiketSDK,
        event: str,
        payload: Any = None,
        version: str = "v1",
        **overrides: Any,
    ) -> httpx.Response:
        if payload is None:
            overrides.setdefault("api", {"base_url": sdk.base_url})
            payload = event_payload(event, version, **overrides)
        elif overrides:
            raise TypeError("pass either payload= or overrides, not both")
        return deliver_sync(sdk, event, payload, version=version)

    return send


@pytest.fixture
def kiket_signed_headers() -> Callable[..., dict[str, str]]:
    """The ``signed_headers(secret, body, *, timestamp=None, version=None)`` function."""
    from kiket_sdk.testing import signed_headers

    return signed_headers

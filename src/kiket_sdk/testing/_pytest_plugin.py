"""pytest fixtures for Kiket extensions (registered as the ``kiket_sdk`` pytest11 plugin).

This module is imported by every pytest run of every project that has kiket-sdk installed, so it
imports nothing heavy at the top: the test kit is imported inside the fixtures.

* ``kiket_fake``: a ``FakeKiket`` served on a free loopback port (``kiket_fake.url``).
* ``kiket_deliver``: ``kiket_deliver(sdk, event, payload=None, version="v1", **overrides)``
  signs and delivers in process and returns the ``httpx.Response``. Without ``payload`` it builds
  ``event_payload(event, version, **overrides)`` whose ``api.base_url`` is the sdk's base URL
  unless an override sets it. In a test that also uses ``kiket_fake``, each sdk delivered to
  sends its outbound calls to that fake for the test, and is routed back afterwards.
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
def kiket_deliver(request: pytest.FixtureRequest) -> Iterator[Callable[..., httpx.Response]]:
    """Deliver a signed event to an sdk in process; returns the response.

    When the test also uses ``kiket_fake``, every sdk delivered to is routed to that fake for
    the test (`route_outbound`) and routed back afterwards, so a module-level sdk imported once
    works in any number of tests, each with its own fake.
    """
    from kiket_sdk.testing import deliver_sync, event_payload, route_outbound

    fake: FakeKiket | None = (
        request.getfixturevalue("kiket_fake") if "kiket_fake" in request.fixturenames else None
    )
    routed: dict[int, tuple[KiketSDK, str]] = {}

    def send(
        sdk: KiketSDK,
        event: str,
        payload: Any = None,
        version: str = "v1",
        **overrides: Any,
    ) -> httpx.Response:
        if fake is not None and fake.url is not None and id(sdk) not in routed:
            routed[id(sdk)] = (sdk, route_outbound(sdk, fake.url))
        if payload is None:
            # The sdk's base URL first: an explicit api=... or api__base_url=... comes after it.
            given = {"api__base_url": sdk.base_url, **overrides}
            payload = event_payload(event, version, **given)
        elif overrides:
            raise TypeError("pass either payload= or overrides, not both")
        return deliver_sync(sdk, event, payload, version=version)

    yield send
    for sdk, previous in routed.values():  # deferred work ends before the fake stops
        route_outbound(sdk, previous)


@pytest.fixture
def kiket_signed_headers() -> Callable[..., dict[str, str]]:
    """The ``signed_headers(secret, body, *, timestamp=None, version=None)`` function."""
    from kiket_sdk.testing import signed_headers

    return signed_headers

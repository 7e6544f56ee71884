"""Test kit for Kiket extensions: a fake Kiket API, ready-made event payloads, signed deliveries.

```python
from kiket_sdk.testing import FakeKiket, deliver_sync, event_payload

fake = FakeKiket(strict_responses=True)
payload = event_payload("issue.created", issue__title="Printer on fire")
answer = deliver_sync(sdk, "issue.created", payload)  # signed with the sdk's webhook secret
```

The pytest plugin (installed with the package) adds the fixtures ``kiket_fake``,
``kiket_deliver`` and ``kiket_signed_headers``. Names are imported on first use, so loading the
plugin (in every pytest run) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiket_sdk._lazy import lazy_exports

if TYPE_CHECKING:
    from kiket_sdk._signature import generate_signature
    from kiket_sdk.testing._delivery import (
        deliver,
        deliver_sync,
        delivery_body,
        jwks_for,
        replay_payload,
        route_outbound,
        settle,
        signed_headers,
    )
    from kiket_sdk.testing._fake_kiket import FakeKiket, RecordedCall
    from kiket_sdk.testing._payloads import event_payload, set_path
    from kiket_sdk.testing._server import serve_app
    from kiket_sdk.testing._tokens import generate_signing_key, sign_runtime_token

_EXPORTS: dict[str, str] = {
    "FakeKiket": "kiket_sdk.testing._fake_kiket",
    "RecordedCall": "kiket_sdk.testing._fake_kiket",
    "deliver": "kiket_sdk.testing._delivery",
    "deliver_sync": "kiket_sdk.testing._delivery",
    "delivery_body": "kiket_sdk.testing._delivery",
    "event_payload": "kiket_sdk.testing._payloads",
    "generate_signature": "kiket_sdk._signature",
    "generate_signing_key": "kiket_sdk.testing._tokens",
    "jwks_for": "kiket_sdk.testing._delivery",
    "replay_payload": "kiket_sdk.testing._delivery",
    "route_outbound": "kiket_sdk.testing._delivery",
    "settle": "kiket_sdk.testing._delivery",
    "serve_app": "kiket_sdk.testing._server",
    "set_path": "kiket_sdk.testing._payloads",
    "sign_runtime_token": "kiket_sdk.testing._tokens",
    "signed_headers": "kiket_sdk.testing._delivery",
}

__all__ = [
    "FakeKiket",
    "RecordedCall",
    "deliver",
    "deliver_sync",
    "delivery_body",
    "event_payload",
    "generate_signature",
    "generate_signing_key",
    "jwks_for",
    "replay_payload",
    "route_outbound",
    "serve_app",
    "set_path",
    "settle",
    "sign_runtime_token",
    "signed_headers",
]


if not TYPE_CHECKING:  # checkers see the imports above; at run time a name loads on first use
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, __all__)

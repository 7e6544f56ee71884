"""Delivery stores: the ledger's storage, for choosing one or writing your own.

``KiketSDK(delivery_store=...)`` takes any object with the `DeliveryStore` methods. Two ship:
`MemoryDeliveryStore` (the default: one process, nothing survives a restart) and
`RedisDeliveryStore` (``pip install 'kiket-sdk[redis]'``; shared by every replica; survives a
restart of the extension, and of Redis when Redis persists its data -- AOF with
``appendfsync always`` or ``everysec``, see the README's promises).

```python
from kiket_sdk import KiketSDK
from kiket_sdk.stores import RedisDeliveryStore

sdk = KiketSDK(
    webhook_secret="sh_123",
    delivery_store=RedisDeliveryStore.from_url("redis://127.0.0.1:6379/0", prefix="my-ext:"),
)
```
"""

from __future__ import annotations

from kiket_sdk._stores import (
    DEFAULT_LEASE,
    DEFAULT_RESULT_TTL,
    Claim,
    ClaimState,
    DeliveryStore,
    DeliveryStoreError,
    MemoryDeliveryStore,
    ProofBinding,
    RedisDeliveryStore,
    StoredResponse,
    delivery_store_from_env,
)

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_RESULT_TTL",
    "Claim",
    "ClaimState",
    "DeliveryStore",
    "DeliveryStoreError",
    "MemoryDeliveryStore",
    "ProofBinding",
    "RedisDeliveryStore",
    "StoredResponse",
    "delivery_store_from_env",
]

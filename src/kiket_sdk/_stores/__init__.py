"""Delivery stores: where the ledger keeps its records (see `base` for the interface).

`MemoryDeliveryStore` (one process, the default) and `RedisDeliveryStore` (shared by replicas;
``pip install 'kiket-sdk[redis]'``). `delivery_store_from_env` picks Redis when
``KIKET_REDIS_URL`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from kiket_sdk._stores.base import (
    DEFAULT_LEASE,
    DEFAULT_RESULT_TTL,
    Claim,
    ClaimState,
    DeliveryStore,
    DeliveryStoreError,
    ProofBinding,
    StoredResponse,
)
from kiket_sdk._stores.memory import MemoryDeliveryStore
from kiket_sdk._stores.redis import RedisDeliveryStore, check_redis_url

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_RESULT_TTL",
    "REDIS_URL_ENV",
    "Claim",
    "ClaimState",
    "DeliveryStore",
    "DeliveryStoreError",
    "MemoryDeliveryStore",
    "ProofBinding",
    "RedisDeliveryStore",
    "StoredResponse",
    "check_store_env",
    "delivery_store_from_env",
]

REDIS_URL_ENV = "KIKET_REDIS_URL"


def delivery_store_from_env(environ: Mapping[str, str] | None = None) -> DeliveryStore:
    """`RedisDeliveryStore` when ``KIKET_REDIS_URL`` is set (non-blank), else a
    `MemoryDeliveryStore`. ``environ`` defaults to ``os.environ``.

    >>> type(delivery_store_from_env({})).__name__
    'MemoryDeliveryStore'
    >>> type(delivery_store_from_env({"KIKET_REDIS_URL": "redis://127.0.0.1:6379/0"})).__name__
    'RedisDeliveryStore'
    """
    env = os.environ if environ is None else environ
    url = (env.get(REDIS_URL_ENV) or "").strip()
    if not url:
        return MemoryDeliveryStore()
    return RedisDeliveryStore.from_url(url)


def check_store_env(environ: Mapping[str, str] | None = None) -> None:
    """Raise `ConfigurationError` when ``KIKET_REDIS_URL`` is set but is not a Redis URL (run
    at start-up, so a typo is one line then, not a 503 on every delivery later).

    >>> check_store_env({"KIKET_REDIS_URL": "redis://127.0.0.1:6379/0"})
    """
    env = os.environ if environ is None else environ
    url = (env.get(REDIS_URL_ENV) or "").strip()
    if url:
        check_redis_url(url)

"""Delivery options are checked where they are given, not at the first delivery."""

from __future__ import annotations

import math
from typing import Any

import pytest

from kiket_sdk import ConfigurationError, KiketSDK


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("body_timeout", 0),
        ("body_timeout", -1),
        ("body_timeout", math.nan),
        ("body_timeout", math.inf),
        ("claim_lease", 0),
        ("claim_lease", math.nan),
        ("duplicate_wait", -0.1),
        ("duplicate_wait", math.nan),
        ("max_body_size", 0),
    ],
)
def test_bad_delivery_options_are_refused_at_construction(option: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=option):
        KiketSDK(webhook_secret="sh_123", **{option: value})


def test_good_delivery_options_are_kept() -> None:
    sdk = KiketSDK(
        webhook_secret="sh_123",
        body_timeout=2.5,
        claim_lease=12,
        duplicate_wait=0,
        allowed_api_hosts=["example.org"],
    )
    assert (sdk.body_timeout, sdk.claim_lease, sdk.duplicate_wait) == (2.5, 12, 0)
    assert sdk.allowed_api_hosts == ("example.org",)

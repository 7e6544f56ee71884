"""CPU per delivery in process (no HTTP server, no load generator): the bench apps called as
ASGI callables, alternated, so only the SDK's own work is timed.

    python bench/observer_cost.py [--deliveries 3000] [--rounds 7]

Pairs: ``sdk_otel`` (``kiket_sdk.otel.instrument``; ``BENCH_OTEL=sdk`` for SDK providers with no
exporter) vs ``sdk`` (no observer). Reported: microseconds of process CPU time per delivery,
median of the rounds, and the median per-round ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _apps
from dispatch import _bodies


async def _cpu_per_delivery(app: Any, bodies: list[tuple[bytes, dict[str, str]]]) -> float:
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for body, headers in bodies:
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/v/v1/webhooks/issue.created",
            "root_path": "",
            "query_string": b"",
            "headers": [*raw, (b"content-length", str(len(body)).encode())],
        }

        async def receive(body: bytes = body) -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, receive, send)
    elapsed = time.process_time() - started
    assert statuses == [200] * len(bodies), set(statuses)
    return elapsed / len(bodies) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    for app in (_apps.sdk, _apps.sdk_otel):
        app.pipeline.lifespan = "none"
    rounds = []
    for _ in range(args.rounds):
        observed = asyncio.run(_cpu_per_delivery(_apps.sdk_otel, _bodies(args.deliveries)))
        plain = asyncio.run(_cpu_per_delivery(_apps.sdk, _bodies(args.deliveries)))
        rounds.append((observed, plain))
    print("| round | instrumented us/delivery | plain us/delivery | ratio |\n|---|---|---|---|")
    for number, (observed, plain) in enumerate(rounds, 1):
        print(f"| {number} | {observed:.0f} | {plain:.0f} | {observed / plain:.3f} |")
    ratio = statistics.median(o / p for o, p in rounds)
    print(
        f"| **median** | {statistics.median(o for o, _ in rounds):.0f} | "
        f"{statistics.median(p for _, p in rounds):.0f} | **{ratio:.3f}** |"
    )


if __name__ == "__main__":
    main()

"""Dispatch throughput of a KiketSDK extension vs a raw Starlette app doing the same work.

Both apps run in one uvicorn worker on loopback (separate processes, one at a time). The load
generator (this process) fires pre-signed ``issue.created`` v1 deliveries, each with a unique
event id, at a fixed concurrency. The SDK app validates each into the typed ``IssueCreated``
model and answers ``allow()`` (dedupe store on, as by default); the baseline checks the same
HMAC, parses the JSON and answers the same JSON. Reported as ratios (SDK / baseline).

    python bench/dispatch.py [--requests 3000] [--concurrency 32] [--store memory|none|redis]
    python bench/dispatch.py --outbound      # handler makes one outbound call (vs bare httpx)
    python bench/dispatch.py --imports       # import time of kiket_sdk vs fastapi
    python bench/dispatch.py --otel          # kiket_sdk.otel.instrument, no exporter, vs none
    BENCH_OTEL=sdk python bench/dispatch.py --otel   # ... with SDK providers and no exporter
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _apps import SECRET

from kiket_sdk.auth import generate_signature


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(target: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--log-level", "warning"],
        cwd=Path(__file__).resolve().parent,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/health", timeout=0.5)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{target} did not start")


def _bodies(n: int) -> list[tuple[bytes, dict[str, str]]]:
    out = []
    for i in range(n):
        body = json.dumps(
            {
                "id": f"evt-{time.time_ns()}-{i}",
                "event": "issue.created",
                "authentication": {"runtime_token": "rt", "scopes": ["issues.read"]},
                "issue": {"id": i, "title": "Printer on fire", "status": "open", "project_id": 7},
                "project": {"id": 7, "key": "OPS"},
            }
        ).encode()
        sig = generate_signature(SECRET, body)
        headers = {
            "content-type": "application/json",
            "x-kiket-signature": sig["signature"],
            "x-kiket-timestamp": sig["timestamp"],
        }
        out.append((body, headers))
    return out


async def _worker(host: str, port: int, requests: list[bytes], latencies: list[float]) -> int:
    """One keep-alive HTTP/1.1 connection on raw asyncio streams (httpx would be the bottleneck)."""
    reader, writer = await asyncio.open_connection(host, port)
    failures = 0
    try:
        for request in requests:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            failures += not head.startswith(b"HTTP/1.1 200")
    finally:
        writer.close()
    return failures


async def _load(url: str, requests: int, concurrency: int) -> tuple[float, float, int]:
    host, port = url.removeprefix("http://").split(":")
    raw = []
    for body, headers in _bodies(requests):
        lines = ["POST /v/v1/webhooks/issue.created HTTP/1.1", f"host: {host}:{port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"content-length: {len(body)}")
        raw.append(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    shares = [raw[i::concurrency] for i in range(concurrency)]
    latencies: list[float] = []
    started = time.perf_counter()
    failures = await asyncio.gather(*(_worker(host, int(port), s, latencies) for s in shares))
    elapsed = time.perf_counter() - started
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    return requests / elapsed, p99, sum(failures)


def _measure(target: str, env: dict[str, str], args: argparse.Namespace) -> tuple[float, float]:
    proc, url = _serve(target, env)
    try:
        asyncio.run(_load(url, min(500, args.requests), args.concurrency))  # warm-up
        rps, p99, failures = asyncio.run(_load(url, args.requests, args.concurrency))
    finally:
        proc.terminate()
        proc.wait(10)
    if failures:
        raise SystemExit(f"{target}: {failures} non-200 answers")
    return rps, p99


def _import_time(statement: str, runs: int = 7) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--store", choices=["memory", "none", "redis"], default="memory")
    parser.add_argument("--outbound", action="store_true")
    parser.add_argument("--imports", action="store_true")
    parser.add_argument("--otel", action="store_true")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternate SDK/baseline this many times"
    )
    args = parser.parse_args()
    if args.imports:
        base = _import_time("import fastapi")
        bare = _import_time("import kiket_sdk")
        full = _import_time("from kiket_sdk import KiketSDK, allow; import kiket_sdk.events")
        print("| import | ms (median of 7) | ratio to `import fastapi` |\n|---|---|---|")
        print(f"| `import fastapi` | {base:.0f} | 1.00 |")
        print(f"| `import kiket_sdk` | {bare:.0f} | {bare / base:.2f} |")
        print(f"| `KiketSDK` + `kiket_sdk.events` | {full:.0f} | {full / base:.2f} |")
        return
    env = {"BENCH_STORE": args.store}
    if args.outbound:
        upstream, upstream_url = _serve("_apps:upstream", {})
        env["BENCH_UPSTREAM"] = upstream_url
        pairs = [
            ("_apps:sdk_outbound", "SDK, one outbound call"),
            ("_apps:raw_outbound", "bare httpx"),
        ]
    elif args.otel:
        upstream = None
        mode = os.environ.get("BENCH_OTEL", "global")
        pairs = [("_apps:sdk_otel", f"SDK + otel.instrument ({mode})"), ("_apps:sdk", "SDK")]
    else:
        upstream = None
        pairs = [("_apps:sdk", f"SDK (store: {args.store})"), ("_apps:raw", "raw Starlette")]
    rounds: list[tuple[tuple[float, float], tuple[float, float]]] = []
    try:
        for _ in range(args.rounds):  # alternated, so drift of the machine hits both alike
            sdk_result, raw_result = (_measure(t, env, args) for t, _ in pairs)
            rounds.append((sdk_result, raw_result))
    finally:
        if upstream is not None:
            upstream.terminate()
    ratios = sorted(sdk[0] / raw[0] for sdk, raw in rounds)
    print(f"requests={args.requests} concurrency={args.concurrency} rounds={args.rounds}")
    print("| round | SDK req/s | baseline req/s | ratio | SDK p99 ms | baseline p99 ms |")
    print("|---|---|---|---|---|---|")
    for number, ((sdk_rps, sdk_p99), (raw_rps, raw_p99)) in enumerate(rounds, 1):
        print(
            f"| {number} | {sdk_rps:.0f} | {raw_rps:.0f} | {sdk_rps / raw_rps:.2f} "
            f"| {sdk_p99:.1f} | {raw_p99:.1f} |"
        )
    print(
        f"| **median ratio** ({pairs[0][1]} / {pairs[1][1]}) | | | "
        f"**{statistics.median(ratios):.2f}** | | |"
    )


if __name__ == "__main__":
    main()

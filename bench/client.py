"""Outbound call overhead: ``AsyncKiketClient.extension.rate_limit()`` vs a bare ``httpx`` call.

A Starlette app answering ``GET /api/v1/ext/rate_limit`` runs in its own uvicorn process on
loopback. This process makes N sequential calls two ways, in alternating rounds:

- **sdk**: ``await client.extension.rate_limit()`` (headers, retry bookkeeping, rate-limit
  header parsing, pydantic validation into ``RateLimitResponse``);
- **bare**: one shared ``httpx.AsyncClient``: ``get`` with the same headers, status check and
  ``json.loads`` of the body.

The median round of each is compared; the target is sdk / bare <= 1.15.

    python bench/client.py [--calls 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time

import httpx

from kiket_sdk._client import AsyncKiketClient
from kiket_sdk._version import __version__

RATE_LIMIT = {"rate_limit": {"limit": 600, "remaining": 598, "window_seconds": 60, "reset_in": 42}}
TOKEN = "wk_bench"


def serve(port: int) -> None:
    """Run the fake API (called in the child process)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    body = json.dumps(RATE_LIMIT).encode()

    async def rate_limit(_request: object) -> Response:
        return Response(body, media_type="application/json")

    app = Starlette(routes=[Route("/api/v1/ext/rate_limit", rate_limit)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/api/v1/ext/rate_limit", timeout=0.5)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the bench server did not start")


async def _sdk_round(client: AsyncKiketClient, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        answer = await client.extension.rate_limit()
        assert answer.rate_limit.remaining == 598
    return time.perf_counter() - start


async def _bare_round(http: httpx.AsyncClient, url: str, calls: int) -> float:
    headers = {
        "user-agent": f"kiket-sdk-python/{__version__}",
        "accept": "application/json",
        "authorization": f"Bearer {TOKEN}",
    }
    start = time.perf_counter()
    for _ in range(calls):
        response = await http.get(url + "/api/v1/ext/rate_limit", headers=headers)
        response.raise_for_status()
        assert json.loads(response.content)["rate_limit"]["remaining"] == 598
    return time.perf_counter() - start


async def measure(url: str, calls: int, rounds: int) -> tuple[list[float], list[float]]:
    sdk_times: list[float] = []
    bare_times: list[float] = []
    async with (
        AsyncKiketClient(base_url=url, workspace_token=TOKEN) as client,
        httpx.AsyncClient() as http,
    ):
        await _sdk_round(client, 200)  # warm up both pools and code paths
        await _bare_round(http, url, 200)
        for index in range(rounds):
            if index % 2:  # alternate which goes first
                bare_times.append(await _bare_round(http, url, calls))
                sdk_times.append(await _sdk_round(client, calls))
            else:
                sdk_times.append(await _sdk_round(client, calls))
                bare_times.append(await _bare_round(http, url, calls))
    return sdk_times, bare_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    proc, url = _start_server()
    try:
        sdk_times, bare_times = asyncio.run(measure(url, args.calls, args.rounds))
    finally:
        proc.terminate()
        proc.wait(10)
    sdk, bare = statistics.median(sdk_times), statistics.median(bare_times)
    ratio = sdk / bare
    print(f"{args.calls} sequential calls per round, {args.rounds} rounds, median round\n")
    print("| client | round (s) | per call (µs) | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| bare httpx + json | {bare:.3f} | {bare / args.calls * 1e6:.0f} | 1.00 |")
    print(f"| AsyncKiketClient | {sdk:.3f} | {sdk / args.calls * 1e6:.0f} | {ratio:.2f} |")
    verdict = "meets" if ratio <= 1.15 else "misses"
    print(f"\nsdk / bare = {ratio:.3f} ({verdict} the <= 1.15 target)")


if __name__ == "__main__":
    main()

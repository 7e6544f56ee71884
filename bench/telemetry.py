"""Delivery latency with telemetry off vs telemetry sent to an endpoint that never answers.

One uvicorn worker on loopback serves a KiketSDK extension (a separate process per
measurement). The load generator (this process) fires pre-signed ``issue.created`` v1
deliveries, each with its own event id and signature, on raw keep-alive connections. Variants:

- ``off``: ``telemetry_enabled=False``.
- ``black hole``: ``telemetry_url`` is a socket (in this process) that accepts TCP connections
  and never answers.
- ``slow``: ``telemetry_url`` is a uvicorn app that answers every telemetry POST after 10 s.

With ``--mode outbound`` the handler makes one API call (``ctx.endpoints.rate_limit()``) to a
loopback upstream (``_apps:upstream``), as most handlers do; with ``--mode bare`` it just answers
``allow()``; the default runs both. The variants run alternately, ``--rounds`` times, each
server measured ``--passes`` times (median); each round's p50 and p99 are divided by the same
round's ``off`` numbers and the medians of those ratios are reported (target: <= 1.10). The last
column is the server's ``TelemetrySender`` counters after its shutdown drain (5 s).

    python bench/telemetry.py                 # 600 deliveries, concurrency 100, 5 rounds, 3 passes
    python bench/telemetry.py --requests 600 --concurrency 100 --rounds 5 --mode outbound
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _apps import SECRET
from dispatch import _bodies, _free_port, _worker

from kiket_sdk import Allow, HandlerContext, KiketSDK, allow
from kiket_sdk._telemetry import TelemetrySender
from kiket_sdk.events import IssueCreated

VARIANTS = ("off", "black hole", "slow")


# -- the apps (built by uvicorn --factory in the server process) -----------------------------


def make_app() -> Any:
    """The extension under test, configured from ``BENCH_*`` environment variables."""
    telemetry_url = os.environ.get("BENCH_TELEMETRY_URL") or None
    sdk = KiketSDK(
        webhook_secret=SECRET,
        extension_id="com.example.bench",
        base_url=os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9"),
        workspace_token="wk_bench",
        telemetry_enabled=telemetry_url is not None,
        telemetry_url=telemetry_url,
    )
    if os.environ.get("BENCH_OUTBOUND") == "1":

        @sdk.webhook("issue.created", version="v1")
        async def on_issue_outbound(event: IssueCreated, ctx: HandlerContext) -> Allow:
            limits = await ctx.endpoints.rate_limit()
            return allow(message="ok", data={"id": event.issue.id, "remaining": limits.remaining})

    else:

        @sdk.webhook("issue.created", version="v1")
        async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
            return allow(message="ok", data={"id": event.issue.id})

    stats_file = os.environ.get("BENCH_STATS_FILE")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        """The SDK; its telemetry counters go to ``BENCH_STATS_FILE`` once shutdown is done."""
        if scope["type"] != "lifespan" or not stats_file:
            return await sdk(scope, receive, send)

        async def send_and_record(message: Any) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                shared = getattr(TelemetrySender, "shared", None)  # None before the sender thread
                sender = shared() if shared is not None else None
                names = ("sent", "failed", "dropped", "pending")
                counters = {n: getattr(sender, n) for n in names} if sender else {}
                Path(stats_file).write_text(json.dumps(counters))  # noqa: ASYNC240 (at shutdown)
            await send(message)

        return await sdk(scope, receive, send_and_record)

    return app


def make_slow_endpoint() -> Any:
    """A telemetry endpoint that answers every POST after 10 s."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def telemetry(request: Request) -> Response:
        await asyncio.sleep(10)
        return JSONResponse({"ok": True}, status_code=202)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/telemetry", telemetry, methods=["POST"]), Route("/health", health)]
    )


# -- the black hole ------------------------------------------------------------------------


class BlackHole:
    """Accepts TCP connections on loopback and never answers (until ``close``)."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._accepted.append(conn)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        for conn in self._accepted:
            conn.close()


def _serve(target: str, env: dict[str, str], *, factory: bool = False) -> tuple[Any, str]:
    """Start ``uvicorn target`` on a free loopback port; ``(process, url)`` once it answers."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", target, "--port", str(port)]
    command += ["--log-level", "warning", *(["--factory"] if factory else [])]
    proc = subprocess.Popen(command, cwd=Path(__file__).resolve().parent, env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/health", timeout=0.5)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{target} did not start")


# -- measuring -----------------------------------------------------------------------------


async def _latencies(url: str, requests: int, concurrency: int) -> list[float]:
    host, port = url.removeprefix("http://").split(":")
    raw = []
    for body, headers in _bodies(requests):
        lines = ["POST /v/v1/webhooks/issue.created HTTP/1.1", f"host: {host}:{port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"content-length: {len(body)}")
        raw.append(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    shares = [raw[i::concurrency] for i in range(concurrency)]
    latencies: list[float] = []
    failures = await asyncio.gather(*(_worker(host, int(port), s, latencies) for s in shares))
    if sum(failures):
        raise SystemExit(f"{sum(failures)} non-200 answers")
    return latencies


def _measure(env: dict[str, str], args: argparse.Namespace) -> tuple[float, float, dict[str, int]]:
    """(p50 ms, p99 ms, the server's telemetry counters) of one fresh server: the medians over
    ``--passes`` runs of ``--requests`` deliveries, after a warm-up of 100."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as stats:
        stats_path = stats.name
    proc, url = _serve("telemetry:make_app", {**env, "BENCH_STATS_FILE": stats_path}, factory=True)
    try:
        asyncio.run(_latencies(url, 100, min(args.concurrency, 100)))  # warm-up
        passes = []
        for _ in range(args.passes):
            samples = asyncio.run(_latencies(url, args.requests, args.concurrency))
            cuts = statistics.quantiles(samples, n=100)
            passes.append((statistics.median(samples) * 1000, cuts[98] * 1000))
    finally:
        proc.terminate()
        proc.wait(30)
    try:
        counters = json.loads(Path(stats_path).read_text() or "{}")
    except (OSError, ValueError):
        counters = {}
    os.unlink(stats_path)
    p50 = statistics.median(p for p, _ in passes)
    p99 = statistics.median(p for _, p in passes)
    return p50, p99, counters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--passes", type=int, default=3, help="load runs per server (median)")
    parser.add_argument("--mode", choices=["outbound", "bare", "both"], default="both")
    args = parser.parse_args()

    hole = BlackHole()
    upstream, upstream_url = _serve("_apps:upstream", {})
    slow, slow_url = _serve("telemetry:make_slow_endpoint", {}, factory=True)
    urls = {"off": "", "black hole": hole.url, "slow": slow_url}
    modes = ["outbound", "bare"] if args.mode == "both" else [args.mode]
    print(
        f"requests={args.requests} concurrency={args.concurrency} rounds={args.rounds} "
        f"passes={args.passes}"
    )
    try:
        for mode in modes:
            results: dict[str, list[tuple[float, float, dict[str, int]]]] = {
                v: [] for v in VARIANTS
            }
            for number in range(args.rounds):
                order = VARIANTS if number % 2 == 0 else VARIANTS[::-1]  # alternate the order
                for variant in order:
                    env = {
                        "BENCH_UPSTREAM": upstream_url,
                        "BENCH_OUTBOUND": "1" if mode == "outbound" else "0",
                        "BENCH_TELEMETRY_URL": urls[variant],
                    }
                    results[variant].append(_measure(env, args))
            _report(mode, results)
    finally:
        hole.close()
        for proc in (upstream, slow):
            proc.terminate()
            proc.wait(10)


def _report(mode: str, results: dict[str, list[tuple[float, float, dict[str, int]]]]) -> None:
    handler = "one outbound call" if mode == "outbound" else "no outbound call"
    print(f"\n### handler with {handler}\n")
    print(
        "| telemetry | p50 ms per round | p99 ms per round | p50 ratio | p99 ratio "
        "| sent/failed/dropped/left queued at exit |"
    )
    print("|---|---|---|---|---|---|")
    base = results["off"]
    for variant, rounds in results.items():
        p50_ratio = statistics.median(r[0] / b[0] for r, b in zip(rounds, base, strict=True))
        p99_ratio = statistics.median(r[1] / b[1] for r, b in zip(rounds, base, strict=True))
        counters = [
            "/".join(str(r[2].get(k, "?")) for k in ("sent", "failed", "dropped", "pending"))
            for r in rounds
        ]
        print(
            f"| {variant} | {', '.join(f'{r[0]:.0f}' for r in rounds)} "
            f"| {', '.join(f'{r[1]:.0f}' for r in rounds)} "
            f"| **{p50_ratio:.2f}** | **{p99_ratio:.2f}** "
            f"| {', '.join(counters) if variant != 'off' else '-'} |"
        )


if __name__ == "__main__":
    main()

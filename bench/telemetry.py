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
``allow()``; the default runs both. The three servers (one per variant) run at
once, idle but for their own pass: each round runs one pass of ``--requests`` deliveries on
each, in alternating order, so the machine's drift hits all alike. Each round's p50 and p99 are
divided by the same round's ``off`` numbers and the medians of those ratios are reported
(target: <= 1.10). The last column is the server's ``TelemetrySender`` counters after its
shutdown drain (5 s).

    python bench/telemetry.py                 # 600 deliveries, concurrency 100, 9 rounds
    python bench/telemetry.py --requests 600 --concurrency 100 --rounds 9 --mode outbound
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


def _pass(url: str, args: argparse.Namespace) -> tuple[float, float]:
    """(p50 ms, p99 ms) of ``--requests`` deliveries at ``--concurrency``."""
    samples = asyncio.run(_latencies(url, args.requests, args.concurrency))
    return statistics.median(samples) * 1000, statistics.quantiles(samples, n=100)[98] * 1000


def _stop(proc: Any, stats_path: str) -> dict[str, int]:
    """Stop a server (its shutdown drains telemetry for up to 5 s); its telemetry counters."""
    proc.terminate()
    proc.wait(30)
    try:
        counters: dict[str, int] = json.loads(Path(stats_path).read_text() or "{}")
    except (OSError, ValueError):
        counters = {}
    os.unlink(stats_path)
    return counters


Rounds = dict[str, list[tuple[float, float]]]


def _run_mode(mode: str, urls: dict[str, str], upstream_url: str, args: argparse.Namespace) -> None:
    """One server per variant, all up at once; passes alternate between them, round by round."""
    servers: dict[str, tuple[Any, str, str]] = {}
    try:
        for variant in VARIANTS:
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as stats:
                stats_path = stats.name
            env = {
                "BENCH_UPSTREAM": upstream_url,
                "BENCH_OUTBOUND": "1" if mode == "outbound" else "0",
                "BENCH_TELEMETRY_URL": urls[variant],
                "BENCH_STATS_FILE": stats_path,
            }
            proc, url = _serve("telemetry:make_app", env, factory=True)
            servers[variant] = (proc, url, stats_path)
            asyncio.run(_latencies(url, 100, min(args.concurrency, 100)))  # warm-up
        results: Rounds = {v: [] for v in VARIANTS}
        for number in range(args.rounds):
            order = VARIANTS if number % 2 == 0 else VARIANTS[::-1]  # alternate the order
            for variant in order:
                results[variant].append(_pass(servers[variant][1], args))
    finally:
        counters = {v: _stop(proc, path) for v, (proc, _, path) in servers.items()}
    _report(mode, results, counters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--mode", choices=["outbound", "bare", "both"], default="both")
    args = parser.parse_args()

    hole = BlackHole()
    upstream, upstream_url = _serve("_apps:upstream", {})
    slow, slow_url = _serve("telemetry:make_slow_endpoint", {}, factory=True)
    urls = {"off": "", "black hole": hole.url, "slow": slow_url}
    print(f"requests={args.requests} concurrency={args.concurrency} rounds={args.rounds}")
    try:
        for mode in ["outbound", "bare"] if args.mode == "both" else [args.mode]:
            _run_mode(mode, urls, upstream_url, args)
    finally:
        hole.close()
        for proc in (upstream, slow):
            proc.terminate()
            proc.wait(10)


def _report(mode: str, results: Rounds, counters: dict[str, dict[str, int]]) -> None:
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
        names = ("sent", "failed", "dropped", "pending")
        tally = "/".join(str(counters[variant].get(k, "?")) for k in names)
        print(
            f"| {variant} | {', '.join(f'{r[0]:.0f}' for r in rounds)} "
            f"| {', '.join(f'{r[1]:.0f}' for r in rounds)} "
            f"| **{p50_ratio:.2f}** | **{p99_ratio:.2f}** "
            f"| {tally if variant != 'off' else '-'} |"
        )


if __name__ == "__main__":
    main()

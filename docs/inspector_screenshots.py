"""Take the inspector's screenshots for the README: ``docs/images/inspector-{light,dark}.png``.

Starts ``kiket-sdk dev examples.quickstart:sdk`` on a free loopback port with a seed file, sends
two events and resends the first (same bytes: the duplicate path) through the inspector's API,
then opens the page in headless Chromium (Debian's ``chromium``; Playwright never downloads a
browser here), selects the first delivery (the one with outbound calls) and saves one 1280x900
screenshot per colour scheme. Run from the repository root::

    PYTHONPATH=src python3 docs/inspector_screenshots.py [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
SEED = """\
records:
  - module: crm
    table: contacts
    project_id: 42
    rows:
      - {email: ada@example.com, source: import}
      - {email: grace@example.com, source: import}
sla_events:
  - {issue_id: 7, project_id: 42, state: imminent, definition: {id: 1}}
secrets:
  com.example.marketing: {API_KEY: demo-key}
"""
QUIET_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _read(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def _inspector_url(lines: queue.Queue[str]) -> str:
    """The URL ``kiket-sdk dev`` printed on its ``inspector`` line."""
    while True:
        line = lines.get(timeout=60)
        print(line)
        if line.startswith("inspector"):
            return line.split()[1]


def _deliveries(inspector: str) -> None:
    """Two events and a resend of the first, through the inspector's API."""
    with httpx.Client(base_url=inspector + "api", timeout=30.0) as api:
        first = api.post("/send", json={"event": "issue.created", "version": "v1"})
        first.raise_for_status()
        api.post("/send", json={"event": "workflow.sla_status", "version": "v1"})
        serial = first.json()["serial"]
        api.post(f"/deliveries/{serial}/resend", json={"as": "same"}).raise_for_status()


def _screenshots(inspector: str, chromium: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=QUIET_FLAGS)
        try:
            for scheme in ("light", "dark"):
                context = browser.new_context(
                    viewport={"width": 1280, "height": 900}, color_scheme=scheme
                )
                page = context.new_page()
                page.goto(inspector)
                page.wait_for_selector("body[data-ready=true]")
                page.select_option("#send-event", label="★ issue.created@v1")
                page.click("#deliveries tr[data-ledger='first_run'] >> nth=-1")  # the first sent
                page.wait_for_selector("#detail-timeline li.outbound")
                target = IMAGES / f"inspector-{scheme}.png"
                page.screenshot(path=str(target))
                print(f"wrote {target.relative_to(ROOT)} ({target.stat().st_size} bytes)")
                context.close()
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("KIKET_TEST_CHROMIUM") or shutil.which("chromium") or ""
    parser.add_argument("--chromium", default=default, help="the Chromium executable")
    args = parser.parse_args()
    if not args.chromium:
        parser.error("no chromium found: apt-get install chromium, or pass --chromium PATH")
    with tempfile.TemporaryDirectory() as folder:
        seed = Path(folder) / "seed.yaml"
        seed.write_text(SEED, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIKET_")}
        env["PYTHONUNBUFFERED"] = "1"
        paths = [str(ROOT / "src"), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
        command = [sys.executable, "-m", "kiket_sdk", "dev", "examples.quickstart:sdk"]
        command += ["--port", "0", "--seed", str(seed)]
        with subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            assert process.stdout is not None
            lines: queue.Queue[str] = queue.Queue()
            threading.Thread(target=_read, args=(process.stdout, lines), daemon=True).start()
            try:
                inspector = _inspector_url(lines)
                _deliveries(inspector)
                _screenshots(inspector, args.chromium)
            finally:
                process.terminate()
                process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

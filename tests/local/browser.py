"""Headless Chromium driven through ChromeDriver's W3C WebDriver HTTP API (standard library only).

Debian's packages: `apt-get install -y chromium chromium-driver` (/usr/bin/chromium,
/usr/bin/chromedriver). The flags keep Chromium off the network this machine does not have.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return (
                f"{path} not installed (apt-get install -y chromium chromium-driver; "
                ".ci/run installs them)"
            )
    return None


@dataclass
class PageCheck:
    """What the browser saw: title, heading, every image's natural width, severe console lines."""

    title: str
    heading: str
    image_widths: list[int]
    console_errors: list[str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(base: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}").get("value")


def check_page(url: str) -> PageCheck:
    """Open `url` in headless Chromium and report what rendered."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    driver = subprocess.Popen(
        [CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_ready(base)
        with tempfile.TemporaryDirectory() as profile:
            options = {"binary": CHROMIUM, "args": [*FLAGS, f"--user-data-dir={profile}"]}
            capabilities = {
                "browserName": "chrome",
                "goog:chromeOptions": options,
                "goog:loggingPrefs": {"browser": "ALL"},
            }
            session = _call(
                base, "POST", "/session", {"capabilities": {"alwaysMatch": capabilities}}
            )
            sid = session["sessionId"]
            try:
                return _inspect(base, sid, url)
            finally:
                _call(base, "DELETE", f"/session/{sid}")
    finally:
        driver.terminate()
        driver.wait(timeout=10)


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _call(base, "GET", "/status").get("ready"):
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    raise RuntimeError("chromedriver did not become ready in 30 s")


def _inspect(base: str, sid: str, url: str) -> PageCheck:
    _call(base, "POST", f"/session/{sid}/url", {"url": url})
    script = """
        const images = [...document.images];
        return {
            title: document.title,
            heading: (document.querySelector('h1') || {}).textContent || '',
            widths: images.map(img => img.complete ? img.naturalWidth : -1),
        };
    """
    seen = _call(base, "POST", f"/session/{sid}/execute/sync", {"script": script, "args": []})
    logs = _call(base, "POST", f"/session/{sid}/se/log", {"type": "browser"}) or []
    errors = [entry["message"] for entry in logs if entry.get("level") == "SEVERE"]
    return PageCheck(seen["title"], seen["heading"], list(seen["widths"]), errors)

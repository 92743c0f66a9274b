"""`make screenshots`: the README's pictures of the Dagster UI, from the demo on the example seller, in Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "seller_data"
IMAGES = ROOT / "docs" / "images"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # Debian's package: `apt-get install chromium`
# Chromium on a machine without the internet: no first-run, sync or update traffic, no GPU.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# (file, path in the UI, text to click first or None, text to wait for)
SHOTS = [
    ("reports_group.png", "/locations/walmart_accounting/asset-groups/reports", "List", "xero_settlement_report"),
    ("settlement_report.png", "/assets/xero_settlement_report?view=partitions&partition=10312026", "[Show Markdown]",
     "Ties out"),
    ("posting_checks.png", "/assets/xero_posted_settlement?view=checks", "ledger_agrees", "Read back through"),
    # `dagster dev`'s daemon evaluates the freshness policy within a minute
    ("integration_health.png", "/assets/integration_health", None, "Passing"),
]


def main(argv: list[str]) -> int:
    """Run the demo into a Dagster instance on disk, serve it with `dagster dev`, and photograph its pages.

    `--home DIR` keeps that instance (and on a second call reuses it, to retake the pictures without the demo).
    """
    import dagster as dg
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from walmart_accounting.cli.demo import run_demo
    from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer, free_port

    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM)", file=sys.stderr)
        return 2
    keep = argv[1] if len(argv) == 2 and argv[0] == "--home" else None
    home = Path(keep or tempfile.mkdtemp(prefix="walmart_accounting_screenshots_")).resolve()
    os.environ["DAGSTER_HOME"] = str(home)
    if not (home / "dagster.yaml").exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
        with dg.DagsterInstance.get() as instance:
            if run_demo(print, EXAMPLE, instance=instance) != 0:
                return 1
    else:  # what the demo pointed the code location at
        os.environ["WALMART_ACCOUNTING_DB_URL"] = f"sqlite:///{home / 'demo' / 'walmart_accounting.sqlite'}"
        os.environ["WALMART_ACCOUNTING_REPORTS_DIR"] = str(home / "demo" / "reports")
    start = SandboxServer(SandboxOptions(seller_data=EXAMPLE)).app.state.walmart.seller.start
    port = free_port()
    env = {**os.environ, "WALMART_ACCOUNTING_START_DATE": start.isoformat()}
    # `dagster dev`, as `make dev` runs it: the webserver and the daemon (which evaluates freshness).
    webserver = subprocess.Popen([sys.executable, "-m", "dagster", "dev", "-w", str(ROOT / "workspace.yaml"),
                                  "-h", "127.0.0.1", "-p", str(port)], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url)
        IMAGES.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            for name, path, click, text in SHOTS:
                page.goto(url + path)
                try:
                    _skip_welcome(page)
                    if click:
                        page.get_by_text(click, exact=True).first.click(timeout=60_000)
                    page.get_by_text(text).first.wait_for(timeout=120_000)
                except PlaywrightTimeout:
                    page.screenshot(path=home / name)
                    raise RuntimeError(f"{url + path} never showed {text!r}: see {home / name}") from None
                page.wait_for_load_state("networkidle")
                _settle(page)
                page.screenshot(path=IMAGES / name)
                print(f"{IMAGES / name}")
            browser.close()
    finally:
        webserver.terminate()
        webserver.wait(timeout=30)
        if keep is None:
            shutil.rmtree(home, ignore_errors=True)
    return 0


def _skip_welcome(page) -> None:
    """Dagster's first visit asks to join its community: skip it (the answer stays in the browser's storage)."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=5_000)
    except Exception:  # noqa: BLE001  (not asked: nothing to skip)
        return
    skip.click()


def _settle(page) -> None:
    """Wait for the statuses the UI loads after the page (\"Loading...\", \"Refreshing data\") to arrive."""
    for text in ("Loading...", "Refreshing data"):
        try:
            page.get_by_text(text).first.wait_for(state="hidden", timeout=30_000)
        except Exception:  # noqa: BLE001  (still there after 30 s: photograph what there is)
            pass


def _wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/server_info", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    raise TimeoutError(f"dagster dev did not answer on {url} within {seconds:.0f} s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`walmart-accounting sandbox serve` runs the three emulators and prints the exports a client needs."""

import os
import subprocess
import sys
import time
from datetime import date

import requests

from walmart_accounting.sandbox.server import free_port


def test_serve_prints_exports_that_reach_all_three_apis():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "walmart_accounting.cli.main", "sandbox", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ))
    try:
        exports = {}
        deadline = time.monotonic() + 60
        while len(exports) < 13 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("export "):
                name, value = line[len("export "):].strip().split("=", 1)
                exports[name] = value
        assert {"WALMART_BASE_URL", "XERO_API_URL", "XERO_IDENTITY_URL", "XERO_AUTHORIZE_URL", "EXACT_BASE_URL",
                "WALMART_CLIENT_ID", "WALMART_CLIENT_SECRET", "XERO_CLIENT_ID", "EXACT_CLIENT_ID"} <= set(exports)
        # The partitions start on the seller's first day, a Monday before today.
        start = date.fromisoformat(exports["WALMART_ACCOUNTING_START_DATE"])
        assert start.weekday() == 0 and start < date.today()
        token = requests.post(f"{exports['WALMART_BASE_URL']}/v3/token", data={"grant_type": "client_credentials"},
                              auth=(exports["WALMART_CLIENT_ID"], exports["WALMART_CLIENT_SECRET"]),
                              headers={"Accept": "application/json", "WM_QOS.CORRELATION_ID": "t", "WM_SVC.NAME": "t"},
                              timeout=10)
        assert token.status_code == 200 and token.json()["expires_in"] == 900
        assert requests.get(f"{exports['XERO_API_URL']}/connections", timeout=10).status_code == 401
        assert requests.get(f"{exports['EXACT_BASE_URL']}/api/v1/current/Me", timeout=10,
                            headers={"Accept": "application/json"}).status_code == 401
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:  # a loaded machine (two test workers); what is tested is above
            proc.kill()
            proc.wait(30)

"""`walmart-accounting demo --seller-data`: the example folder reconciles end to end; a broken copy fails and says why."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
from PIL import Image

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seller_data"


def run_demo(folder: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    # In a child process: the demo points the environment at its sandboxes, which must not leak into other tests.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WALMART_", "XERO_", "EXACT_"))}
    return subprocess.run([sys.executable, "-m", "walmart_accounting.cli.main", "demo", "--seller-data", str(folder)],
                          env=env, capture_output=True, text=True, timeout=timeout)


def test_demo_on_the_example_folder_reconciles_every_account(isolated_home):
    result = run_demo(EXAMPLE)
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-4000:]
    assert "recorded seller" in out and "9 orders, 1 returns, 2 settlement report(s)" in out
    assert re.search(r"settlement \d{8}: payout 85\.43 USD; transfer posted to exact, xero", out)
    assert re.search(r"settlement \d{8}: payout 127\.98 USD; transfer posted to exact, xero", out)
    assert "dead letters: 0" in out
    for line in [
        "xero clearing 1250: 0.00 USD, expected 0.00 USD",
        "xero bank 1000: 213.41 USD, expected 213.41 USD",
        "xero reserve 1260: 0.00 USD, expected 0.00 USD (nothing is withheld)",
        # the order shipped after the last report: its invoice is booked, no settlement has paid it
        "xero facilitator tax 2250: holds 4.11 USD, expected 4.11 USD (the facilitator tax of 1 document(s) "
        "no settlement has paid yet)",
        "exact clearing 1250: 0.00 USD, expected 0.00 USD",
        "exact bank 1100: 213.41 USD, expected 213.41 USD",
        "exact reserve 1260: 0.00 USD, expected 0.00 USD (nothing is withheld)",
        "exact facilitator tax 1650: holds 0.00 USD, expected 0.00 USD (every document is settled)",
    ]:
        assert f"    {line}\n" in out, line
    assert re.search(r"health xero: 26 posted, 0 waiting, 0 failed, 0 dead-lettered; \d+ of 5000 calls left today", out)
    assert re.search(r"health exact: 8 posted, 0 waiting, 0 failed, 0 dead-lettered; \d+ of 5000 calls left today", out)
    assert "posting_keeps_up: passed" in out
    assert "FAILED" not in out
    assert out.rstrip().splitlines()[-1].startswith("==> RECONCILED")
    _assert_reports_of_the_example(isolated_home / "demo" / "reports")


def _assert_reports_of_the_example(folder: Path) -> None:
    """Each ledger's settlement reports of the recorded seller: the CSV parses and sums to the payout, the chart is a PNG."""
    payouts = {"2026-10-31_10312026": 8543, "2026-11-14_11142026": 12798}
    for ledger in ("xero", "exact"):
        settlements = folder / ledger / "settlements"
        assert sorted(p.name for p in settlements.iterdir()) == sorted(
            f"{stem}.{ext}" for stem in payouts for ext in ("csv", "md", "png"))
        for stem, payout in payouts.items():
            table = pd.read_csv(settlements / f"{stem}.csv")
            assert table["walmart_cents"].dtype == "int64" and int(table["walmart_cents"].sum()) == payout, (ledger, stem)
            assert int(table["ledger_cents"].sum()) == payout and (table["difference_cents"] == 0).all(), (ledger, stem)
            assert {"product_sales", "fee:commission", "facilitator_tax_withheld"} <= set(table["category"])
            assert "Ties out" in (settlements / f"{stem}.md").read_text(encoding="utf-8")
            with Image.open(settlements / f"{stem}.png") as chart:
                assert chart.format == "PNG" and chart.size == (1200, 600)
                assert len(chart.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 2  # drawn, not blank


def test_demo_on_a_report_that_does_not_tie_out_fails_and_says_which(isolated_home, tmp_path):
    folder = tmp_path / "seller_data"
    shutil.copytree(EXAMPLE, folder)
    report = folder / "recon" / "10312026.csv"
    lines = report.read_text(encoding="utf-8").splitlines(keepends=True)
    assert "PaymentSummary" in lines[1] and ",85.43," in lines[1]
    report.write_text("".join([lines[0], lines[1].replace(",85.43,", ",95.43,"), *lines[2:]]), encoding="utf-8")
    result = run_demo(folder, timeout=300)
    assert result.returncode == 1, result.stdout[-4000:]
    assert re.search(r"FAILED: report \d{8} does not tie out: its rows sum to 85\.43 USD but its PaymentSummary "
                     r"pays 95\.43 USD", result.stdout), result.stdout[-4000:]
    assert "RECONCILED" not in result.stdout


def test_demo_refuses_a_bad_folder_naming_the_file(isolated_home, tmp_path):
    folder = tmp_path / "seller_data"
    shutil.copytree(EXAMPLE, folder)
    (folder / "orders" / "2026-11.json").write_text('{"list": {"elements": {}}}', encoding="utf-8")
    result = run_demo(folder, timeout=300)
    assert result.returncode == 2
    assert (f"FAILED: seller data refused: {folder / 'orders' / '2026-11.json'}: not a GET /v3/orders response body"
            in result.stdout)

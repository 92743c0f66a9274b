"""Reconciliation reports: available dates, the zipped v1 CSV, JSON paging, download counts."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from walmart_accounting.sandbox.seller import RECON_V1_COLUMNS
from walmart_accounting.sandbox.walmart import V1_COLUMNS
from walmart_accounting_tests.sandbox.walmart.support import _error, _loads, _start


def test_available_recon_dates(wm, seller):
    body = wm.get("/v3/report/reconreport/availableReconFiles?reportVersion=v1").json()
    assert body == {"availableApReportDates": [s.report_date for s in seller.settlements]}
    r = wm.get("/v3/report/reconreport/availableReconFiles?reportVersion=v2")
    assert r.status_code == 404 and _error(r)["code"] == "INVALID_REPORT_VERSION"


def test_recon_dates_appear_as_the_clock_reaches_them(seller, emulator_server):
    last = datetime.strptime(seller.settlements[-1].report_date, "%m%d%Y").replace(tzinfo=timezone.utc)
    wm = _start(emulator_server, seller, last - timedelta(hours=1))
    dates = wm.get("/v3/report/reconreport/availableReconFiles?reportVersion=v1").json()["availableApReportDates"]
    assert dates == [s.report_date for s in seller.settlements[:-1]]
    r = wm.get(f"/v3/report/reconreport/reconFile?reportDate={seller.settlements[-1].report_date}&reportVersion=v1")
    assert r.status_code == 404
    wm.clock.advance(3600)
    wm.token = wm.new_token()
    dates = wm.get("/v3/report/reconreport/availableReconFiles?reportVersion=v1").json()["availableApReportDates"]
    assert seller.settlements[-1].report_date in dates


def test_recon_file_is_a_zip_of_the_v1_csv(wm, seller):
    settlement = seller.settlements[1]
    r = wm.get(f"/v3/report/reconreport/reconFile?reportDate={settlement.report_date}&reportVersion=v1",
               headers=wm.headers(Accept="application/octet-stream"))
    assert r.status_code == 200
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment") and disposition.endswith(".zip")
    filename = disposition.split("filename=")[1]
    partner, stamp = filename[:-4].split("_", 1)
    assert partner.isdigit()
    datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")  # 2016-01-15T23:09:54.438+0000
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert len(archive.infolist()) == 1
    text = archive.read(archive.infolist()[0]).decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert tuple(header[:len(V1_COLUMNS)]) == V1_COLUMNS == RECON_V1_COLUMNS
    rows = [dict(zip(header, line, strict=True)) for line in reader]
    assert len(rows) == len(settlement.rows)
    summary = rows[0]
    assert summary["Transaction Type"] == "PaymentSummary"
    amounts = [Decimal(row["Amount"]) for row in rows[1:] if row["Amount"] != ""]
    assert Decimal(summary["Total Payable"]) == sum(amounts, Decimal("0"))
    assert Decimal(summary["Total Payable"]) * 100 == settlement.total_payable_cents
    assert wm.state.recon_download_count(settlement.report_date) == 1


def test_recon_file_errors(wm, seller):
    date = seller.settlements[0].report_date
    r = wm.get(f"/v3/report/reconreport/reconFile?reportDate={date}&reportVersion=v2")
    assert r.status_code == 404 and _error(r)["code"] == "INVALID_REPORT_VERSION"
    r = wm.get("/v3/report/reconreport/reconFile?reportDate=01012020&reportVersion=v1")
    assert r.status_code == 404 and _error(r)["code"].startswith("CONTENT_NOT_FOUND")
    assert wm.get("/v3/report/reconreport/reconFile?reportVersion=v1").status_code == 400
    assert wm.state.recon_download_count() == 0


def test_recon_download_counts_are_recorded_per_report(wm, seller):
    a, b = seller.settlements[0].report_date, seller.settlements[1].report_date
    for date in (a, a, b):
        assert wm.get(f"/v3/report/reconreport/reconFile?reportDate={date}&reportVersion=v1").status_code == 200
    assert wm.state.recon_download_count(a) == 2 and wm.state.recon_download_count(b) == 1
    times = [r["at"] for r in wm.state.recon_requests if r["reportDate"] == a]
    assert len(times) == 2 and all(abs(t - wm.clock.now()) < 60 for t in times)


def test_recon_json_paging_ends_with_minus_one(wm, seller):
    settlement = seller.settlements[0]
    rows, offset, calls = [], 0, 0
    while offset != -1:
        r = wm.get(f"/v3/report/reconreport/reconFileJson?reportDate={settlement.report_date}&reportVersion=v1"
                   f"&offset={offset}&noOfRecords=500")
        assert r.status_code == 200, r.text
        body = _loads(r)
        assert set(body) == {"reportData", "nextOffset", "totalRecords", "description"}
        assert body["totalRecords"] == len(body["reportData"]) <= 500
        rows += body["reportData"]
        assert body["nextOffset"] == -1 or body["nextOffset"] > offset
        offset = body["nextOffset"]
        calls += 1
    assert calls == -(-len(settlement.rows) // 500)
    assert len(rows) == len(settlement.rows)
    assert rows[0]["Transaction Type"] == "PaymentSummary"
    assert rows[0]["Total Payable"] == settlement.rows[0]["Total Payable"]
    assert all(isinstance(v, str) for row in rows for v in row.values())
    detail = [r for r in rows[1:] if "Amount" in r]
    assert sum(Decimal(r["Amount"]) for r in detail) == Decimal(rows[0]["Total Payable"])
    assert str(len(settlement.rows) + 1) in body["description"]
    assert wm.state.recon_download_count(settlement.report_date, kind="json") == 1


def test_recon_json_parameters(wm, seller):
    date = seller.settlements[0].report_date
    base = f"/v3/report/reconreport/reconFileJson?reportDate={date}"
    assert wm.get(f"{base}&offset=0&noOfRecords=1000").status_code == 200
    r = wm.get(f"{base}&offset=0&noOfRecords=1001")
    assert r.status_code == 400 and _error(r)["field"] == "noOfRecords"
    for missing in (f"{base}&noOfRecords=10", f"{base}&offset=0",
                    "/v3/report/reconreport/reconFileJson?offset=0&noOfRecords=10"):
        r = wm.get(missing)
        assert r.status_code == 400 and "is not present" in _error(r)["description"], missing
    assert wm.get(f"{base}&offset=0&noOfRecords=10&reportVersion=v2").status_code == 404
    # Offsets are byte positions the API handed out, not record counts.
    first = wm.get(f"{base}&offset=0&noOfRecords=10").json()
    assert first["nextOffset"] > 10
    assert wm.get(f"{base}&offset=10&noOfRecords=10").status_code == 400
    assert wm.get(f"{base}&offset={first['nextOffset']}&noOfRecords=10").json()["reportData"][0]["Transaction Key"]

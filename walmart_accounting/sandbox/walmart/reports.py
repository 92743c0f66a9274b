"""Reconciliation reports: the available dates, the v1 report as a zipped CSV, and as JSON pages."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timezone
from typing import Iterable

from starlette.requests import Request
from starlette.responses import Response

from walmart_accounting.sandbox.seller import RECON_V1_COLUMNS as V1_COLUMNS
from walmart_accounting.sandbox.walmart.base import (
    PARTNER_ID,
    REPORT_API,
    ApiBase,
    ApiError,
    _bad_param,
    _missing_param,
    _not_found,
    json_response,
)
from walmart_accounting.sandbox.walmart.helpers import _int_param, _mmddyyyy, _query

RECON_JSON_MAX_RECORDS = 1000


def _json_row(row: dict[str, str], columns: Iterable[str]) -> dict[str, str]:
    """A reconFileJson row as in the official example: empty fields left out, all values strings."""
    out = {}
    summary = row.get("Transaction Type") == "PaymentSummary"
    for col in columns:
        value = row.get(col)
        value = "" if value is None else str(value)
        if value:
            out[col] = value
        elif col == "Period Start Date" and not summary:
            # The official example shows detail rows with "Period Start Date": "\"\"" (two quote characters).
            out[col] = '""'
    return out


# ----------------------------------------------------------------------------------------------------
# The API
# ----------------------------------------------------------------------------------------------------


class ReportsState:
    """The seller's settlements as reports, and who downloaded them; mixed into WalmartState (state.py)."""

    def available_report_dates(self) -> list[str]:
        today = self.today()
        dates = []
        for report_date in self._settlements:
            d = _mmddyyyy(report_date)
            if d is not None and d <= today:  # a report exists once its date has come
                dates.append((d, report_date))
        return [rd for _, rd in sorted(dates)]

    def settlement(self, report_date: str):
        if report_date not in self.available_report_dates():
            return None
        return self._settlements.get(report_date)

    def _recon_rendered(self, report_date: str) -> tuple[bytes, list[dict], list[int], int]:
        """(csv bytes, rows, byte offset of each row after the header, total data bytes)."""
        with self.lock:
            cached = self._recon_cache.get(report_date)
            if cached is not None:
                return cached
            settlement = self._settlements[report_date]
            columns = list(V1_COLUMNS)
            for row in settlement.rows:
                for key in row:
                    if key not in columns:
                        columns.append(key)  # newer files add columns at the end; parse by name
            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerow(columns)
            header = buf.getvalue().encode("utf-8")
            offsets, chunks, position = [], [], 0
            for row in settlement.rows:
                line_buf = io.StringIO()
                csv.writer(line_buf).writerow([("" if row.get(c) is None else str(row.get(c))) for c in columns])
                chunk = line_buf.getvalue().encode("utf-8")
                offsets.append(position)
                chunks.append(chunk)
                position += len(chunk)
            rendered = (header + b"".join(chunks), list(settlement.rows), offsets, position)
            self._recon_cache[report_date] = rendered
            return rendered

    def _record_recon(self, report_date: str, kind: str, offset: int | None = None) -> None:
        with self.lock:
            self.recon_requests.append({"reportDate": report_date, "kind": kind, "offset": offset, "at": self.now()})

    def recon_download_count(self, report_date: str | None = None, kind: str = "file") -> int:
        """Downloads of a report: kind 'file' (zip), 'json' (reconFileJson passes, counted at offset 0), 'any'."""
        with self.lock:
            count = 0
            for r in self.recon_requests:
                if report_date is not None and r["reportDate"] != report_date:
                    continue
                if kind in ("file", "any") and r["kind"] == "file":
                    count += 1
                elif kind in ("json", "any") and r["kind"] == "json" and r["offset"] == 0:
                    count += 1
            return count


class ReportsApi(ApiBase):
    """GET /v3/report/reconreport/availableReconFiles, reconFile and reconFileJson."""

    def _report_version(self, params: dict[str, str], *, required: bool) -> None:
        version = params.get("reportVersion")
        if version is None or version == "":
            if required:
                # CHOICE: the legacy (v0) report is not emulated; a request without reportVersion is refused.
                raise _missing_param(REPORT_API, "reportVersion")
            return
        if version != "v1":
            # Observed live: any version but v1 answers 404 INVALID_REPORT_VERSION.
            raise ApiError(404, "INVALID_REPORT_VERSION", "reportVersion", f"Invalid report version '{version}'",
                           "Report version is not supported.")

    async def available_recon_files(self, request: Request) -> Response:
        params = _query(request)
        self._report_version(params, required=False)
        return json_response({"availableApReportDates": self.state.available_report_dates()})

    def _settlement(self, params: dict[str, str]):
        report_date = params.get("reportDate")
        if not report_date:
            raise _missing_param(REPORT_API, "reportDate")
        if self.state.settlement(report_date) is None:
            # CHOICE: the real error for an unknown date was not found.
            raise _not_found(REPORT_API, f"Report not found for reportDate {report_date}", "reportDate")
        return report_date

    async def recon_file(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        self._report_version(params, required=True)
        report_date = self._settlement(params)
        content, _, _, _ = state._recon_rendered(report_date)
        generated = datetime.fromtimestamp(state.now(), tz=timezone.utc)
        stamp = generated.strftime("%Y-%m-%dT%H:%M:%S.") + f"{generated.microsecond // 1000:03d}+0000"
        name = f"{PARTNER_ID}_{stamp}"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{name}.csv", content)  # CHOICE: inner file name not documented
        state._record_recon(report_date, "file")
        # reports.json: "Content-Disposition ... filename=10000000354_2016-01-15T23:09:54.438+0000.zip"
        return Response(buf.getvalue(), media_type="application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename={name}.zip"})

    async def recon_file_json(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        self._report_version(params, required=False)
        if not params.get("reportDate"):
            raise _missing_param(REPORT_API, "reportDate")
        offset = _int_param(REPORT_API, params, "offset", None, low=0)
        if offset is None:
            raise _missing_param(REPORT_API, "offset", "Long")
        count = _int_param(REPORT_API, params, "noOfRecords", None, low=1, high=RECON_JSON_MAX_RECORDS,
                           high_message=f"noOfRecords cannot be more than {RECON_JSON_MAX_RECORDS}")
        if count is None:
            raise _missing_param(REPORT_API, "noOfRecords", "Integer")
        report_date = self._settlement(params)
        _, rows, offsets, total_bytes = state._recon_rendered(report_date)
        # reports spec: offset is the "starting number of the bytes, initial value for the offset is zero";
        # CHOICE: it counts bytes of the CSV body after its header line, and must be 0 or a value the API
        # returned in nextOffset (-1 once the file is exhausted).
        if offset == total_bytes:
            start = len(rows)
        else:
            try:
                start = offsets.index(offset)
            except ValueError:
                raise _bad_param(REPORT_API, "offset",
                                 f"Invalid offset {offset}: use 0 or a nextOffset returned by the API") from None
        end = min(start + count, len(rows))
        with state.lock:
            columns = list(V1_COLUMNS) + [k for row in rows for k in row if k not in V1_COLUMNS]
            columns = list(dict.fromkeys(columns))
        data = [_json_row(row, columns) for row in rows[start:end]]
        state._record_recon(report_date, "json", offset)
        return json_response({
            "reportData": data,
            "nextOffset": offsets[end] if end < len(rows) else -1,
            "totalRecords": len(data),
            "description": f"Number of Lines in file {len(rows) + 1}",
        })

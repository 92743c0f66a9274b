"""RecordedSeller: a seller's own Walmart data from a folder, served by the Walmart emulator in place of the synthetic seller."""

# The folder holds the Walmart API's own shapes (README "Your own Walmart data"):
#   orders/*.json    GET /v3/orders response bodies (list.elements.order)
#   returns/*.json   GET /v3/returns response bodies (returnOrders), optional
#   recon/<MMDDYYYY>.csv, or the .zip Walmart delivers: v1 reconciliation reports
#   items.json       GET /v3/items body (ItemResponse), optional
#   inventory.json   GET /v3/inventories body (elements.inventories), optional
# Everything is checked when the folder loads; the first bad file raises RecordedDataError with its path.

from __future__ import annotations

import csv
import io
import re
import threading
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from walmart_accounting.domain.jsonmoney import loads
from walmart_accounting.domain.money import MoneyError, minor_from_api
from walmart_accounting.sandbox.seller.catalog import SkuSpec
from walmart_accounting.sandbox.seller.helpers import CURRENCY
from walmart_accounting.sandbox.seller.settlements import Settlement

# The v1 columns the ingestion reads (transform/walmart/settlements.py); a report without one is refused.
RECON_REQUIRED_COLUMNS: tuple[str, ...] = (
    "Period Start Date", "Period End Date", "Total Payable", "Currency", "Transaction Key",
    "Transaction Posted Timestamp", "Transaction Type", "Transaction Description", "Customer Order #",
    "Purchase Order #", "Purchase Order line #", "Amount", "Amount Type", "Ship Qty", "Partner Item Id",
    "Ship to State", "Fulfillment Type",
)
# Walmart serves orders created in the last 180 days; data that starts closer than this margin to the
# window's edge is moved forward, so a run that takes a while still reaches its first day.
ORDER_WINDOW_DAYS = 180
WINDOW_MARGIN_DAYS = 14

_REPORT_DATE = re.compile(r"(?<!\d)(\d{8})(?!\d)")
_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}.*)$")
_MDY = re.compile(r"^(\d{2}/\d{2}/\d{4})(.*)$")
_TRANSACTION_KEY = re.compile(r"^(\d{4})_(\d{2})_(\d{2})(_.*)$")
# Epoch-millisecond fields of an order (FACTS.md section 2); the only dates an order carries.
_ORDER_MS_KEYS = frozenset({"orderDate", "statusDate", "shipDateTime", "estimatedDeliveryDate", "estimatedShipDate",
                            "pickUpDateTime"})
_RECON_DATE_COLUMNS = ("Period Start Date", "Period End Date", "Transaction Posted Timestamp")


class RecordedDataError(ValueError):
    """A file of a seller-data folder that cannot be served: its path and what is wrong with it."""

    def __init__(self, path: Path | str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


# -- reading files --------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordedDataError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return loads(text)
    except ValueError as exc:
        raise RecordedDataError(path, f"not JSON: {exc}") from None


def _files(folder: Path, suffixes: tuple[str, ...], what: str) -> list[Path]:
    """The files of a sub-folder, sorted; anything else in it is refused (hidden files aside)."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise RecordedDataError(folder, f"expected a folder of {what}")
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir() or path.suffix.lower() not in suffixes:
            raise RecordedDataError(path, f"unexpected here: this folder holds {what} ({', '.join(suffixes)} files)")
        found.append(path)
    return found


def _epoch_ms(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ms_to_dt(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def _iso_to_dt(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _ISO.match(value.strip()):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _lines(order: dict) -> list:
    lines = (order.get("orderLines") or {}).get("orderLine") if isinstance(order.get("orderLines"), dict) else None
    return lines if isinstance(lines, list) else []


def _orders_file(path: Path) -> list[dict]:
    body = _read_json(path)
    listing = body.get("list") if isinstance(body, dict) else None
    elements = listing.get("elements") if isinstance(listing, dict) else None
    orders = elements.get("order") if isinstance(elements, dict) else None
    if not isinstance(orders, list):
        raise RecordedDataError(path, "not a GET /v3/orders response body: list.elements.order (a list of orders) is missing")
    for i, order in enumerate(orders):
        where = f"list.elements.order[{i}]"
        if not isinstance(order, dict):
            raise RecordedDataError(path, f"{where} is not an order object")
        po = order.get("purchaseOrderId")
        if not isinstance(po, str) or not po.strip():
            raise RecordedDataError(path, f"{where}: purchaseOrderId is missing or not a string")
        where = f"order {po}"
        if not _epoch_ms(order.get("orderDate")):
            raise RecordedDataError(path, f"{where}: orderDate must be epoch milliseconds, got {order.get('orderDate')!r}")
        lines = _lines(order)
        if not lines:
            raise RecordedDataError(path, f"{where}: orderLines.orderLine is missing or empty")
        for line in lines:
            if not isinstance(line, dict) or not str(line.get("lineNumber") or "").strip():
                raise RecordedDataError(path, f"{where}: an order line has no lineNumber")
            if not isinstance(line.get("item"), dict) or not str(line["item"].get("sku") or "").strip():
                raise RecordedDataError(path, f"{where} line {line['lineNumber']}: item.sku is missing")
            if "statusDate" in line and not _epoch_ms(line["statusDate"]):
                raise RecordedDataError(path, f"{where} line {line['lineNumber']}: statusDate must be epoch milliseconds")
    return orders


def _returns_file(path: Path) -> list[dict]:
    body = _read_json(path)
    returns = body.get("returnOrders") if isinstance(body, dict) else None
    if not isinstance(returns, list):
        raise RecordedDataError(path, "not a GET /v3/returns response body: returnOrders (a list of return orders) is missing")
    for i, ret in enumerate(returns):
        if not isinstance(ret, dict):
            raise RecordedDataError(path, f"returnOrders[{i}] is not a return order object")
        rid = ret.get("returnOrderId")
        if not isinstance(rid, str) or not rid.strip():
            raise RecordedDataError(path, f"returnOrders[{i}]: returnOrderId is missing or not a string")
        if _iso_to_dt(ret.get("returnOrderDate")) is None:
            raise RecordedDataError(path, f"return {rid}: returnOrderDate is not an ISO timestamp: {ret.get('returnOrderDate')!r}")
        lines = ret.get("returnOrderLines")
        if not isinstance(lines, list) or not lines:
            raise RecordedDataError(path, f"return {rid}: returnOrderLines is missing or empty")
        for line in lines:
            if not isinstance(line, dict) or not str(line.get("purchaseOrderId") or "").strip():
                raise RecordedDataError(path, f"return {rid}: a return line has no purchaseOrderId")
    return returns


def _mdy(text: str) -> date | None:
    match = _MDY.match((text or "").strip())
    if not match:
        return None
    try:
        return datetime.strptime(match[1], "%m/%d/%Y").date()
    except ValueError:
        return None


def _report_date(path: Path, inner: str | None = None) -> str:
    """The report date (MMDDYYYY, as availableReconFiles lists it): the file's name, else the CSV's inside the zip."""
    for name in (path.stem, Path(inner).stem if inner else None):
        for token in _REPORT_DATE.findall(name or ""):
            try:
                datetime.strptime(token, "%m%d%Y")
            except ValueError:
                continue
            return token
    where = "the zip's name nor the CSV inside it" if inner else "the file name"
    raise RecordedDataError(path, f"cannot tell the report date: neither {where} holds an MMDDYYYY date "
                                  f"(name it recon/<MMDDYYYY>{path.suffix.lower()}, e.g. 10312026{path.suffix.lower()})")


def _recon_text(path: Path) -> tuple[str, str]:
    """(report date, CSV text) of a report file: a CSV, or a zip holding one CSV as Walmart delivers it."""
    if path.suffix.lower() == ".csv":
        raw, report_date = path.read_bytes(), _report_date(path)
    else:
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise RecordedDataError(path, f"not a zip file: {exc}") from None
        with archive:
            members = [m for m in archive.infolist() if not m.is_dir() and not Path(m.filename).name.startswith(".")]
            csvs = [m for m in members if m.filename.lower().endswith(".csv")]
            if len(csvs) != 1:
                names = ", ".join(m.filename for m in members) or "nothing"
                raise RecordedDataError(path, f"a report zip holds exactly one .csv file; this one holds {names}")
            raw, report_date = archive.read(csvs[0]), _report_date(path, csvs[0].filename)
    try:
        return report_date, raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordedDataError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _recon_file(path: Path, orders: dict) -> Settlement:
    report_date, text = _recon_text(path)
    reader = csv.DictReader(io.StringIO(text))
    header = [str(c).strip() for c in (reader.fieldnames or [])]
    missing = [c for c in RECON_REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RecordedDataError(path, f"not a v1 reconciliation report: the header lacks {', '.join(missing)}")
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    summaries: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        line = reader.line_num
        if None in row:
            raise RecordedDataError(path, f"line {line} has more cells than the header")
        row = {k: (v or "") for k, v in row.items()}
        kind = row["Transaction Type"].strip()
        if not kind:
            raise RecordedDataError(path, f"line {line}: Transaction Type is empty")
        currency = (row["Currency"].strip() or CURRENCY).upper()
        amount_column = "Total Payable" if kind.lower() == "paymentsummary" else "Amount"
        try:
            minor_from_api(row[amount_column].strip(), currency)
        except (MoneyError, ValueError) as exc:
            raise RecordedDataError(path, f"line {line}: {amount_column} {row[amount_column]!r} is not an amount in "
                                          f"{currency}: {exc}") from None
        po = row["Purchase Order #"].strip()
        if po and po not in orders:
            raise RecordedDataError(path, f"line {line}: purchase order {po} is not in any orders/*.json file "
                                          "(the orders a report pays must be recorded too)")
        if _mdy(row["Transaction Posted Timestamp"]) is None:
            raise RecordedDataError(path, f"line {line}: Transaction Posted Timestamp "
                                          f"{row['Transaction Posted Timestamp']!r} is not MM/DD/YYYY")
        if kind.lower() == "paymentsummary":
            summaries.append((line, row))
        rows.append(row)
    if len(summaries) != 1:
        lines = ", ".join(str(n) for n, _ in summaries)
        raise RecordedDataError(path, "no PaymentSummary row (the row that carries the payout)" if not summaries
                                else f"{len(summaries)} PaymentSummary rows (lines {lines}); a report has one")
    line, summary = summaries[0]
    start, end = _mdy(summary["Period Start Date"]), _mdy(summary["Period End Date"])
    if start is None or end is None or end < start:
        raise RecordedDataError(path, f"line {line}: the PaymentSummary period {summary['Period Start Date']!r} - "
                                      f"{summary['Period End Date']!r} is not two MM/DD/YYYY dates in order")
    currency = (summary["Currency"].strip() or CURRENCY).upper()
    total = minor_from_api(summary["Total Payable"].strip(), currency)
    return Settlement(report_date, start, end, report_date, total, rows)


def _amount_cents(value: Any, currency: str) -> int | None:
    try:
        return minor_from_api(value, currency)
    except (MoneyError, ValueError, TypeError):
        return None


def _items_file(path: Path) -> list[dict]:
    body = _read_json(path)
    items = body.get("ItemResponse") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise RecordedDataError(path, "not a GET /v3/items response body: ItemResponse (a list of items) is missing")
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str) or not item["sku"].strip():
            raise RecordedDataError(path, f"ItemResponse[{i}]: sku is missing or not a string")
        price = item.get("price")
        readable = isinstance(price, dict) and _amount_cents(price.get("amount"), price.get("currency") or CURRENCY) is not None
        if price is not None and not readable:
            raise RecordedDataError(path, f"item {item['sku']}: price is not {{currency, amount}}: {price!r}")
    return items


def _quantity(node: dict, name: str, path: Path, where: str) -> int:
    if node.get(name) is None:
        return 0
    value = node[name].get("amount") if isinstance(node[name], dict) else None
    if not _epoch_ms(value) or value < 0:
        raise RecordedDataError(path, f"{where}: {name}.amount must be a whole number of units, got {value!r}")
    return value


def _inventory_file(path: Path) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    body = _read_json(path)
    elements = body.get("elements") if isinstance(body, dict) else None
    inventories = elements.get("inventories") if isinstance(elements, dict) else None
    if not isinstance(inventories, list):
        raise RecordedDataError(path, "not a GET /v3/inventories response body: elements.inventories is missing")
    available: dict[str, dict[str, int]] = {}
    reserved: dict[str, dict[str, int]] = {}
    for i, entry in enumerate(inventories):
        if not isinstance(entry, dict) or not isinstance(entry.get("sku"), str) or not isinstance(entry.get("nodes"), list):
            raise RecordedDataError(path, f"elements.inventories[{i}] needs a sku and a list of nodes")
        for node in entry["nodes"]:
            if not isinstance(node, dict) or not str(node.get("shipNode") or "").strip():
                raise RecordedDataError(path, f"inventory of {entry['sku']}: a node has no shipNode")
            where = f"inventory of {entry['sku']} at ship node {node['shipNode']}"
            held = _quantity(node, "reservedQty", path, where)
            if "availToSellQty" in node:
                free = _quantity(node, "availToSellQty", path, where)
            else:
                free = max(_quantity(node, "inputQty", path, where) - held, 0)
            available.setdefault(entry["sku"], {})[str(node["shipNode"])] = free
            reserved.setdefault(entry["sku"], {})[str(node["shipNode"])] = held
    return available, reserved


# -- moving the dates ------------------------------------------------------------------------------


def _shift_days(first: date, last: date, today: date, folder: Path) -> int:
    """Whole weeks to move the data by so Walmart's 180-day order window holds it (0 when it already does)."""
    oldest = today - timedelta(days=ORDER_WINDOW_DAYS - WINDOW_MARGIN_DAYS)
    if first >= oldest and last <= today:
        return 0
    shift = ((today - timedelta(days=7) - last).days // 7) * 7  # weeks keep Walmart's alternate-Friday cycles
    if first + timedelta(days=shift) < oldest:
        raise RecordedDataError(folder, f"the data runs from {first} to {last} ({(last - first).days + 1} days): more than "
                                        f"Walmart's {ORDER_WINDOW_DAYS}-day order window holds with a "
                                        f"{WINDOW_MARGIN_DAYS}-day margin; split it into shorter folders")
    return shift


def _shift_order(value: Any, ms: int) -> Any:
    if isinstance(value, dict):
        return {k: (v + ms if k in _ORDER_MS_KEYS and _epoch_ms(v) else _shift_order(v, ms)) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift_order(v, ms) for v in value]
    return value


def _shift_iso(value: Any, days: int) -> Any:
    if isinstance(value, dict):
        return {k: _shift_iso(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift_iso(v, days) for v in value]
    if isinstance(value, str):
        match = _ISO.match(value)
        if match:
            try:
                return (date.fromisoformat(match[1]) + timedelta(days=days)).isoformat() + match[2]
            except ValueError:
                return value
    return value


def _shift_settlement(settlement: Settlement, days: int) -> Settlement:
    delta = timedelta(days=days)
    rows = []
    for row in settlement.rows:
        row = dict(row)
        for column in _RECON_DATE_COLUMNS:
            match = _MDY.match(row.get(column, "").strip())
            if match and _mdy(row[column]) is not None:
                row[column] = (_mdy(row[column]) + delta).strftime("%m/%d/%Y") + match[2]
        key = _TRANSACTION_KEY.match(row.get("Transaction Key", "").strip())
        if key:
            try:
                moved = date(int(key[1]), int(key[2]), int(key[3])) + delta
                row["Transaction Key"] = f"{moved:%Y_%m_%d}{key[4]}"
            except ValueError:
                pass
        rows.append(row)
    report = (datetime.strptime(settlement.report_date, "%m%d%Y").date() + delta).strftime("%m%d%Y")
    return Settlement(report, settlement.period_start + delta, settlement.period_end + delta, report,
                      settlement.total_payable_cents, rows)


# -- the seller -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Recorded:
    """What a folder holds once read and checked, before any date is moved."""

    orders: list[dict]
    returns: list[dict]
    settlements: list[Settlement]
    items: list[dict] | None
    inventory: tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]] | None


class RecordedSeller:
    """A seller's recorded Walmart orders, returns and reports, with the interface the emulator and the seeds use."""

    seed = None  # not synthetic: nothing is drawn

    def __init__(self, folder: Path, recorded: _Recorded, today: date):
        self.folder = folder
        self.name = folder.name
        self.today = today
        orders, returns, settlements = recorded.orders, recorded.returns, recorded.settlements
        first = min(_ms_to_dt(o["orderDate"]) for o in orders).date()
        self.shift_days = _shift_days(first, self._last_moment(orders, returns, settlements).date(), today, folder)
        if self.shift_days:
            ms = self.shift_days * 86_400_000
            orders = [_shift_order(o, ms) for o in orders]
            returns = [_shift_iso(r, self.shift_days) for r in returns]
            settlements = [_shift_settlement(s, self.shift_days) for s in settlements]

        self.orders: list[dict] = sorted(orders, key=lambda o: (o["orderDate"], o["purchaseOrderId"]))
        self._order_index = {o["purchaseOrderId"]: o for o in self.orders}
        self.returns: list[dict] = sorted(returns, key=lambda r: (_iso_to_dt(r["returnOrderDate"]), r["returnOrderId"]))
        self._return_index = {r["returnOrderId"]: r for r in self.returns}
        self.settlements: list[Settlement] = sorted(settlements, key=lambda s: (s.period_end, s.report_date))
        self.currency = next((r["Currency"].strip().upper() for s in self.settlements for r in s.rows
                              if r.get("Currency", "").strip()), CURRENCY)

        self.start: date = _ms_to_dt(self.orders[0]["orderDate"]).date()
        # The snapshot: midnight after the last recorded moment, like the synthetic seller's window end.
        self.end: date = self._last_moment(self.orders, self.returns, self.settlements).date() + timedelta(days=1)
        self.days = (self.end - self.start).days
        self.as_of = datetime.combine(self.end, time(0), UTC)

        self.ship_node_details: dict[str, dict[str, str]] = {}
        for order in self.orders:
            node = order.get("shipNode")
            if isinstance(node, dict) and node.get("id") is not None:
                self.ship_node_details.setdefault(str(node["id"]), {"type": str(node.get("type") or "SellerFulfilled"),
                                                                    "name": str(node.get("name") or node["id"])})
        if recorded.inventory is not None:
            self.inventory, self.inventory_reserved = recorded.inventory
            for nodes in self.inventory.values():
                for node in nodes:
                    self.ship_node_details.setdefault(node, {"type": "SellerFulfilled", "name": node})
        else:
            self.inventory, self.inventory_reserved = {}, None  # the emulator holds open order lines as reserved
        self.ship_nodes: list[str] = list(self.ship_node_details)
        self.skus: list[SkuSpec] = self._skus(recorded.items)
        self._by_sku = {spec.sku: spec for spec in self.skus}

    @classmethod
    def from_folder(cls, path: str | Path, *, today: date | None = None) -> "RecordedSeller":
        """Read and check a seller-data folder; every bad file raises RecordedDataError naming it and what is wrong."""
        folder = Path(path)
        if not folder.is_dir():
            raise RecordedDataError(folder, "not a folder (expected orders/, returns/ and recon/ inside)")
        return cls(folder, _read_folder(folder), today or datetime.now(UTC).date())

    @staticmethod
    def _last_moment(orders: list[dict], returns: list[dict], settlements: list[Settlement]) -> datetime:
        moments = [_ms_to_dt(o["orderDate"]) for o in orders]
        for order in orders:
            moments += [_ms_to_dt(ms) for ms in _order_stamps(order)]
        for ret in returns:
            moments += _return_stamps(ret)
        for settlement in settlements:
            report = datetime.strptime(settlement.report_date, "%m%d%Y").date()
            posted = [d for d in (_mdy(r["Transaction Posted Timestamp"]) for r in settlement.rows) if d is not None]
            moments += [datetime.combine(d, time(0), UTC) for d in [report, *posted]]
        return max(moments)

    def _skus(self, items: list[dict] | None) -> list[SkuSpec]:
        """The catalogue: items.json first, then every SKU the orders sell; GTIN and tax code from the reports."""
        recon: dict[str, dict[str, str]] = {}
        for settlement in self.settlements:
            for row in settlement.rows:
                sku = row.get("Partner Item Id", "").strip()
                if sku:
                    entry = recon.setdefault(sku, {})
                    for column, key in (("Partner GTIN", "gtin"), ("Product Tax Code", "tax"), ("Partner Item Name", "name")):
                        if row.get(column, "").strip():
                            entry.setdefault(key, row[column].strip())
        specs: dict[str, SkuSpec] = {}
        for item in items or []:
            sku = item["sku"].strip()
            price = item.get("price") or {}
            cents = _amount_cents(price.get("amount"), price.get("currency") or self.currency) if price else None
            info = recon.get(sku, {})
            specs[sku] = SkuSpec(sku, str(item.get("productName") or info.get("name") or sku),
                                 str(item.get("gtin") or info.get("gtin") or ""), cents or 0, 0, info.get("tax", ""))
        for order in self.orders:
            for line in _lines(order):
                sku = str(line["item"]["sku"]).strip()
                if sku in specs:
                    continue
                info = recon.get(sku, {})
                specs[sku] = SkuSpec(sku, str(line["item"].get("productName") or info.get("name") or sku),
                                     info.get("gtin", ""), _unit_price(line, self.currency), 0, info.get("tax", ""))
        return sorted(specs.values(), key=lambda spec: spec.sku)

    # -- what the emulator asks ---------------------------------------------------------------------

    def order(self, purchase_order_id: str) -> dict | None:
        """The order object for a purchase order id, as GET /v3/orders/{purchaseOrderId} returns it."""
        return self._order_index.get(purchase_order_id)

    def orders_created_between(self, start: datetime, end: datetime) -> list[dict]:
        """Orders with orderDate in [start, end) (naive datetimes are taken as UTC), oldest first."""
        lo, hi = (_utc(start), _utc(end))
        return [o for o in self.orders if lo <= _ms_to_dt(o["orderDate"]) < hi]

    def order_last_modified(self, po_id: str) -> datetime:
        """When the order last changed as recorded: its line statuses, shipments and its returns."""
        order = self._order_index[po_id]
        moments = [_ms_to_dt(ms) for ms in [order["orderDate"], *_order_stamps(order)]]
        moments += [_iso_to_dt(r["returnOrderDate"]) for r in self.returns
                    if any(ln.get("purchaseOrderId") == po_id for ln in r["returnOrderLines"])]
        return max(m for m in moments if m <= self.as_of)

    def return_last_modified(self, return_order_id: str) -> datetime:
        """When the return last changed as recorded: its statuses and tracking events."""
        return max(_return_stamps(self._return_index[return_order_id]))

    def return_refunded_at(self, return_order_id: str) -> datetime | None:
        """When the customer was refunded (the latest REFUND_COMPLETED of the return), None while it is pending."""
        ret = self._return_index[return_order_id]
        times = []
        for line in ret["returnOrderLines"]:
            times += [_iso_to_dt(t.get("statusTime")) for t in line.get("currentTrackingStatuses") or []
                      if isinstance(t, dict) and t.get("currentRefundStatus") == "REFUND_COMPLETED"]
            times += [_iso_to_dt(e.get("eventTime")) for e in line.get("returnTrackingDetail") or []
                      if isinstance(e, dict) and e.get("eventTag") == "REFUND_COMPLETED"]
        found = [t for t in times if t is not None]
        return max(found) if found else None

    def sku_spec(self, sku: str) -> SkuSpec | None:
        """The catalogue entry for a SKU."""
        return self._by_sku.get(sku)

    def describe(self) -> str:
        """One line for the serve and demo commands: what is served, over which days, and any date move."""
        text = (f"recorded seller {self.folder} ({len(self.orders)} orders, {len(self.returns)} returns, "
                f"{len(self.settlements)} report(s)) {self.start} + {self.days} days")
        if self.shift_days:
            text += (f"; dates moved {self.shift_days:+d} days so Walmart's {ORDER_WINDOW_DAYS}-day order window "
                     f"holds them")
        return text


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _order_stamps(order: dict) -> list[int]:
    """Epoch ms of what happened to an order (line statuses and shipments; estimates are not events)."""
    stamps = []
    for line in _lines(order):
        if _epoch_ms(line.get("statusDate")):
            stamps.append(line["statusDate"])
        statuses = (line.get("orderLineStatuses") or {}).get("orderLineStatus") or []
        for status in statuses if isinstance(statuses, list) else [statuses]:
            shipped = ((status or {}).get("trackingInfo") or {}).get("shipDateTime")
            if _epoch_ms(shipped):
                stamps.append(shipped)
    return stamps


def _return_stamps(ret: dict) -> list[datetime]:
    """What happened to a return: its creation, statuses and tracking events (returnByDate is a deadline, not an event)."""
    stamps = [_iso_to_dt(ret.get("returnOrderDate"))]
    for line in ret.get("returnOrderLines") or []:
        stamps.append(_iso_to_dt(line.get("statusTime")))
        stamps += [_iso_to_dt(t.get("statusTime")) for t in line.get("currentTrackingStatuses") or [] if isinstance(t, dict)]
        stamps += [_iso_to_dt(e.get("eventTime")) for e in line.get("returnTrackingDetail") or [] if isinstance(e, dict)]
    return [s for s in stamps if s is not None]


def _unit_price(line: dict, currency: str) -> int:
    """A line's ItemPrice per unit in cents (0 when the line does not say), to seed the ledgers' price lists."""
    quantity = (line.get("orderLineQuantity") or {}).get("amount")
    try:
        units = max(int(str(quantity)), 1)
    except ValueError:
        units = 1
    charges = (line.get("charges") or {}).get("charge") or []
    for charge in charges if isinstance(charges, list) else [charges]:
        if isinstance(charge, dict) and charge.get("chargeName") == "ItemPrice":
            cents = _amount_cents((charge.get("chargeAmount") or {}).get("amount"), currency)
            if cents:
                return cents // units
    return 0


def _read_folder(folder: Path) -> _Recorded:
    orders: dict[str, tuple[Path, dict]] = {}
    for path in _files(folder / "orders", (".json",), "GET /v3/orders response bodies"):
        for order in _orders_file(path):
            po = order["purchaseOrderId"]
            if po in orders and orders[po][1] != order:
                raise RecordedDataError(path, f"order {po} is also in {orders[po][0]} with different content; keep one")
            orders.setdefault(po, (path, order))
    if not orders:
        raise RecordedDataError(folder / "orders", "no orders: put GET /v3/orders response bodies in orders/*.json")

    returns: dict[str, tuple[Path, dict]] = {}
    for path in _files(folder / "returns", (".json",), "GET /v3/returns response bodies"):
        for ret in _returns_file(path):
            rid = ret["returnOrderId"]
            if rid in returns and returns[rid][1] != ret:
                raise RecordedDataError(path, f"return {rid} is also in {returns[rid][0]} with different content; keep one")
            returns.setdefault(rid, (path, ret))
            for line in ret["returnOrderLines"]:
                if line["purchaseOrderId"] not in orders:
                    raise RecordedDataError(path, f"return {rid} returns purchase order {line['purchaseOrderId']}, "
                                                  "which no orders/*.json file holds")

    settlements: dict[str, tuple[Path, Settlement]] = {}
    for path in _files(folder / "recon", (".csv", ".zip"), "reconciliation reports"):
        settlement = _recon_file(path, orders)
        if settlement.report_date in settlements:
            raise RecordedDataError(path, f"report {settlement.report_date} is also {settlements[settlement.report_date][0]}")
        settlements[settlement.report_date] = (path, settlement)

    items = _items_file(folder / "items.json") if (folder / "items.json").is_file() else None
    inventory = _inventory_file(folder / "inventory.json") if (folder / "inventory.json").is_file() else None
    return _Recorded([o for _, o in orders.values()], [r for _, r in returns.values()],
                     [s for _, s in settlements.values()], items, inventory)


_CACHE: dict[tuple, RecordedSeller] = {}
_CACHE_LOCK = threading.Lock()


def _fingerprint(folder: Path) -> tuple:
    return tuple((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                 for p in sorted(folder.rglob("*")) if p.is_file())


def recorded_seller(options) -> RecordedSeller:
    """The seller of `options.seller_data`, read once per folder state and day: the emulator and both seeds share it."""
    folder = Path(options.seller_data).resolve()
    today = datetime.fromtimestamp(options.clock.now(), UTC).date()
    key = (str(folder), _fingerprint(folder) if folder.is_dir() else (), today)
    with _CACHE_LOCK:
        if key not in _CACHE:
            if len(_CACHE) >= 8:
                _CACHE.clear()
            _CACHE[key] = RecordedSeller.from_folder(folder, today=today)
        return _CACHE[key]


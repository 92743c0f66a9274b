"""Exact Online ledger adapter: Walmart documents as sales, purchase and bank entries, found by key before any create.

Exact has no idempotency key and no batch writes, so every document is one (or, for fee bills and
stock-tracked invoices, two resumable) creates, and the document key is written where a `$filter`
finds it again:

- sales_invoice / credit_note -> ``salesentry/SalesEntries`` (Type 20 / 21), ``YourRef`` = key.
  With ``stock_tracked_items`` -> ``salesinvoice/SalesInvoices`` (Type 8020 / 8021) with items,
  ``YourRef`` = key, then processed through ``salesinvoice/PrintedSalesInvoices`` so it reaches the ledger.
- fee_bill -> ``purchaseentry/PurchaseEntries`` (Type 30, 31 when the fees net negative) to the
  Walmart supplier, ``YourRef`` = key, plus its payment out of the clearing journal (a bank entry whose
  line ``Description`` is the key, ``OurRef`` = the purchase entry's number).
- payment / refund payment -> ``financialtransaction/BankEntries`` in the journal of the clearing
  account: one line on the receivables control account, ``Account`` = the customer of the paid entry,
  ``OurRef`` = its invoice number (so Exact matches it), ``Description`` = key. Positive amounts are
  money into the clearing account; a refund payment is negative.
- transfer -> a bank entry in the clearing account's journal with one line on the bank G/L account
  for minus the payout: the clearing account falls and the bank account rises by the payout.
- stock_adjustment -> a processed ``inventory/StockCounts``, ``Description`` = key (posting/exact_stock.py).
- sales_order -> ``salesorder/SalesOrders``, ``YourRef`` = key, in its warehouse (posting/exact_orders.py).

Bank entries have no YourRef; the key in the line ``Description`` is what ``find_posted`` filters on
(the human text goes in ``Notes``).

Sales entries in the settlement_summary mode carry negative fee lines (46xx expense accounts) next to
the sales: Exact refuses only control accounts (bank, cash, receivables, payables, VAT) on sales entry
lines (picqer #121), so fees stay on the summary entry and its total equals the payout share that the
payment clears. A summary entry whose total is negative is posted as a credit note (Type 21), the
only form Exact takes a negative sales entry in.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from walmart_accounting.connectors.errors import NotFoundError, ValidationError
from walmart_accounting.connectors.exact import ExactClient, ODataLiteral, account_code, any_of, eq
from walmart_accounting.domain.config import Ledger, LedgerReference, MappingConfig
from walmart_accounting.domain.documents import DocumentKind, LineCategory
from walmart_accounting.domain.money import Money
from walmart_accounting.posting.documents import LedgerDocument
from walmart_accounting.posting.engine import PostResult
from walmart_accounting.posting.exact_orders import ExactOrders
from walmart_accounting.posting.exact_stock import ExactStock, StockRefused
from walmart_accounting.posting.readback import DUPLICATE, MISSING, VOIDED, LedgerFinding, amount_finding, as_decimal
from walmart_accounting.posting.references import ReferenceData

log = logging.getLogger("walmart_accounting.posting.exact")

SALES_ENTRIES = "salesentry/SalesEntries"
PURCHASE_ENTRIES = "purchaseentry/PurchaseEntries"
SALES_INVOICES = "salesinvoice/SalesInvoices"
PRINTED_SALES_INVOICES = "salesinvoice/PrintedSalesInvoices"
BANK_ENTRIES = "financialtransaction/BankEntries"
BANK_ENTRY_LINES = "financialtransaction/BankEntryLines"
TRANSACTION_LINES = "financialtransaction/TransactionLines"
ACCOUNTS = "crm/Accounts"
GL_ACCOUNTS = "financial/GLAccounts"
JOURNALS = "financial/Journals"
ITEMS = "logistics/Items"
VAT_CODES = "vat/VATCodes"
COST_CENTERS = "hrm/Costcenters"
COST_UNITS = "hrm/Costunits"

# financial/GLAccounts.Type and financial/Journals.Type values used here
GL_RECEIVABLE = 20
GL_PAYABLE = 22
JOURNAL_CASH, JOURNAL_BANK, JOURNAL_SALES, JOURNAL_PURCHASE = 10, 12, 20, 22
# G/L account types Exact refuses on sales and purchase entry lines (picqer #121): the control accounts.
LINE_REFUSED_GL_TYPES = {10: "cash", 12: "bank", 20: "receivables", 22: "payables", 24: "VAT"}

SALES_ENTRY, SALES_CREDIT = 20, 21
PURCHASE_ENTRY, PURCHASE_CREDIT = 30, 31
SALES_INVOICE, SALES_INVOICE_CREDIT = 8020, 8021
INVOICE_PROCESSED = 50

ACCOUNT_CODE_LENGTH = 18  # crm/Accounts.Code
DESCRIPTION_LENGTH = 60  # entry and line descriptions
LOOKUP_CHUNK = 10  # keys per `or` filter, to keep URLs short
_HASHED_CUSTOMER = re.compile(r"^WMC-([0-9a-f]{16})$")


class _Refused(Exception):
    """The document cannot be posted as it is (dead-letter it with this message)."""


class _NotYet(Exception):
    """The document depends on one that is not in Exact yet (post it on a later pass)."""


@dataclass(frozen=True)
class _Entry:
    """A document already in Exact: where, its id, its invoice number, and the customer/supplier it is on."""

    resource: str
    id: str
    number: int | None
    party: str | None
    status: int | None = None


def exact_account_code(contact_key: str) -> str:
    """The crm/Accounts Code for a contact key: the key itself when it fits Exact's 18 characters.

    Walmart customer keys are ``WMC-`` + 16 hex digits (20 characters): they become ``WM`` + the same
    16 digits. Any other longer key becomes ``WM`` + 16 hex digits of its SHA-256. Both are deterministic,
    so the account is found again by its code on every run.
    """
    key = str(contact_key).strip()
    if len(key) <= ACCOUNT_CODE_LENGTH:
        return key
    match = _HASHED_CUSTOMER.match(key)
    digest = match.group(1) if match else hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return "WM" + digest


def _chunks(values: list[str], size: int = LOOKUP_CHUNK) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _text(value: Any, limit: int = DESCRIPTION_LENGTH) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] if text else None


class ExactAdapter:
    """Posts LedgerDocuments to one Exact Online division (see the module docstring for what goes where)."""

    ledger = "exact"
    batch_size = 1  # Exact has no batch writes: one create per call

    def __init__(self, client: ExactClient, config: MappingConfig):
        self.client = client
        self.config = config
        self.cfg: Ledger = config.ledger("exact")
        self._gl: dict[str, dict[str, Any]] = {}  # G/L code -> {ID, Code, Type, IsBlocked}
        self._control_gl: dict[int, dict[str, Any]] = {}  # receivable/payable control account by G/L type
        self._accounts: dict[str, str] = {}  # crm/Accounts code -> ID
        self._items: dict[str, str] = {}  # item code -> ID
        self._journals: list[dict[str, Any]] | None = None
        self._entries: dict[str, _Entry] = {}  # document key -> where it is in Exact
        self.stock = ExactStock(client, self._item_ids)
        self.orders = ExactOrders(client, self)

    # -- LedgerAdapter ---------------------------------------------------------------------------

    def find_posted(self, documents: Sequence[LedgerDocument]) -> dict[str, str]:
        """Document key -> Exact GUID for the documents already complete in Exact (YourRef / bank line Description)."""
        by_kind: dict[DocumentKind, list[LedgerDocument]] = {}
        for document in documents:
            by_kind.setdefault(document.kind, []).append(document)
        found: dict[str, str] = {}
        for kind, docs in by_kind.items():
            keys = [d.key for d in docs]
            if kind in (DocumentKind.SALES_INVOICE, DocumentKind.CREDIT_NOTE):
                if self.cfg.stock_tracked_items:
                    entries = self._lookup_invoices(keys)
                    found.update({k: e.id for k, e in entries.items() if e.status == INVOICE_PROCESSED})
                else:
                    found.update({k: e.id for k, e in self._lookup_entries(SALES_ENTRIES, keys).items()})
            elif kind == DocumentKind.FEE_BILL:
                bills = self._lookup_entries(PURCHASE_ENTRIES, keys)
                paid = self._lookup_bank_lines(list(bills))
                # Half-posted (the bill without its payment) is not posted: post_batch finishes it.
                found.update({k: e.id for k, e in bills.items() if k in paid})
            elif kind in (DocumentKind.PAYMENT, DocumentKind.TRANSFER):
                found.update(self._lookup_bank_lines(keys))
            elif kind == DocumentKind.STOCK_ADJUSTMENT:
                found.update(self.stock.find_posted(keys))
            elif kind == DocumentKind.SALES_ORDER:
                found.update(self.orders.find_posted(keys))
        return found

    def post_batch(self, documents: Sequence[LedgerDocument]) -> list[PostResult]:
        """Post each document; a 400 from Exact or an unmappable document is a rejection, the next one goes on.

        Transport errors, 5xx and auth errors propagate (the engine resolves or stops on them).
        """
        return [self._post_one(document) for document in documents]

    # -- dispatch ----------------------------------------------------------------------------------

    def _post_one(self, document: LedgerDocument) -> PostResult:
        post = {
            DocumentKind.SALES_INVOICE: self._post_sales, DocumentKind.CREDIT_NOTE: self._post_sales,
            DocumentKind.FEE_BILL: self._post_fee_bill, DocumentKind.PAYMENT: self._post_payment,
            DocumentKind.TRANSFER: self._post_transfer, DocumentKind.STOCK_ADJUSTMENT: self.stock.post,
            DocumentKind.SALES_ORDER: self.orders.post,
        }.get(document.kind)
        if post is None:
            return PostResult(document.key, False,
                              error=f"Exact cannot post documents of kind {document.kind.value!r}")
        try:
            external_id = post(document)
        except (_Refused, StockRefused) as exc:
            return PostResult(document.key, False, error=str(exc))
        except _NotYet as exc:
            return PostResult(document.key, False, error=str(exc), retry_later=True)
        except (ValidationError, NotFoundError) as exc:  # a 4xx: Exact said no; retrying would say no again
            return PostResult(document.key, False, error=f"Exact refused {document.key}: {exc.message}",
                              correlation_id=exc.correlation_id)
        return PostResult(document.key, True, external_id=external_id)

    # -- sales: entries or stock-tracked invoices ----------------------------------------------------

    def _post_sales(self, document: LedgerDocument) -> str:
        if self.cfg.stock_tracked_items:
            return self._post_sales_invoice(document)
        credit = document.kind == DocumentKind.CREDIT_NOTE
        sign = -1 if credit else 1  # credit notes arrive with positive lines; Exact wants them negative
        currency = self._currency(document)
        gl = self._gl_accounts(document, [line["account"] for line in document.lines])
        net = sum(int(line["amount_cents"]) for line in document.lines) * sign
        vat = sum(int(line["tax_cents"]) for line in document.lines) * sign
        entry_type = SALES_CREDIT if credit or net + vat < 0 else SALES_ENTRY
        lines = []
        for line in document.lines:
            body = {
                "GLAccount": gl[line["account"]]["ID"],
                "AmountFC": self._money(int(line["amount_cents"]) * sign, currency),
                "VATAmountFC": self._money(int(line["tax_cents"]) * sign, currency),
                "Description": _text(line.get("description")),
                **self._base_amounts(document, line, sign),
            }
            if line.get("tax_code"):
                body["VATCode"] = str(line["tax_code"]).strip()
            if line.get("sku") and line.get("quantity") is not None:
                body["Quantity"] = int(line["quantity"]) * sign
            if line.get("cost_center"):
                body["CostCenter"] = str(line["cost_center"])
            if line.get("tracking_option"):
                body["CostUnit"] = str(line["tracking_option"])  # Exact's analogue of Xero tracking
            lines.append(body)
        customer = self._customer(document)
        body = {
            "Journal": self.cfg.sales_journal, "Customer": customer, "Type": entry_type,
            "EntryDate": self._date(document), "YourRef": document.key,
            "Description": self._description(document), "Currency": currency,
            "AmountFC": self._money(net + vat, currency), "VATAmountFC": self._money(vat, currency),
            "SalesEntryLines": lines,
        }
        self._add_rate(body, "Rate", document)
        created = self.client.create(SALES_ENTRIES, body)
        entry = _Entry(SALES_ENTRIES, str(created["EntryID"]), self._number(created),
                       created.get("Customer") or customer)
        self._entries[document.key] = entry
        return entry.id

    def _post_sales_invoice(self, document: LedgerDocument) -> str:
        """Stock-tracked items: a sales invoice with an item on every line, then processed (printed) into the ledger."""
        credit = document.kind == DocumentKind.CREDIT_NOTE
        sign = -1 if credit else 1
        currency = self._currency(document)
        missing = [f"line {line.get('line_no')} ({line.get('description')})" for line in document.lines
                   if not line.get("item_code") and line.get("category") == LineCategory.PRODUCT.value]
        if missing:
            raise _Refused(f"{document.key}: stock_tracked_items is on, so every product line needs an Exact item, but "
                           f"{', '.join(missing)} has no item_code; map the SKU under ledgers.exact.skus.items or "
                           "turn stock_tracked_items off")
        # Shipping, discounts and facilitator tax carry no product: they go on the non-stock charge item.
        item_of = {line["line_no"]: str(line.get("item_code") or self.cfg.charge_item) for line in document.lines}
        items = self._item_ids(document, list(item_of.values()))
        gl = self._gl_accounts(document, [line["account"] for line in document.lines if line.get("account")])
        existing = self._lookup_invoices([document.key]).get(document.key)
        if existing is None:
            lines = []
            for line in document.lines:
                amount = int(line["amount_cents"]) * sign
                quantity = int(line.get("quantity") or 1)
                if quantity == 0:
                    raise _Refused(f"{document.key}: line {line.get('line_no')} has quantity 0")
                # Exact can't take a negative price: a negative amount is a negative quantity at a positive price.
                quantity = abs(quantity) * (-1 if amount < 0 else 1)
                body = {
                    "Item": items[item_of[line["line_no"]]], "Quantity": quantity,
                    "NetPrice": self._unit_price(abs(amount), abs(quantity), currency),
                    "Description": _text(line.get("description")),
                }
                if line.get("account"):
                    body["GLAccount"] = gl[line["account"]]["ID"]
                if line.get("tax_code"):
                    body["VATCode"] = str(line["tax_code"]).strip()
                if line.get("cost_center"):
                    body["CostCenter"] = str(line["cost_center"])
                if line.get("tracking_option"):
                    body["CostUnit"] = str(line["tracking_option"])
                lines.append(body)
            body = {
                "Journal": self.cfg.sales_journal, "OrderedBy": self._customer(document),
                "Type": SALES_INVOICE_CREDIT if credit else SALES_INVOICE, "InvoiceDate": self._date(document),
                "YourRef": document.key, "Description": self._description(document), "Currency": currency,
                "SalesInvoiceLines": lines,
            }
            created = self.client.create(SALES_INVOICES, body)
            existing = _Entry(SALES_INVOICES, str(created["InvoiceID"]), created.get("InvoiceNumber"),
                              created.get("OrderedBy"), created.get("Status"))
            expected = Money(document.total_cents * sign, currency).to_decimal()
            if created.get("AmountFC") is not None and Decimal(str(created["AmountFC"])) != expected:
                log.warning("%s: Exact computed %s for the invoice, the document says %s (VAT is Exact's own "
                            "calculation on sales invoices)", document.key, created["AmountFC"], expected)
        if existing.status != INVOICE_PROCESSED:
            # Open invoices are not in the ledger yet; processing ("printing") books them. Resumable: done by lookup.
            self.client.create(PRINTED_SALES_INVOICES, {"InvoiceID": existing.id, "SendEmailToCustomer": False})
            existing = _Entry(existing.resource, existing.id, existing.number, existing.party, INVOICE_PROCESSED)
        self._entries[document.key] = existing
        return existing.id

    # -- fee bill: a purchase entry and its payment out of the clearing account ------------------------

    def _post_fee_bill(self, document: LedgerDocument) -> str:
        currency = self._currency(document)
        total = document.total_cents
        clearing_journal = self._bank_journal(self.cfg.accounts.clearing, document)
        payable = self._control(GL_PAYABLE)
        bill = self._lookup_entries(PURCHASE_ENTRIES, [document.key]).get(document.key)
        if bill is None:
            gl = self._gl_accounts(document, [line["account"] for line in document.lines])
            lines = []
            for line in document.lines:
                body = {
                    "GLAccount": gl[line["account"]]["ID"],
                    "AmountFC": self._money(int(line["amount_cents"]), currency),
                    "VATAmountFC": self._money(int(line["tax_cents"]), currency),
                    "Description": _text(line.get("description")),
                    **self._base_amounts(document, line),
                }
                if line.get("tax_code"):
                    body["VATCode"] = str(line["tax_code"]).strip()
                if line.get("cost_center"):
                    body["CostCenter"] = str(line["cost_center"])
                lines.append(body)
            supplier = self._supplier(document)
            vat = sum(int(line["tax_cents"]) for line in document.lines)
            body = {
                "Journal": self._purchase_journal(document), "Supplier": supplier,
                "Type": PURCHASE_CREDIT if total < 0 else PURCHASE_ENTRY, "EntryDate": self._date(document),
                "YourRef": document.key, "Description": self._description(document), "Currency": currency,
                "AmountFC": self._money(total, currency), "VATAmountFC": self._money(vat, currency),
                "PurchaseEntryLines": lines,
            }
            self._add_rate(body, "Rate", document)
            created = self.client.create(PURCHASE_ENTRIES, body)
            bill = _Entry(PURCHASE_ENTRIES, str(created["EntryID"]), self._number(created),
                          created.get("Supplier") or supplier)
        elif document.key in self._lookup_bank_lines([document.key]):
            return bill.id  # both halves are there already (an earlier attempt got this far)
        self._entries[document.key] = bill
        if total == 0:
            return bill.id
        line = {
            "GLAccount": payable["ID"], "Account": bill.party, "AmountFC": self._money(-total, currency),
            "Description": document.key, "Date": self._date(document),
            "Notes": f"Payment of Walmart fees {document.key} from the clearing account",
        }
        self._add_base_amount(line, document, document.lines, sign=-1)
        if bill.number is not None:
            line["OurRef"] = int(bill.number)
        try:
            self.client.create(BANK_ENTRIES, {"JournalCode": clearing_journal, "Currency": currency,
                                              "BankEntryLines": [line]})
        except ValidationError as exc:
            raise _Refused(f"Exact refused the payment of fee bill {document.key} (purchase entry {bill.id} is "
                           f"posted; a retry pays it): {exc.message}") from None
        return bill.id

    # -- bank entries: payments and transfers ------------------------------------------------------------

    def _post_payment(self, document: LedgerDocument) -> str:
        related = document.header.get("related_key")
        if not related:
            raise _Refused(f"{document.key}: a payment needs the key of the invoice or credit note it pays")
        accounts = {line.get("account") for line in document.lines}
        if len(accounts) != 1 or None in accounts:
            raise _Refused(f"{document.key}: a payment's lines must all be on one clearing account, got "
                           f"{sorted(map(str, accounts))}")
        currency = self._currency(document)
        journal = self._bank_journal(accounts.pop(), document)
        entry = self._related(related)
        if entry is None:
            raise _NotYet(f"{related}, which {document.key} pays, is not in Exact yet; the payment waits for it")
        control = self._control(GL_PAYABLE if entry.resource == PURCHASE_ENTRIES else GL_RECEIVABLE)
        line = {
            "GLAccount": control["ID"], "Account": entry.party,
            "AmountFC": self._money(document.total_cents, currency), "Description": document.key,
            "Date": self._date(document), "Notes": _text(document.lines[0].get("description"), 255),
        }
        self._add_base_amount(line, document, document.lines)
        if entry.number is not None and entry.resource != SALES_INVOICES:
            # Matches the payment to the invoice in Exact. (The sandbox only knows entry numbers, not invoices.)
            line["OurRef"] = int(entry.number)
        created = self.client.create(BANK_ENTRIES, {"JournalCode": journal, "Currency": currency,
                                                    "BankEntryLines": [line]})
        return str(created["EntryID"])

    def _post_transfer(self, document: LedgerDocument) -> str:
        counter = {line.get("counter_account") for line in document.lines}
        if len(counter) != 1 or None in counter:
            raise _Refused(f"{document.key}: a transfer's lines need one counter (clearing) account, got "
                           f"{sorted(map(str, counter))}")
        currency = self._currency(document)
        journal = self._bank_journal(counter.pop(), document)
        gl = self._gl_accounts(document, [line["account"] for line in document.lines])
        lines = [{
            # Out of the clearing journal onto the bank G/L account: clearing falls, bank rises.
            "GLAccount": gl[line["account"]]["ID"],
            "AmountFC": self._money(-(int(line["amount_cents"]) + int(line["tax_cents"])), currency),
            "Description": document.key, "Date": self._date(document),
            "Notes": _text(line.get("description"), 255),
        } for line in document.lines]
        for body, line in zip(lines, document.lines, strict=True):
            self._add_base_amount(body, document, [line], sign=-1)
        created = self.client.create(BANK_ENTRIES, {"JournalCode": journal, "Currency": currency,
                                                    "BankEntryLines": lines})
        return str(created["EntryID"])

    # -- lookups by document key -------------------------------------------------------------------------

    def _lookup_entries(self, resource: str, keys: list[str]) -> dict[str, _Entry]:
        party = "Supplier" if resource == PURCHASE_ENTRIES else "Customer"
        out: dict[str, _Entry] = {}
        for chunk in _chunks(sorted(set(keys))):
            rows = self.client.query(resource, filter=any_of("YourRef", chunk),
                                     select=["EntryID", "YourRef", "InvoiceNumber", "EntryNumber", party])
            for row in sorted(rows, key=lambda r: r.get("EntryNumber") or 0):
                key = row.get("YourRef")
                if key in out:
                    log.warning("%s holds %s more than once (%s and %s); using the first", resource, key,
                                out[key].id, row["EntryID"])
                    continue
                out[key] = _Entry(resource, str(row["EntryID"]), self._number(row), row.get(party))
        self._entries.update(out)
        return out

    def _lookup_invoices(self, keys: list[str]) -> dict[str, _Entry]:
        out: dict[str, _Entry] = {}
        for chunk in _chunks(sorted(set(keys))):
            rows = self.client.query(SALES_INVOICES, filter=any_of("YourRef", chunk),
                                     select=["InvoiceID", "YourRef", "InvoiceNumber", "OrderedBy", "Status"])
            for row in rows:
                out.setdefault(row["YourRef"], _Entry(SALES_INVOICES, str(row["InvoiceID"]), row.get("InvoiceNumber"),
                                                      row.get("OrderedBy"), row.get("Status")))
        self._entries.update({k: e for k, e in out.items() if e.status == INVOICE_PROCESSED})
        return out

    def _lookup_bank_lines(self, keys: list[str]) -> dict[str, str]:
        """Document key -> bank entry GUID, by the key in a bank entry line's Description."""
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(keys))):
            for row in self.client.query(BANK_ENTRY_LINES, filter=any_of("Description", chunk),
                                         select=["EntryID", "Description"]):
                out.setdefault(row["Description"], str(row["EntryID"]))
        return out

    def _related(self, key: str) -> _Entry | None:
        """Where the invoice/credit note a payment pays is in Exact, or None when it is not there (yet)."""
        if key in self._entries:
            return self._entries[key]
        if self.cfg.stock_tracked_items:
            invoice = self._lookup_invoices([key]).get(key)
            if invoice is not None and invoice.status == INVOICE_PROCESSED:
                return invoice
        return (self._lookup_entries(SALES_ENTRIES, [key]).get(key)
                or self._lookup_entries(PURCHASE_ENTRIES, [key]).get(key))

    # -- read-back: does Exact still hold what we posted? (for asset checks; see posting/readback.py) --------

    def verify_posted(self, documents: Sequence[LedgerDocument], ledger_ids: Mapping[str, str]) -> list[LedgerFinding]:
        """The ways Exact disagrees with documents we posted (missing, voided, duplicate, amount); [] when it agrees.

        Batched like `find_posted`: entries by `YourRef`, bank entry lines by `Description`, 10 keys per
        `$filter` (one call per 10 documents, plus one per 60 rows returned). Exact has no void: an entry
        deleted in Exact is missing, and one with Reversal set (a reversing entry under our key) is reversed.
        """
        del ledger_ids  # Exact is looked up by our key; a GUID alone does not tell a deleted entry from a moved one
        by_kind: dict[DocumentKind, list[LedgerDocument]] = {}
        for document in documents:
            by_kind.setdefault(document.kind, []).append(document)
        findings: list[LedgerFinding] = []
        for kind, docs in by_kind.items():
            if kind in (DocumentKind.SALES_INVOICE, DocumentKind.CREDIT_NOTE):
                # Credit notes are posted with their lines negated (Exact wants them negative).
                sign = {d.key: -1 if d.kind == DocumentKind.CREDIT_NOTE else 1 for d in docs}
                if self.cfg.stock_tracked_items:
                    # AmountFC includes Exact's own VAT calculation on sales invoices (see _post_sales_invoice).
                    findings += self._verify_entries(docs, SALES_INVOICES, "InvoiceID", sign)
                else:
                    findings += self._verify_entries(docs, SALES_ENTRIES, "EntryID", sign)
            elif kind == DocumentKind.FEE_BILL:
                findings += self._verify_entries(docs, PURCHASE_ENTRIES, "EntryID", {d.key: 1 for d in docs})
                flagged = {f.document_key for f in findings}
                # Its payment out of clearing is part of the document: a bank line whose Description is the key,
                # for minus the bill's total.
                findings += self._verify_bank_lines([d for d in docs if d.key not in flagged and d.total_cents],
                                                    lambda d: -d.total_cents, "its payment from the clearing account")
            elif kind == DocumentKind.PAYMENT:
                findings += self._verify_bank_lines(docs, lambda d: d.total_cents, "payment")
            elif kind == DocumentKind.TRANSFER:
                # Out of the clearing journal onto the bank G/L account: the lines are minus the payout.
                findings += self._verify_bank_lines(docs, lambda d: -d.total_cents, "transfer")
        return findings

    def _verify_entries(self, documents: list[LedgerDocument], resource: str, id_field: str,
                        sign: Mapping[str, int]) -> list[LedgerFinding]:
        """Sales/purchase entries (or sales invoices) whose YourRef is the key: once, not reversed, our total."""
        reversible = "Reversal" if resource == SALES_ENTRIES else None  # the only one of the three that has it
        select = [id_field, "YourRef", "AmountFC", "Currency", "Type", "Status"] + ([reversible] if reversible else [])
        found: dict[str, list[dict[str, Any]]] = {}
        for chunk in _chunks(sorted({d.key for d in documents})):
            for row in self.client.query(resource, filter=any_of("YourRef", chunk), select=select):
                found.setdefault(str(row.get("YourRef")), []).append(row)
        findings: list[LedgerFinding] = []
        entity = resource.rsplit("/", 1)[1]
        for document in documents:
            kind = document.kind.value
            rows = found.get(document.key, [])
            live = [r for r in rows if not (reversible and r.get(reversible))]
            if not rows:
                findings.append(LedgerFinding(document.key, kind, MISSING, f"no {entity} with YourRef {document.key} "
                                                                           f"in Exact"))
            elif len(live) > 1:
                ids = ", ".join(str(r.get(id_field)) for r in live)
                findings.append(LedgerFinding(document.key, kind, DUPLICATE,
                                              f"{len(live)} {entity} carry YourRef {document.key}: {ids}"))
            elif len(live) < len(rows):
                reversed_ = next(r for r in rows if r.get(reversible))
                findings.append(LedgerFinding(document.key, kind, VOIDED,
                                              f"{entity} {reversed_.get(id_field)} reverses {document.key} in Exact"))
            else:
                currency = self._currency(document)
                finding = amount_finding(document.key, kind, self._money(sign[document.key] * document.total_cents,
                                                                         currency),
                                         live[0].get("AmountFC"), currency, live[0].get("Currency"),
                                         where=f" ({live[0].get(id_field)})")
                if finding is not None:
                    findings.append(finding)
        return findings

    def _verify_bank_lines(self, documents: list[LedgerDocument], expected_cents, what: str) -> list[LedgerFinding]:
        """Bank entries holding lines whose Description is the key: one entry, its lines summing to ours."""
        found: dict[str, dict[str, Decimal]] = {}  # key -> EntryID -> AmountFC of the key's lines
        for chunk in _chunks(sorted({d.key for d in documents})):
            for row in self.client.query(BANK_ENTRY_LINES, filter=any_of("Description", chunk),
                                         select=["EntryID", "Description", "AmountFC"]):
                entries = found.setdefault(str(row.get("Description")), {})
                entry = str(row.get("EntryID"))
                entries[entry] = entries.get(entry, Decimal(0)) + (as_decimal(row.get("AmountFC")) or Decimal(0))
        findings: list[LedgerFinding] = []
        for document in documents:
            kind = document.kind.value
            entries = found.get(document.key, {})
            if not entries:
                findings.append(LedgerFinding(document.key, kind, MISSING,
                                              f"no bank entry line with Description {document.key} in Exact ({what})"))
            elif len(entries) > 1:
                findings.append(LedgerFinding(document.key, kind, DUPLICATE,
                                              f"{len(entries)} bank entries carry {document.key} ({what}): "
                                              f"{', '.join(sorted(entries))}"))
            else:
                (entry, amount), = entries.items()
                currency = self._currency(document)
                finding = amount_finding(document.key, kind, self._money(expected_cents(document), currency), amount,
                                         currency, where=f" (bank entry {entry}, {what})")
                if finding is not None:
                    findings.append(finding)
        return findings

    def account_balances(self, codes: Sequence[str], as_of: date) -> dict[str, Decimal]:
        """Each G/L account's balance at `as_of` in the division currency, debit positive, from TransactionLines.

        financial/ReportingBalance sums by ReportingYear and ReportingPeriod, so it cannot say "as of" a day
        inside a period: the lines (financialtransaction/TransactionLines, AmountDC debit positive) dated on or
        before `as_of` are summed instead, 10 accounts per `$filter`, one call per 60 lines returned.
        """
        wanted = sorted({str(c).strip() for c in codes})
        totals = {code: Decimal("0.00") for code in wanted}
        until = ODataLiteral.datetime(datetime(as_of.year, as_of.month, as_of.day))
        for chunk in _chunks(wanted):
            rows = self.client.query(TRANSACTION_LINES, filter=f"({any_of('GLAccountCode', chunk)}) and Date le {until}",
                                     select=["GLAccountCode", "AmountDC"])
            for row in rows:
                code = str(row.get("GLAccountCode") or "").strip()
                if code in totals:
                    totals[code] += as_decimal(row.get("AmountDC")) or Decimal(0)
        return {code: totals[str(code).strip()] for code in codes}

    # -- what the division holds of what the mapping names (config check --ledger) ------------------------

    def reference_data(self, references: Sequence[LedgerReference] = ()) -> ReferenceData:
        """The division's G/L accounts, VAT codes, items, cost centers and units and journals, each with why it is unusable."""
        # Exact pads codes (VAT codes to 3 characters, some codes right-aligned): every code read is stripped.
        journals = self._journal_list()
        journal_of = {str(j.get("GLAccountCode") or "").strip() for j in journals
                      if j.get("Type") in (JOURNAL_BANK, JOURNAL_CASH)}
        lines: dict[str, str | None] = {}
        clearing: dict[str, str | None] = {}
        banks: dict[str, str | None] = {}
        for row in self.client.query(GL_ACCOUNTS, select=["Code", "Type", "IsBlocked"]):
            code = str(row.get("Code") or "").strip()
            blocked = "is blocked" if row.get("IsBlocked") else None
            refused = LINE_REFUSED_GL_TYPES.get(row.get("Type"))
            lines[code] = blocked or (f"is a {refused} account (type {row.get('Type')}); Exact refuses it on sales "
                                      "and purchase entry lines" if refused else None)
            # Payments and payouts are bank entries in the journal that books to the clearing account.
            clearing[code] = blocked or (None if code in journal_of else "has no bank or cash journal; payments and "
                                         "payouts are bank entries in the clearing account's journal")
            banks[code] = blocked
        vat = {str(row.get("Code") or "").strip(): "is blocked" if row.get("IsBlocked") else None
               for row in self.client.query(VAT_CODES, select=["Code", "IsBlocked"])}
        # Items only by the codes named (a division may hold thousands), found the way posting finds them.
        items: dict[str, str | None] = {}
        for chunk in _chunks(sorted({r.code for r in references if r.kind == "item"})):
            for row in self.client.query(ITEMS, filter=any_of("Code", chunk), select=["Code"]):
                items[str(row.get("Code") or "").strip()] = None
        centers = {str(row.get("Code") or "").strip(): "is inactive" if row.get("Active") is False else None
                   for row in self.client.query(COST_CENTERS, select=["Code", "Active"])}
        units = {str(row.get("Code") or "").strip(): None for row in self.client.query(COST_UNITS, select=["Code"])}
        # The mapping's one journal is the sales journal (ledgers.exact.sales_journal).
        sales = {str(j.get("Code") or "").strip(): None if j.get("Type") == JOURNAL_SALES
                 else f"is not a sales journal (type {j.get('Type')})" for j in journals}
        return ReferenceData(f"Exact division {self.client.division}",
                             {"account": lines, "clearing_account": clearing, "bank_account": banks, "tax_code": vat,
                              "item": items, "cost_center": centers, "cost_unit": units, "journal": sales})

    # -- reference data (looked up once, cached) ----------------------------------------------------------

    def _gl_accounts(self, document: LedgerDocument, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
        codes = list(codes)
        if not all(codes):
            raise _Refused(f"{document.key}: a line has no G/L account; every line needs one")
        wanted = sorted({str(c) for c in codes})
        missing = [c for c in wanted if c not in self._gl]
        for chunk in _chunks(missing):
            for row in self.client.query(GL_ACCOUNTS, filter=any_of("Code", chunk),
                                         select=["ID", "Code", "Type", "IsBlocked", "Description"]):
                self._gl[str(row["Code"]).strip()] = row
        unknown = [c for c in wanted if c not in self._gl]
        if unknown:
            where = ", ".join(f"{c} ({self._lines_on(document, c)})" for c in unknown)
            raise _Refused(f"{document.key}: G/L account {where} does not exist in Exact division "
                           f"{self.client.division}; create it in Exact or fix ledgers.exact in the mapping file")
        blocked = [c for c in wanted if self._gl[c].get("IsBlocked")]
        if blocked:
            raise _Refused(f"{document.key}: G/L account {', '.join(blocked)} is blocked in Exact")
        return {c: self._gl[c] for c in wanted}

    @staticmethod
    def _lines_on(document: LedgerDocument, code: str) -> str:
        lines = [str(line.get("line_no")) for line in document.lines
                 if code in (str(line.get("account")), str(line.get("counter_account")))]
        return f"line {', '.join(lines)}" if lines else "configured account"

    def _control(self, gl_type: int) -> dict[str, Any]:
        """The receivables (20) or payables (22) control account: bank lines on a customer/supplier book there."""
        if gl_type not in self._control_gl:
            rows = list(self.client.query(GL_ACCOUNTS, filter=eq("Type", gl_type), select=["ID", "Code", "Type"]))
            if not rows:
                kind = "receivables" if gl_type == GL_RECEIVABLE else "payables"
                raise _Refused(f"Exact division {self.client.division} has no {kind} G/L account (type {gl_type})")
            self._control_gl[gl_type] = min(rows, key=lambda r: str(r["Code"]).strip())
        return self._control_gl[gl_type]

    def _journal_list(self) -> list[dict[str, Any]]:
        if self._journals is None:
            self._journals = list(self.client.query(JOURNALS, select=["Code", "Type", "GLAccountCode", "Description"]))
        return self._journals

    def _bank_journal(self, gl_code: str, document: LedgerDocument) -> str:
        """The bank/cash journal whose G/L account is `gl_code` (the clearing account: journal 21 in the sandbox)."""
        for journal in self._journal_list():
            books_to = str(journal.get("GLAccountCode") or "").strip()
            if journal.get("Type") in (JOURNAL_BANK, JOURNAL_CASH) and books_to == str(gl_code):
                return str(journal["Code"]).strip()
        raise _Refused(f"{document.key}: no bank or cash journal in Exact division {self.client.division} books "
                       f"to G/L account {gl_code}; create a bank journal for the Walmart clearing account")

    def _purchase_journal(self, document: LedgerDocument) -> str:
        journals = sorted((j for j in self._journal_list() if j.get("Type") == JOURNAL_PURCHASE),
                          key=lambda j: str(j["Code"]).strip())
        if not journals:
            raise _Refused(f"{document.key}: Exact division {self.client.division} has no purchase journal")
        if len(journals) > 1:
            log.warning("several purchase journals in Exact (%s); fee bills go to %s",
                        ", ".join(str(j["Code"]).strip() for j in journals), str(journals[0]["Code"]).strip())
        return str(journals[0]["Code"]).strip()

    def _item_ids(self, document: LedgerDocument, codes: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(codes))
        for chunk in _chunks([c for c in wanted if c not in self._items]):
            for row in self.client.query(ITEMS, filter=any_of("Code", chunk), select=["ID", "Code"]):
                self._items[str(row["Code"]).strip()] = str(row["ID"])
        unknown = [c for c in wanted if c not in self._items]
        if unknown:
            raise _Refused(f"{document.key}: item {', '.join(unknown)} does not exist in Exact; create the item or "
                           "fix ledgers.exact.skus.items")
        return {c: self._items[c] for c in wanted}

    def _customer(self, document: LedgerDocument) -> str:
        key = document.header.get("contact_key") or self.config.contacts.marketplace_number
        name = document.header.get("contact_name") or (
            self.config.contacts.marketplace_name if key == self.config.contacts.marketplace_number else key)
        shared = key == self.config.contacts.marketplace_number
        body = {"Name": _text(name, 50), "Status": "C"}
        if document.header.get("contact_email"):
            body["Email"] = str(document.header["contact_email"])
        return self._account(str(key), body, find_by_name=shared)

    def _supplier(self, document: LedgerDocument) -> str:
        contacts = self.config.contacts
        key = document.header.get("contact_key") or contacts.supplier_number
        name = document.header.get("contact_name") or contacts.supplier_name
        return self._account(str(key), {"Name": _text(name, 50), "IsSupplier": True}, find_by_name=True)

    def _account(self, key: str, create: dict[str, Any], *, find_by_name: bool) -> str:
        """crm/Accounts ID by Code (padded to 18), else by Name for the shared contacts, else created."""
        code = exact_account_code(key)
        if code in self._accounts:
            return self._accounts[code]
        rows = list(self.client.query(ACCOUNTS, filter=eq("Code", account_code(code)), select=["ID", "Code"], top=1))
        if not rows and find_by_name and create.get("Name"):
            # One marketplace customer / Walmart supplier an accountant may have made by hand, under another code.
            named = list(self.client.query(ACCOUNTS, filter=eq("Name", create["Name"]), select=["ID", "Code"], top=2))
            rows = named if len(named) == 1 else []
        if rows:
            account_id = str(rows[0]["ID"])
        else:
            created = self.client.create(ACCOUNTS, {"Code": code, **create})
            account_id = str(created["ID"])
        self._accounts[code] = account_id
        return account_id

    # -- formatting ------------------------------------------------------------------------------------------

    @staticmethod
    def _number(row: dict[str, Any]) -> int | None:
        """The invoice number a bank line's OurRef matches (entries: InvoiceNumber, else EntryNumber)."""
        return row.get("InvoiceNumber") or row.get("EntryNumber")

    @staticmethod
    def _currency(document: LedgerDocument) -> str:
        return str(document.header.get("currency") or "USD")

    @staticmethod
    def _money(minor: int, currency: str) -> Decimal:
        """Integer minor units -> Decimal with exactly the currency's decimals (never a float)."""
        return Money(int(minor), currency).to_decimal()

    @staticmethod
    def _unit_price(minor: int, quantity: int, currency: str) -> Decimal:
        """A unit price whose product with `quantity` rounds back to exactly `minor` (up to 6 decimals)."""
        amount = Money(int(minor), currency).to_decimal()
        exact = amount / quantity
        plain = exact.quantize(amount)  # the currency's decimals
        return plain if plain * quantity == amount else exact.quantize(Decimal("0.000001"))

    @staticmethod
    def _date(document: LedgerDocument) -> str:
        day = document.header.get("document_date")
        if not day:
            raise _Refused(f"{document.key}: the document has no date")
        return f"{str(day)[:10]}T00:00:00"

    def _base_amounts(self, document: LedgerDocument, line: dict[str, Any], sign: int = 1) -> dict[str, Decimal]:
        """A foreign-currency entry line's AmountDC and VATAmountDC, adding up to the line's recorded base amount.

        Exact would compute each from the Rate and round each apart, a cent away from the recorded base at times.
        """
        if document.header.get("exchange_rate") in (None, "") or line.get("base_amount_cents") is None:
            return {}
        currency, base_currency = self._currency(document), self.cfg.base_currency
        net = Money(int(line["amount_cents"]), currency).convert(Decimal(str(document.header["exchange_rate"])),
                                                                 base_currency).minor
        vat = int(line["base_amount_cents"]) - net
        return {"AmountDC": self._money(net * sign, base_currency), "VATAmountDC": self._money(vat * sign, base_currency)}

    def _add_base_amount(self, body: dict[str, Any], document: LedgerDocument, lines, sign: int = 1) -> None:
        """A foreign-currency bank line carries its base amount (AmountDC) as recorded: bank entries take no rate."""
        if document.header.get("exchange_rate") in (None, ""):
            return
        base = [line.get("base_amount_cents") for line in lines]
        if any(b is None for b in base):
            raise _Refused(f"{document.key}: a foreign-currency document without its base amounts (convert it first)")
        body["AmountDC"] = self._money(sign * sum(int(b) for b in base), self.cfg.base_currency)

    @staticmethod
    def _add_rate(body: dict[str, Any], name: str, document: LedgerDocument) -> None:
        rate = document.header.get("exchange_rate")
        if rate not in (None, ""):
            body[name] = Decimal(str(rate))

    @staticmethod
    def _description(document: LedgerDocument) -> str:
        label = {DocumentKind.SALES_INVOICE: "sales", DocumentKind.CREDIT_NOTE: "credit note",
                 DocumentKind.FEE_BILL: "fees"}.get(document.kind, document.kind.value)
        source = document.header.get("source_ids") or document.header.get("settlement_key") or document.key
        related = document.header.get("related_key") if document.kind == DocumentKind.CREDIT_NOTE else None
        # YourRef holds the key (what find_posted filters on); the description names the invoice reversed.
        reverses = f" reversing {related}:" if related else ""
        return _text(f"Walmart {label}{reverses} {source}") or document.key

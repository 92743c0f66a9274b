"""The Xero ledger adapter: each neutral document becomes one Xero document whose number/reference is its key.

| document kind | Xero                                                                                    |
| ------------- | --------------------------------------------------------------------------------------- |
| sales_invoice | Invoice ACCREC, InvoiceNumber = Reference = key, AUTHORISED; a negative (summary)       |
|               | invoice is a CreditNote ACCRECCREDIT of the reversed lines, refunded by its payment     |
| credit_note   | CreditNote ACCRECCREDIT, CreditNoteNumber = key, Reference = the invoice it reverses     |
| payment       | Payment on the invoice (amount > 0) or refund of the credit note (amount < 0) from the  |
|               | clearing account, Reference = key                                                       |
| fee_bill      | Invoice ACCPAY (InvoiceNumber = key) paid from clearing (Payment Reference = key-PAY);  |
|               | a negative total is a CreditNote ACCPAYCREDIT refunded into clearing instead            |
| transfer      | BankTransfer clearing -> bank, Reference = key                                          |

Money is integer cents in the documents and Decimal with the currency's decimals in the payloads, never
float. Each line is sent with Quantity, UnitAmount and LineAmount chosen so that Xero's LineAmount is
exactly the document's amount, and with an explicit TaxAmount so Xero does not recompute the tax.

What is "already there" (`find_posted`) is looked up by the key: Invoices by InvoiceNumbers, CreditNotes
by CreditNoteNumber, Payments and BankTransfers by Reference; VOIDED and DELETED documents do not count.
A fee bill counts as posted only once it is settled (its payment is part of the document): a bill that
is in Xero but unpaid is completed by `post_batch`, which reuses it (ACCPAY numbers are not unique in
Xero, so creating it again would duplicate it) and looks the key-PAY payment up before paying.

Choices (see the module's tests):
- Credit notes are NOT allocated to their invoices by default. In per_order mode every Walmart settlement
  pays the sale in full (Sale rows -> payment of the invoice) and pays the refund out separately (Refund
  rows -> refund payment of the credit note), so an allocation would leave both of those payments more
  than the documents owe and Xero would refuse them. `allocate_credit_notes=True` allocates a new credit
  note to its invoice when the invoice still has AmountDue (for books that do not post the settlements).
- Payments name the invoice/credit note by the InvoiceID/CreditNoteID looked up for the retry_later
  check, which is unambiguous even where a number was reused by a voided document.
- Bank transfers carry Reference = key (BankTransfer.Reference is in the 16.1.0 spec and the sandbox), so
  they are found by Reference like payments, not by amount + date + accounts.
- Bank transfers are written one per request: PUT /BankTransfers has no summarizeErrors, so a batch
  with one bad transfer answers 400 while Xero still commits the good ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterable, Mapping, Sequence

from walmart_accounting.connectors.errors import ApiError, AuthError, ForbiddenError
from walmart_accounting.connectors.xero import ElementResult, XeroClient, where_literal
from walmart_accounting.domain.config import ContactStrategy, LedgerReference, MappingConfig, tracking_code
from walmart_accounting.domain.documents import DocumentKind, LineCategory
from walmart_accounting.domain.money import Money, MoneyError, xero_quote
from walmart_accounting.posting.documents import LedgerDocument
from walmart_accounting.posting.engine import PostResult
from walmart_accounting.posting.readback import (
    DUPLICATE,
    MISSING,
    VOIDED,
    LedgerFinding,
    amount_finding,
    as_decimal,
)
from walmart_accounting.posting.references import ReferenceData
from walmart_accounting.posting.xero_stock import XeroStock

log = logging.getLogger("walmart_accounting.posting.xero")

DEAD_STATUSES = frozenset({"VOIDED", "DELETED"})
NAME_LIMIT = 255
DESCRIPTION_LIMIT = 4000
# System accounts Xero refuses on invoice and bill lines (receivables, payables, sales tax).
LINE_REFUSED_SYSTEM_ACCOUNTS = frozenset({"DEBTORS", "CREDITORS", "GST"})
WHERE_CHUNK = 25  # OR clauses per `where` filter: keeps the URL short
PAYMENT_SUFFIX = "-PAY"


class _Refused(ValueError):
    """A document that cannot be turned into a Xero payload (the message says why)."""


def _casefold(value: Any) -> str:
    return str(value or "").strip().casefold()


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _messages(result: ElementResult) -> str:
    text = "; ".join(m for m in dict.fromkeys(result.errors) if m)
    return text or "rejected by Xero without a message"


def _amount(cents: int, currency: str) -> Decimal:
    """Integer minor units as a Decimal with exactly the currency's decimals (12.30, never 12.3 or a float)."""
    try:
        return Money(int(cents), currency).to_decimal()
    except (MoneyError, TypeError, ValueError) as exc:
        raise _Refused(f"amount {cents!r} {currency!r}: {exc}") from None


def xero_currency_rate(exchange_rate: Any) -> Decimal | None:
    """Xero's CurrencyRate for a document whose `exchange_rate` is ledger base units per document unit.

    Xero quotes rates as units of the foreign (document) currency per unit of the organisation's base
    currency ("1 USD = 0.92 EUR"), the reciprocal of our convention; Xero keeps 6 decimals.
    """
    rate = as_decimal(exchange_rate)
    if rate is None:
        return None
    if rate <= 0:
        raise _Refused(f"exchange_rate must be positive, got {exchange_rate!r}")
    return xero_quote(rate)  # the same quote the documents' base amounts were computed with


@dataclass(frozen=True)
class _Contact:
    number: str
    name: str
    email: str | None = None


class XeroAdapter:
    """Posts LedgerDocuments to one Xero organisation through a XeroClient (see the module docstring)."""

    ledger = "xero"
    batch_size = 50

    def __init__(self, client: XeroClient, config: MappingConfig, *, allocate_credit_notes: bool = False):
        self.client = client
        self.config = config
        self.ledger_config = config.ledger("xero")
        self.accounts = self.ledger_config.accounts
        self.allocate_credit_notes = allocate_credit_notes
        self._contact_ids: dict[str, str] = {}  # ContactNumber (casefolded) -> ContactID
        self.stock = XeroStock(client)  # tracked items' quantity on hand (read only: Xero is never a stock target)

    # ------------------------------------------------------------------------------------------------
    # LedgerAdapter
    # ------------------------------------------------------------------------------------------------

    def find_posted(self, documents: Sequence[LedgerDocument]) -> dict[str, str]:
        """Document key -> Xero id for the documents Xero already holds (VOIDED/DELETED ones do not count)."""
        by_kind: dict[DocumentKind, list[str]] = {}
        for document in documents:
            by_kind.setdefault(document.kind, []).append(document.key)
        found: dict[str, str] = {}
        for kind, keys in by_kind.items():
            keys = list(dict.fromkeys(keys))
            if kind == DocumentKind.SALES_INVOICE:
                hits = self._invoices_by_number(keys, types=("ACCREC",))
                found.update({k: hits[_casefold(k)]["InvoiceID"] for k in keys if _casefold(k) in hits})
                negative = [d.key for d in documents if d.kind == kind and d.total_cents < 0 and d.key not in found]
                credits = self._credit_notes_by_number(negative, types=("ACCRECCREDIT",)) if negative else {}
                found.update({k: credits[_casefold(k)]["CreditNoteID"] for k in negative if _casefold(k) in credits})
            elif kind == DocumentKind.CREDIT_NOTE:
                hits = self._credit_notes_by_number(keys, types=("ACCRECCREDIT",))
                found.update({k: hits[_casefold(k)]["CreditNoteID"] for k in keys if _casefold(k) in hits})
            elif kind == DocumentKind.PAYMENT:
                hits = self._payments_by_reference(keys)
                found.update({k: hits[_casefold(k)]["PaymentID"] for k in keys if _casefold(k) in hits})
            elif kind == DocumentKind.FEE_BILL:
                bills = self._invoices_by_number(keys, types=("ACCPAY",))
                credits = self._credit_notes_by_number(keys, types=("ACCPAYCREDIT",))
                for key in keys:
                    bill, credit = bills.get(_casefold(key)), credits.get(_casefold(key))
                    # Settled only: an unpaid bill is completed (reused and paid) by post_batch.
                    if bill is not None and _settled(bill, "AmountDue"):
                        found[key] = bill["InvoiceID"]
                    elif credit is not None and _settled(credit, "RemainingCredit"):
                        found[key] = credit["CreditNoteID"]
            elif kind == DocumentKind.TRANSFER:
                hits = self._transfers_by_reference(keys)
                found.update({k: hits[_casefold(k)]["BankTransferID"] for k in keys if _casefold(k) in hits})
        return found

    def post_batch(self, documents: Sequence[LedgerDocument]) -> list[PostResult]:
        """Post documents of one kind; one PostResult per document, in order.

        A per-element rejection by Xero is an ok=False result with Xero's messages; a TransportError (or
        any other ApiError whose outcome is unknown) propagates so the engine looks before posting again.
        """
        if not documents:
            return []
        kinds = {d.kind for d in documents}
        if len(kinds) != 1:
            raise ValueError(f"post_batch takes documents of one kind, got {sorted(k.value for k in kinds)}")
        kind = kinds.pop()
        handler: Callable[[list[LedgerDocument]], dict[str, PostResult]] | None = {
            DocumentKind.SALES_INVOICE: self._post_sales_invoices,
            DocumentKind.CREDIT_NOTE: self._post_credit_notes,
            DocumentKind.PAYMENT: self._post_payments,
            DocumentKind.FEE_BILL: self._post_fee_bills,
            DocumentKind.TRANSFER: self._post_transfers,
        }.get(kind)
        if handler is None:
            return [PostResult(d.key, False, error=f"{kind} documents are not posted to Xero") for d in documents]
        results = handler(list(documents))
        return [results.get(d.key) or PostResult(d.key, False, error="no result from the Xero adapter")
                for d in documents]

    # ------------------------------------------------------------------------------------------------
    # read-back: does Xero still hold what we posted? (for asset checks; see posting/readback.py)
    # ------------------------------------------------------------------------------------------------

    def verify_posted(self, documents: Sequence[LedgerDocument], ledger_ids: Mapping[str, str]) -> list[LedgerFinding]:
        """The ways Xero disagrees with documents we posted (missing, voided, duplicate, amount); [] when it agrees.

        Batched as posting looks documents up: Invoices and CreditNotes by `where` on number (and, for
        sales invoices, Reference) 12 keys a call, Payments and BankTransfers by Reference 25 a call, and
        by `IDs` (40 a call) only for the documents whose number found nothing live. A partition of N
        documents of one kind costs about N/12 (invoices) or N/25 (payments, transfers) calls.
        """
        by_kind: dict[DocumentKind, list[LedgerDocument]] = {}
        for document in documents:
            by_kind.setdefault(document.kind, []).append(document)
        findings: list[LedgerFinding] = []
        for kind, docs in by_kind.items():
            if kind == DocumentKind.SALES_INVOICE:
                # A negative (summary) invoice is posted as a credit note of the reversed lines.
                findings += self._verify_documents([d for d in docs if d.total_cents >= 0], ledger_ids, "invoice",
                                                   ("ACCREC",), sign=1, by_reference=True)
                findings += self._verify_documents([d for d in docs if d.total_cents < 0], ledger_ids, "credit",
                                                   ("ACCRECCREDIT",), sign=-1)
            elif kind == DocumentKind.CREDIT_NOTE:
                # Reference names the invoice reversed (several credit notes may share it): number only.
                findings += self._verify_documents(docs, ledger_ids, "credit", ("ACCRECCREDIT",), sign=1)
            elif kind == DocumentKind.FEE_BILL:
                bills = [d for d in docs if d.total_cents >= 0]
                credits = [d for d in docs if d.total_cents < 0]
                findings += self._verify_documents(bills, ledger_ids, "invoice", ("ACCPAY",), sign=1)
                findings += self._verify_documents(credits, ledger_ids, "credit", ("ACCPAYCREDIT",), sign=-1)
                flagged = {f.document_key for f in findings}
                # The bill's settlement from clearing (Reference key-PAY) is part of the document. Its amount
                # is what the bill owed when it was paid, which the bill's own total already checks: presence
                # and status only.
                settled = [d for d in docs if d.key not in flagged and d.total_cents != 0]
                findings += self._verify_references(
                    settled, "Payments", "PaymentID", None, reference=lambda d: d.key + PAYMENT_SUFFIX,
                    what="its payment from the clearing account")
            elif kind == DocumentKind.PAYMENT:
                # Posted as the absolute amount: an invoice's payment, or a credit note's refund.
                findings += self._verify_references(
                    docs, "Payments", "PaymentID",
                    lambda d: _amount(abs(d.total_cents), self._currency(d)))
            elif kind == DocumentKind.TRANSFER:
                # Posted as the absolute payout, its direction given by the accounts.
                findings += self._verify_references(
                    docs, "BankTransfers", "BankTransferID",
                    lambda d: _amount(abs(sum(int(line["amount_cents"]) for line in d.lines)), self._currency(d)))
            # Other kinds are never posted to Xero: nothing to read back.
        return findings

    def _verify_documents(self, documents: list[LedgerDocument], ledger_ids: Mapping[str, str], kind: str,
                          types: tuple[str, ...], *, sign: int, by_reference: bool = False) -> list[LedgerFinding]:
        """Invoices or credit notes of `types` whose number (or Reference) is the key, checked one by one."""
        if not documents:
            return []
        collection, id_field, number_field = (("Invoices", "InvoiceID", "InvoiceNumber") if kind == "invoice"
                                              else ("CreditNotes", "CreditNoteID", "CreditNoteNumber"))
        fields = (number_field, "Reference") if by_reference else (number_field,)
        keys = [d.key for d in documents]
        rows = [r for r in self._where_any(collection, fields, keys, per_call=WHERE_CHUNK // len(fields))
                if r.get("Type") in types]
        matches: dict[str, list[dict]] = {}
        for row in rows:
            for value in {_casefold(row.get(f)) for f in fields}:
                matches.setdefault(value, [])
                if all(r.get(id_field) != row.get(id_field) for r in matches[value]):
                    matches[value].append(row)
        lost = [d for d in documents if not any(r.get("Status") not in DEAD_STATUSES
                                                for r in matches.get(_casefold(d.key), []))]
        by_id = self._documents_by_id(collection, id_field, [ledger_ids[d.key] for d in lost if ledger_ids.get(d.key)])
        findings: list[LedgerFinding] = []
        for document in documents:
            found = matches.get(_casefold(document.key), [])
            live = [r for r in found if r.get("Status") not in DEAD_STATUSES]
            dead = [r for r in found if r.get("Status") in DEAD_STATUSES]
            known = by_id.get(str(ledger_ids.get(document.key) or "").lower())
            finding = self._judge(document, live, dead, known, id_field, number_field, sign)
            if finding is not None:
                findings.append(finding)
        return findings

    def _judge(self, document: LedgerDocument, live: list[dict], dead: list[dict], known: dict | None,
               id_field: str, number_field: str, sign: int) -> LedgerFinding | None:
        kind = document.kind.value
        if len(live) > 1:
            listed = ", ".join(f"{r.get(number_field) or '?'} ({r.get(id_field)}, {r.get('Status')})" for r in live)
            return LedgerFinding(document.key, kind, DUPLICATE, f"{len(live)} live Xero documents carry {document.key}: "
                                                                f"{listed}")
        if not live:
            if known is not None and known.get("Status") not in DEAD_STATUSES:
                return LedgerFinding(document.key, kind, MISSING,
                                     f"no Xero document is numbered {document.key}; the one Xero gave us "
                                     f"({known.get(id_field)}) is now numbered {known.get(number_field)!r}")
            gone = known if known is not None else (dead[0] if dead else None)
            if gone is not None:
                return LedgerFinding(document.key, kind, VOIDED, f"{gone.get(id_field)} is {gone.get('Status')} in Xero")
            return LedgerFinding(document.key, kind, MISSING, f"no {number_field} {document.key} in Xero")
        row = live[0]
        currency = self._currency(document)
        return amount_finding(document.key, kind, _amount(sign * document.total_cents, currency), row.get("Total"),
                              currency, row.get("CurrencyCode"), where=f" ({row.get(id_field)})")

    def _verify_references(self, documents: list[LedgerDocument], collection: str, id_field: str,
                           expected: Callable[[LedgerDocument], Decimal] | None, *,
                           reference: Callable[[LedgerDocument], str] = lambda d: d.key,
                           what: str = "") -> list[LedgerFinding]:
        """Payments or bank transfers by Reference; `expected` None checks presence and status only."""
        if not documents:
            return []
        references = [reference(d) for d in documents]
        # GET /BankTransfers has no paging in the spec; Payments does.
        rows = self._where_any(collection, ("Reference",), references, paged=collection != "BankTransfers")
        matches: dict[str, list[dict]] = {}
        for row in rows:
            matches.setdefault(_casefold(row.get("Reference")), []).append(row)
        findings: list[LedgerFinding] = []
        label = what or collection[:-1].lower()
        for document, ref in zip(documents, references, strict=True):
            kind = document.kind.value
            found = matches.get(_casefold(ref), [])
            live = [r for r in found if r.get("Status") not in DEAD_STATUSES]
            if len(live) > 1:
                ids = ", ".join(str(r.get(id_field)) for r in live)
                findings.append(LedgerFinding(document.key, kind, DUPLICATE,
                                              f"{len(live)} live {collection} carry Reference {ref}: {ids}"))
            elif not live and found:
                findings.append(LedgerFinding(document.key, kind, VOIDED,
                                              f"{label} {found[0].get(id_field)} (Reference {ref}) is "
                                              f"{found[0].get('Status')} in Xero"))
            elif not live:
                findings.append(LedgerFinding(document.key, kind, MISSING, f"no {label} with Reference {ref} in Xero"))
            elif expected is not None:
                currency = self._currency(document)
                finding = amount_finding(document.key, kind, expected(document), live[0].get("Amount"), currency,
                                         where=f" ({live[0].get(id_field)})")
                if finding is not None:
                    findings.append(finding)
        return findings

    def _where_any(self, collection: str, fields: Sequence[str], values: Sequence[str], *, per_call: int = WHERE_CHUNK,
                   paged: bool = True) -> list[dict[str, Any]]:
        """Rows of `collection` whose `fields` equal any of `values`, whatever their status, `per_call` values a call."""
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(list(dict.fromkeys(values)), max(1, per_call)):
            clauses = [f"{f}=={where_literal(v)}" for v in chunk for f in fields]
            params = {"where": " OR ".join(clauses)}
            rows.extend(self.client.get_paged(collection, params) if paged else self.client.get(collection, params))
        return rows

    def _documents_by_id(self, collection: str, id_field: str, ids: Sequence[str]) -> dict[str, dict]:
        """Invoices or credit notes by the ids Xero gave us (IDs=, 40 a call), whatever their status now."""
        out: dict[str, dict] = {}
        for chunk in _chunks(list(dict.fromkeys(ids)), 40):
            for row in self.client.get_paged(collection, {"IDs": ",".join(chunk)}):
                out[str(row.get(id_field) or "").lower()] = row
        return out

    def account_balances(self, codes: Sequence[str], as_of: date) -> dict[str, Decimal]:
        """Each account's balance at `as_of` from Xero's Trial Balance report, debit positive (2 calls).

        Balance-sheet accounts (bank, clearing, receivables) are their balance at the date; revenue and
        expense accounts are year to date, as the report's YTD columns are. A code the report does not
        list has no balance: 0.00.
        """
        report = self.client.trial_balance(as_of)
        code_of = {str(a.get("AccountID") or "").lower(): str(a.get("Code") or "")
                   for a in self.client.get("Accounts")}
        balances = trial_balance_by_code(report, code_of)
        return {code: balances.get(_casefold(code), Decimal("0.00")) for code in codes}

    # ------------------------------------------------------------------------------------------------
    # what the organisation holds of what the mapping names (config check --ledger)
    # ------------------------------------------------------------------------------------------------

    def reference_data(self, references: Sequence[LedgerReference] = ()) -> ReferenceData:
        """The organisation's accounts, tax rates, items and tracking options, each with why it is unusable (if so)."""
        del references  # Xero's lists are read whole (GET /Items has no paging); Exact looks items up by code
        organisation = self.client.organisation()
        where = f"Xero organisation {organisation.get('Name') or '?'} ({self.client.tenant_id})"
        lines: dict[str, str | None] = {}
        banks: dict[str, str | None] = {}
        for row in self.client.get("Accounts"):
            code = str(row.get("Code") or "").strip()
            if not code:  # a bank account may have no code; the mapping names codes
                continue
            status, kind, system = row.get("Status"), row.get("Type"), row.get("SystemAccount")
            dead = None if status == "ACTIVE" else f"is {str(status).lower()}"
            banks[code] = dead or (None if kind == "BANK" else
                                   f"is of type {kind}; Xero takes payments and bank transfers only from BANK accounts")
            if kind == "BANK":
                lines[code] = dead or "is a BANK account; Xero refuses bank accounts on invoice and bill lines"
            elif system in LINE_REFUSED_SYSTEM_ACCOUNTS:
                lines[code] = dead or f"is the {system} system account; Xero refuses it on invoice and bill lines"
            else:
                lines[code] = dead
        tax = {str(row.get("TaxType") or "").strip(): None if row.get("Status") == "ACTIVE"
               else f"is {str(row.get('Status')).lower()}" for row in self.client.get("TaxRates")}
        items = {str(row.get("Code") or "").strip(): None for row in self.client.get("Items")}
        tracking: dict[str, str | None] = {}
        for category in self.client.get("TrackingCategories", {"includeArchived": "true"}):
            for option in category.get("Options") or []:
                code = tracking_code(str(category.get("Name") or "").strip(), str(option.get("Name") or "").strip())
                if category.get("Status") != "ACTIVE":
                    tracking[code] = f"is in a tracking category that is {str(category.get('Status')).lower()}"
                else:
                    tracking[code] = None if option.get("Status") == "ACTIVE" else f"is {str(option.get('Status')).lower()}"
        return ReferenceData(where, {"account": lines, "clearing_account": banks, "bank_account": banks,
                                     "tax_code": tax, "item": items, "tracking": tracking},
                             case_insensitive=frozenset({"account", "clearing_account", "bank_account", "item",
                                                         "tracking"}))

    # ------------------------------------------------------------------------------------------------
    # lookups
    # ------------------------------------------------------------------------------------------------

    def _where_chunks(self, collection: str, field: str, values: Sequence[str], extra: dict | None = None,
                      paged: bool = True) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(list(dict.fromkeys(values)), WHERE_CHUNK):
            params = {**(extra or {}), "where": " OR ".join(f"{field}=={where_literal(v)}" for v in chunk)}
            rows.extend(self.client.get_paged(collection, params) if paged else self.client.get(collection, params))
        return rows

    def _invoices_by_number(self, numbers: Sequence[str], types: Iterable[str]) -> dict[str, dict]:
        """Live invoices of the given types by casefolded InvoiceNumber."""
        wanted = {_casefold(n) for n in numbers}
        allowed = set(types)
        out: dict[str, dict] = {}
        for row in self.client.find_invoices(list(dict.fromkeys(numbers))) if numbers else []:
            number = _casefold(row.get("InvoiceNumber"))
            if number in wanted and row.get("Type") in allowed and row.get("Status") not in DEAD_STATUSES:
                out.setdefault(number, row)
        return out

    def _credit_notes_by_number(self, numbers: Sequence[str], types: Iterable[str]) -> dict[str, dict]:
        wanted = {_casefold(n) for n in numbers}
        allowed = set(types)
        out: dict[str, dict] = {}
        for row in self._where_chunks("CreditNotes", "CreditNoteNumber", numbers) if numbers else []:
            number = _casefold(row.get("CreditNoteNumber"))
            if number in wanted and row.get("Type") in allowed and row.get("Status") not in DEAD_STATUSES:
                out.setdefault(number, row)
        return out

    def _payments_by_reference(self, references: Sequence[str]) -> dict[str, dict]:
        wanted = {_casefold(r) for r in references}
        out: dict[str, dict] = {}
        for row in self._where_chunks("Payments", "Reference", references) if references else []:
            reference = _casefold(row.get("Reference"))
            if reference in wanted and row.get("Status") not in DEAD_STATUSES:
                out.setdefault(reference, row)
        return out

    def _transfers_by_reference(self, references: Sequence[str]) -> dict[str, dict]:
        wanted = {_casefold(r) for r in references}
        out: dict[str, dict] = {}
        # GET /BankTransfers has no paging in the spec: one call per chunk of references.
        for row in self._where_chunks("BankTransfers", "Reference", references, paged=False) if references else []:
            reference = _casefold(row.get("Reference"))
            if reference in wanted and row.get("Status") not in DEAD_STATUSES:
                out.setdefault(reference, row)
        return out

    # ------------------------------------------------------------------------------------------------
    # contacts
    # ------------------------------------------------------------------------------------------------

    def _customer_contact(self, document: LedgerDocument) -> _Contact:
        contacts = self.config.contacts
        header = document.header
        number = header.get("contact_key")
        if contacts.strategy is ContactStrategy.MARKETPLACE or not number:
            # One contact for every Walmart customer (or a document that names no customer).
            return _Contact(contacts.marketplace_number, contacts.marketplace_name)
        name = (header.get("contact_name") or "").strip() or str(number)
        return _Contact(str(number), name[:NAME_LIMIT], (header.get("contact_email") or None))

    def _supplier_contact(self) -> _Contact:
        contacts = self.config.contacts
        return _Contact(contacts.supplier_number, contacts.supplier_name)

    def _ensure_contacts(self, wanted: Sequence[_Contact]) -> dict[str, str | Exception]:
        """ContactNumber (casefolded) -> ContactID, creating the missing contacts; an error for those Xero refused."""
        by_number: dict[str, _Contact] = {}
        for contact in wanted:
            by_number.setdefault(_casefold(contact.number), contact)
        result: dict[str, str | Exception] = {n: self._contact_ids[n] for n in by_number if n in self._contact_ids}
        unknown = [c for n, c in by_number.items() if n not in result]
        if unknown:
            rows = self.client.find_contacts(numbers=[c.number for c in unknown])
            rows.sort(key=lambda r: r.get("ContactStatus") != "ACTIVE")  # an active one wins
            for row in rows:
                number = _casefold(row.get("ContactNumber"))
                if number in by_number and number not in result:
                    result[number] = self._contact_ids[number] = row["ContactID"]
        missing = [c for n, c in by_number.items() if n not in result]
        for attempt in (1, 2):
            if not missing:
                break
            retry: list[_Contact] = []
            for chunk in _chunks(missing, self.batch_size):
                elements = [self._contact_payload(c, unique_name=attempt == 2) for c in chunk]
                answers = self.client.create("Contacts", elements, document_keys=[c.number for c in chunk])
                for contact, answer in zip(chunk, answers, strict=True):
                    number = _casefold(contact.number)
                    if answer.ok and answer.element.get("ContactID"):
                        result[number] = self._contact_ids[number] = answer.element["ContactID"]
                    elif attempt == 1 and _name_taken(answer):
                        retry.append(contact)  # another contact has this name: make it unique and try again
                    else:
                        result[number] = _Refused(f"contact {contact.number} ({contact.name}): {_messages(answer)}")
            missing = retry
        return result

    @staticmethod
    def _contact_payload(contact: _Contact, unique_name: bool) -> dict[str, Any]:
        name = contact.name
        if unique_name:  # Xero contact names are unique among active contacts: "Name (WMC-...)"
            suffix = f" ({contact.number})"
            name = name[:NAME_LIMIT - len(suffix)] + suffix
        payload: dict[str, Any] = {"Name": name, "ContactNumber": contact.number}
        if contact.email:
            payload["EmailAddress"] = contact.email
        return payload

    # ------------------------------------------------------------------------------------------------
    # lines and headers
    # ------------------------------------------------------------------------------------------------

    def _currency(self, document: LedgerDocument) -> str:
        currency = document.header.get("currency")
        if not currency:
            raise _Refused(f"{document.key}: no currency")
        return str(currency).upper()

    def _line(self, line: dict[str, Any], currency: str, sign: int = 1) -> dict[str, Any]:
        """A LineItem whose LineAmount is exactly the line's amount (times `sign`) and whose TaxAmount is explicit."""
        cents = int(line["amount_cents"]) * sign
        tax_cents = int(line.get("tax_cents") or 0) * sign
        quantity = int(line.get("quantity") or 0)
        description = str(line.get("description") or line.get("sku") or line.get("category") or "Walmart")
        if quantity > 0 and cents % quantity == 0:
            # UnitAmount has the currency's decimals, so Quantity x UnitAmount is the amount to the cent.
            qty, unit = quantity, cents // quantity
        else:
            # Not divisible (or no quantity): one unit of the line total; the description keeps the real quantity.
            qty, unit = 1, cents
            if quantity not in (0, 1):
                description = f"{description} (quantity {quantity})"
        if not line.get("account"):
            raise _Refused(f"line {line.get('line_no')}: no account")
        item: dict[str, Any] = {
            "Description": description[:DESCRIPTION_LIMIT],
            "Quantity": Decimal(qty),
            "UnitAmount": _amount(unit, currency),
            "LineAmount": _amount(cents, currency),
            "AccountCode": str(line["account"]),
            "TaxType": str(line.get("tax_code") or self.ledger_config.tax_codes.no_tax),
            "TaxAmount": _amount(tax_cents, currency),
        }
        if line.get("item_code"):
            item["ItemCode"] = str(line["item_code"])
        if line.get("tracking_category") and line.get("tracking_option"):
            item["Tracking"] = [{"Name": str(line["tracking_category"]), "Option": str(line["tracking_option"])}]
        return item

    def _document_payload(self, document: LedgerDocument, contact_id: str, *, type_: str, number_field: str,
                          sign: int = 1, due_date: bool = False, reference: bool = True) -> dict[str, Any]:
        if not document.lines:
            raise _Refused(f"{document.key}: the document has no lines")
        currency = self._currency(document)
        day = document.header.get("document_date")
        if not day:
            raise _Refused(f"{document.key}: no document date")
        payload: dict[str, Any] = {"Type": type_, "Contact": {"ContactID": contact_id}, number_field: document.key}
        if reference:  # Reference is ACCREC/ACCRECCREDIT only
            # A credit note is found by its number (the key); its Reference names the invoice it reverses,
            # so an analyst can follow a refund to its sale.
            related = document.header.get("related_key") if document.kind == DocumentKind.CREDIT_NOTE else None
            payload["Reference"] = str(related) if related else document.key
        payload["Date"] = str(day)
        if due_date:
            payload["DueDate"] = str(day)
        payload.update({"Status": "AUTHORISED", "LineAmountTypes": "Exclusive", "CurrencyCode": currency})
        rate = xero_currency_rate(document.header.get("exchange_rate"))
        if rate is not None:
            payload["CurrencyRate"] = rate
        payload["LineItems"] = [self._line(line, currency, sign) for line in document.lines]
        return payload

    # ------------------------------------------------------------------------------------------------
    # sales invoices and credit notes
    # ------------------------------------------------------------------------------------------------

    def _post_sales_invoices(self, documents: list[LedgerDocument]) -> dict[str, PostResult]:
        contacts = {d.key: self._customer_contact(d) for d in documents}
        ids = self._ensure_contacts(list(contacts.values()))
        # A negative summary invoice (a payout below zero, or a month's negative share of one) is what it is:
        # a credit note to the marketplace with the lines reversed, refunded from clearing by its payment.
        negative = [d for d in documents if d.total_cents < 0]
        results = self._create_documents(
            [d for d in documents if d.total_cents >= 0], "Invoices", "InvoiceID", "InvoiceNumber",
            lambda d: self._document_payload(d, _contact_id(ids, contacts[d.key]), type_="ACCREC",
                                             number_field="InvoiceNumber", due_date=True),
            recover=lambda keys: {k: r["InvoiceID"] for k, r in self._invoices_by_number(keys, ("ACCREC",)).items()},
        )
        if negative:
            results.update(self._create_documents(
                negative, "CreditNotes", "CreditNoteID", "CreditNoteNumber",
                lambda d: self._document_payload(d, _contact_id(ids, contacts[d.key]), type_="ACCRECCREDIT",
                                                 number_field="CreditNoteNumber", sign=-1),
                recover=lambda keys: {k: r["CreditNoteID"]
                                      for k, r in self._credit_notes_by_number(keys, ("ACCRECCREDIT",)).items()},
            ))
        return results

    def _post_credit_notes(self, documents: list[LedgerDocument]) -> dict[str, PostResult]:
        related = [str(d.header["related_key"]) for d in documents if d.header.get("related_key")]
        invoices = self._invoices_by_number(related, types=("ACCREC",)) if related else {}
        contacts = {d.key: self._customer_contact(d) for d in documents}
        # The credit note goes to its invoice's contact when the invoice is in Xero (Xero allocates only
        # within one contact); otherwise to the contact its own customer key resolves to.
        invoice_contact = {d.key: ((invoices.get(_casefold(d.header.get("related_key"))) or {}).get("Contact") or {})
                           .get("ContactID") for d in documents}
        ids = self._ensure_contacts([contacts[d.key] for d in documents if not invoice_contact[d.key]])

        def payload(d: LedgerDocument) -> dict[str, Any]:
            contact_id = invoice_contact[d.key] or _contact_id(ids, contacts[d.key])
            return self._document_payload(d, contact_id, type_="ACCRECCREDIT", number_field="CreditNoteNumber")

        results = self._create_documents(
            documents, "CreditNotes", "CreditNoteID", "CreditNoteNumber", payload,
            recover=lambda keys: {k: r["CreditNoteID"]
                                  for k, r in self._credit_notes_by_number(keys, ("ACCRECCREDIT",)).items()},
        )
        if self.allocate_credit_notes:
            self._allocate(documents, results, invoices)
        return results

    def _allocate(self, documents: list[LedgerDocument], results: dict[str, PostResult],
                  invoices: dict[str, dict]) -> None:
        """Allocate each new credit note to its invoice while the invoice still has AmountDue (best effort)."""
        due = {number: as_decimal(row.get("AmountDue")) or Decimal(0) for number, row in invoices.items()
               if row.get("Status") == "AUTHORISED"}
        for document in documents:
            result = results.get(document.key)
            number = _casefold(document.header.get("related_key"))
            if result is None or not result.ok or number not in due or due[number] <= 0:
                continue
            currency = self._currency(document)
            credit = _amount(document.total_cents, currency)
            amount = min(credit, due[number])
            if amount <= 0:
                continue
            allocation = {"Invoice": {"InvoiceID": invoices[number]["InvoiceID"]}, "Amount": amount,
                          "Date": str(document.header.get("document_date"))}
            try:
                answer = self.client.allocate_credit_note(result.external_id, allocation, document.key)[0]
            except (AuthError, ForbiddenError):
                raise
            except ApiError as exc:  # the credit note is posted; the allocation can be made by hand
                log.warning("xero: credit note %s posted but not allocated to %s: %s", document.key, number, exc)
                continue
            if answer.ok:
                due[number] -= amount
            else:
                log.warning("xero: credit note %s posted but not allocated to %s: %s", document.key, number,
                            _messages(answer))

    def _create_documents(self, documents: list[LedgerDocument], collection: str, id_field: str, number_field: str,
                          build: Callable[[LedgerDocument], dict[str, Any]],
                          recover: Callable[[list[str]], dict[str, str]] | None = None) -> dict[str, PostResult]:
        """Build and create documents in one call; a refused payload or element fails only its document.

        `recover`: when Xero says the number is taken (an earlier attempt we never heard back from, which
        the store did not flag), the existing live document is the posted one.
        """
        results: dict[str, PostResult] = {}
        sendable: list[tuple[LedgerDocument, dict[str, Any]]] = []
        for document in documents:
            try:
                sendable.append((document, build(document)))
            except _Refused as exc:
                results[document.key] = PostResult(document.key, False, error=str(exc))
        if not sendable:
            return results
        answers = self.client.create(collection, [p for _, p in sendable], document_keys=[d.key for d, _ in sendable])
        taken: list[str] = []
        for (document, _), answer in zip(sendable, answers, strict=True):
            if answer.ok and answer.element.get(id_field):
                results[document.key] = PostResult(document.key, True, external_id=answer.element[id_field],
                                                   applied_rate=_applied_rate(document, answer.element))
            else:
                if recover is not None and _number_taken(answer):
                    taken.append(document.key)
                results[document.key] = PostResult(document.key, False, error=_messages(answer))
        if taken:
            existing = recover(taken)
            for key in taken:
                if _casefold(key) in existing:
                    results[key] = PostResult(key, True, external_id=existing[_casefold(key)])
        return results

    # ------------------------------------------------------------------------------------------------
    # payments
    # ------------------------------------------------------------------------------------------------

    def _post_payments(self, documents: list[LedgerDocument]) -> dict[str, PostResult]:
        results: dict[str, PostResult] = {}
        plans: list[tuple[LedgerDocument, str, Decimal]] = []  # document, "invoice" | "credit", amount
        for document in documents:
            try:
                plans.append(self._payment_plan(document))
            except _Refused as exc:
                results[document.key] = PostResult(document.key, False, error=str(exc))
        invoice_numbers = [str(d.header["related_key"]) for d, target, _ in plans if target == "invoice"]
        credit_numbers = [str(d.header["related_key"]) for d, target, _ in plans if target == "credit"]
        invoices = self._invoices_by_number(invoice_numbers, types=("ACCREC",)) if invoice_numbers else {}
        credits = self._credit_notes_by_number(credit_numbers, types=("ACCRECCREDIT",)) if credit_numbers else {}
        sendable: list[tuple[LedgerDocument, dict[str, Any]]] = []
        for document, target, amount in plans:
            related = str(document.header["related_key"])
            if target == "invoice":
                found = invoices.get(_casefold(related))
                ref = {"InvoiceID": found["InvoiceID"]} if found else None
                label = "invoice"
            else:
                found = credits.get(_casefold(related))
                ref = {"CreditNoteID": found["CreditNoteID"]} if found else None
                label = "credit note"
            if ref is None:
                results[document.key] = PostResult(document.key, False, retry_later=True,
                                                   error=f"{label} {related} is not in Xero yet")
                continue
            line = document.lines[0]
            payment: dict[str, Any] = {"Invoice" if target == "invoice" else "CreditNote": ref,
                                       "Account": {"Code": str(line.get("account") or self.accounts.clearing)},
                                       "Date": str(document.header.get("document_date")), "Amount": amount,
                                       "Reference": document.key}
            rate = xero_currency_rate(document.header.get("exchange_rate"))
            if rate is not None:
                payment["CurrencyRate"] = rate
            sendable.append((document, payment))
        if sendable:
            answers = self.client.create("Payments", [p for _, p in sendable],
                                         document_keys=[d.key for d, _ in sendable])
            for (document, _), answer in zip(sendable, answers, strict=True):
                if answer.ok and answer.element.get("PaymentID"):
                    results[document.key] = PostResult(document.key, True, external_id=answer.element["PaymentID"])
                else:
                    results[document.key] = PostResult(document.key, False, error=_messages(answer))
        return results

    def _payment_plan(self, document: LedgerDocument) -> tuple[LedgerDocument, str, Decimal]:
        if len(document.lines) != 1:
            raise _Refused(f"{document.key}: a payment has exactly one line, this one has {len(document.lines)}")
        if not document.header.get("related_key"):
            raise _Refused(f"{document.key}: the payment names no invoice or credit note (related_key)")
        if not document.header.get("document_date"):
            raise _Refused(f"{document.key}: no document date")
        line = document.lines[0]
        cents = int(line["amount_cents"]) + int(line.get("tax_cents") or 0)
        currency = self._currency(document)
        refund = line.get("category") == LineCategory.REFUND
        if cents == 0:
            raise _Refused(f"{document.key}: payment of zero")
        if refund and cents > 0:
            raise _Refused(f"{document.key}: a refund payment must be negative (money out of the clearing "
                           f"account), got {_amount(cents, currency)}")
        # A negative payment of an invoice pays out a negative summary invoice, which is in Xero as a credit
        # note (see _post_sales_invoices): it is that credit note's refund from the clearing account.
        return document, ("credit" if refund or cents < 0 else "invoice"), _amount(abs(cents), currency)

    # ------------------------------------------------------------------------------------------------
    # fee bills
    # ------------------------------------------------------------------------------------------------

    def _post_fee_bills(self, documents: list[LedgerDocument]) -> dict[str, PostResult]:
        results: dict[str, PostResult] = {}
        keys = [d.key for d in documents]
        # Bills (or supplier credit notes) already in Xero from an earlier attempt are reused, never re-created.
        bills = self._invoices_by_number(keys, types=("ACCPAY",))
        credits = self._credit_notes_by_number(keys, types=("ACCPAYCREDIT",))
        supplier = self._supplier_contact()
        contact = self._ensure_contacts([supplier])[_casefold(supplier.number)]
        existing: dict[str, tuple[str, str, Decimal]] = {}  # key -> (target, id, still due)
        new_bills: list[LedgerDocument] = []
        new_credits: list[LedgerDocument] = []
        for document in documents:
            bill, credit = bills.get(_casefold(document.key)), credits.get(_casefold(document.key))
            if bill is not None:
                existing[document.key] = ("invoice", bill["InvoiceID"], as_decimal(bill.get("AmountDue")) or Decimal(0))
            elif credit is not None:
                existing[document.key] = ("credit", credit["CreditNoteID"],
                                          as_decimal(credit.get("RemainingCredit")) or Decimal(0))
            elif isinstance(contact, Exception):
                results[document.key] = PostResult(document.key, False, error=str(contact))
            elif document.total_cents < 0:
                new_credits.append(document)
            else:
                new_bills.append(document)
        if new_bills:
            created = self._create_documents(
                new_bills, "Invoices", "InvoiceID", "InvoiceNumber",
                lambda d: self._document_payload(d, contact, type_="ACCPAY", number_field="InvoiceNumber",
                                                 due_date=True, reference=False))
            for document in new_bills:
                result = created[document.key]
                if result.ok:
                    existing[document.key] = ("invoice", result.external_id,
                                              _amount(document.total_cents, self._currency(document)))
                else:
                    results[document.key] = result
        if new_credits:
            # The bill total is negative: Walmart owes the seller. A supplier credit note of the opposite lines.
            created = self._create_documents(
                new_credits, "CreditNotes", "CreditNoteID", "CreditNoteNumber",
                lambda d: self._document_payload(d, contact, type_="ACCPAYCREDIT", number_field="CreditNoteNumber",
                                                 sign=-1, reference=False))
            for document in new_credits:
                result = created[document.key]
                if result.ok:
                    existing[document.key] = ("credit", result.external_id,
                                              _amount(-document.total_cents, self._currency(document)))
                else:
                    results[document.key] = result
        results.update(self._settle_fee_bills([d for d in documents if d.key in existing], existing))
        return results

    def _settle_fee_bills(self, documents: list[LedgerDocument],
                          existing: dict[str, tuple[str, str, Decimal]]) -> dict[str, PostResult]:
        """Pay each bill from the clearing account (refund each supplier credit note into it), once:
        the payment's Reference is key-PAY and is looked up before paying."""
        results: dict[str, PostResult] = {}
        if not documents:
            return results
        references = [d.key + PAYMENT_SUFFIX for d in documents]
        paid = self._payments_by_reference(references)
        sendable: list[tuple[LedgerDocument, dict[str, Any]]] = []
        for document in documents:
            target, xero_id, due = existing[document.key]
            reference = document.key + PAYMENT_SUFFIX
            if _casefold(reference) in paid or due <= 0:
                results[document.key] = PostResult(document.key, True, external_id=xero_id)
                continue
            payment: dict[str, Any] = {"Invoice" if target == "invoice" else "CreditNote":
                                       {"InvoiceID" if target == "invoice" else "CreditNoteID": xero_id},
                                       "Account": {"Code": self.accounts.clearing},
                                       "Date": str(document.header.get("document_date")), "Amount": due,
                                       "Reference": reference}
            rate = xero_currency_rate(document.header.get("exchange_rate"))
            if rate is not None:
                payment["CurrencyRate"] = rate
            sendable.append((document, payment))
        if sendable:
            answers = self.client.create("Payments", [p for _, p in sendable],
                                         document_keys=[d.key + PAYMENT_SUFFIX for d, _ in sendable])
            for (document, _), answer in zip(sendable, answers, strict=True):
                _, xero_id, _ = existing[document.key]
                if answer.ok:
                    results[document.key] = PostResult(document.key, True, external_id=xero_id)
                else:
                    results[document.key] = PostResult(
                        document.key, False,
                        error=f"the bill is in Xero ({xero_id}) but its payment from the clearing account was "
                              f"refused: {_messages(answer)}")
        return results

    # ------------------------------------------------------------------------------------------------
    # transfers
    # ------------------------------------------------------------------------------------------------

    def _post_transfers(self, documents: list[LedgerDocument]) -> dict[str, PostResult]:
        results: dict[str, PostResult] = {}
        for document in documents:  # one per request: PUT /BankTransfers answers 400 for a partly bad batch
            try:
                payload = self._transfer_payload(document)
            except _Refused as exc:
                results[document.key] = PostResult(document.key, False, error=str(exc))
                continue
            answer = self.client.create("BankTransfers", [payload], document_keys=[document.key])[0]
            if answer.ok and answer.element.get("BankTransferID"):
                results[document.key] = PostResult(document.key, True, external_id=answer.element["BankTransferID"])
            else:
                results[document.key] = PostResult(document.key, False, error=_messages(answer))
        return results

    def _transfer_payload(self, document: LedgerDocument) -> dict[str, Any]:
        if len(document.lines) != 1:
            raise _Refused(f"{document.key}: a transfer has exactly one line, this one has {len(document.lines)}")
        line = document.lines[0]
        bank = str(line.get("account") or self.accounts.bank)
        clearing = str(line.get("counter_account") or self.accounts.clearing)
        cents = int(line["amount_cents"])
        if cents == 0:
            raise _Refused(f"{document.key}: transfer of zero")
        # A negative payout (Walmart debits the seller) moves money from the bank into the clearing account.
        source, target = (clearing, bank) if cents > 0 else (bank, clearing)
        if not document.header.get("document_date"):
            raise _Refused(f"{document.key}: no document date")
        return {"FromBankAccount": {"Code": source}, "ToBankAccount": {"Code": target},
                "Amount": _amount(abs(cents), self._currency(document)),
                "Date": str(document.header["document_date"]), "Reference": document.key}


# ----------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------


def _applied_rate(document: LedgerDocument, element: dict) -> str | None:
    """The rate Xero chose for a document sent without one (rates.source: ledger), in base units per document unit."""
    if document.header.get("rate_source") != "ledger" or document.header.get("exchange_rate"):
        return None
    quote = as_decimal(element.get("CurrencyRate"))
    return format((Decimal(1) / quote).quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP), "f") if quote else None


def trial_balance_by_code(report: dict[str, Any], code_of: Mapping[str, str]) -> dict[str, Decimal]:
    """Casefolded account code -> YTD Debit - YTD Credit of a Trial Balance report (ReportWithRow, as the spec has it).

    The report's Header row names the columns (Account, Debit, Credit, YTD Debit, YTD Credit); Section rows
    hold one Row per account whose cells carry the AccountID in the attribute "account". Debit/Credit are
    the movement of the report's month; YTD is the balance at the date (for revenue and expense accounts,
    since the start of the financial year), which is what we compare. The code comes from the AccountID
    (`code_of`), else from the "Name (Code)" of the first cell.
    """
    rows = report.get("Rows") or []
    header = next((r for r in rows if r.get("RowType") == "Header"), None)
    names = [str(c.get("Value") or "").strip().lower() for c in (header or {}).get("Cells") or []]
    try:
        debit, credit = names.index("ytd debit"), names.index("ytd credit")
    except ValueError:
        raise ApiError("xero", f"Trial Balance report without YTD Debit/YTD Credit columns: {names}") from None
    out: dict[str, Decimal] = {}
    for section in rows:
        for row in [section, *(section.get("Rows") or [])]:
            cells = row.get("Cells") or []
            if row.get("RowType") != "Row" or len(cells) <= max(debit, credit):
                continue
            account_id = next((str(a.get("Value") or "").lower() for a in cells[0].get("Attributes") or []
                               if str(a.get("Id") or "").lower() == "account"), "")
            code = code_of.get(account_id)
            if not code:
                title = str(cells[0].get("Value") or "")
                code = title[title.rfind("(") + 1:-1] if title.endswith(")") and "(" in title else ""
            if not code:
                continue
            amount = (as_decimal(cells[debit].get("Value")) or Decimal(0)) - (as_decimal(cells[credit].get("Value"))
                                                                           or Decimal(0))
            out[_casefold(code)] = out.get(_casefold(code), Decimal(0)) + amount
    return out


def _settled(row: dict, due_field: str) -> bool:
    due = as_decimal(row.get(due_field))
    return row.get("Status") == "PAID" or (due is not None and due <= 0)


def _name_taken(answer: ElementResult) -> bool:
    text = " ".join(answer.errors).lower()
    return "name" in text and ("already assigned" in text or "already exists" in text or "must be unique" in text)


def _number_taken(answer: ElementResult) -> bool:
    text = " ".join(answer.errors).lower()
    return "must be unique" in text and ("invoice #" in text or "credit note #" in text or "number" in text)


def _contact_id(ids: dict[str, str | Exception], contact: _Contact) -> str:
    found = ids.get(_casefold(contact.number))
    if found is None:
        raise _Refused(f"contact {contact.number} ({contact.name}) could not be found or created in Xero")
    if isinstance(found, Exception):
        raise _Refused(str(found))
    return found

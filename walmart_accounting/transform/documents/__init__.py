"""Walmart frames -> neutral accounting documents for one ledger: pure, vectorised pandas, no I/O.

Every public function takes Walmart frames, the MappingConfig and a ledger name and returns a
`DocumentResult`: the document lines (validated by `schemas.documents.DocumentLine`, one row per line
with the header repeated) and the rejects (`record_key`, `reason`, `record`, as in `transform.validation`).

Rules shared by every function:
- Money stays integer cents (int64) from the input frames to the output; the only rounding is
  `money.allocate_minor` (partly cancelled lines) and `money.round_to_minor` (currency conversion).
- Accounts and tax codes come from `config.ledger(ledger)`. Anything that cannot be mapped (a SKU
  missing from `skus.items` when `allow_default` is false, tax in a ship-to state that is neither
  facilitator nor seller-remitted, a seller-remitted state without a tax code, an order line without a
  ship-to state, a settlement row whose description and Amount Type are both absent from `fee_types`)
  rejects the WHOLE document it belongs to, with every reason, as one reject keyed by the document key.
  The other documents go on. Nothing is ever posted to a guessed account.
- Document keys come from `domain.keys` only (called once per distinct Walmart id, never per line).

Sign conventions:
- Invoices and credit notes carry positive amounts (the document kind says which way they go); a fee
  kept back from a refund is a negative credit-note line on the SKU's sales account.
- A payment of an invoice is positive; a refund payment (money back to the customer out of the
  clearing account) is a `payment` document with a NEGATIVE amount, category `refund`, related to the
  credit note. So per settlement: sum(payment documents) - fee bill total == payout == transfer.
- Fee bill lines carry the COST: minus the settlement amount (a -12.00 commission is a 12.00 line, a
  reimbursement is a negative line). The fee bill holds one line per fee type, one line
  "Marketplace facilitator tax withheld" (net of withheld tax given back on refunds), one line for
  Dispute Settlement rows not mapped to a fee type (account `adjustments`; Adjustment rows must map to
  a fee type, otherwise the bill is rejected), and one line for Reserve / Release Reserve rows
  (account `reserve`: money Walmart holds is an asset, a release is a negative cost).
- Summary invoices keep the settlement's signs (sales positive, fees/refunds negative), so their total
  is the month's share of the payout.

One module per kind of source: `invoices` (orders), `credit_notes` (returns and refunds), `settlements`
(settlement rows: classification and the per_order documents), `summary` (settlement summaries) and
`currency` (conversion of any document frame); `common` holds what they share.
"""

from walmart_accounting.transform.documents.common import DOCUMENT_COLUMNS, DocumentResult, empty_documents
from walmart_accounting.transform.documents.credit_notes import credit_notes, settled_returns
from walmart_accounting.transform.documents.currency import convert_currency
from walmart_accounting.transform.documents.invoices import OPEN_STATUSES, ORDER_MONEY, invoice_ready, sales_invoices
from walmart_accounting.transform.documents.settlements import (
    FEE_LABELS,
    ORDER_AMOUNT_TYPES,
    RESERVE_TYPES,
    WITHHELD_AMOUNT_TYPES,
    classify_settlement_rows,
    settlement_documents,
)
from walmart_accounting.transform.documents.summary import settlement_summary

__all__ = [
    "DOCUMENT_COLUMNS",
    "FEE_LABELS",
    "OPEN_STATUSES",
    "ORDER_AMOUNT_TYPES",
    "ORDER_MONEY",
    "RESERVE_TYPES",
    "WITHHELD_AMOUNT_TYPES",
    "DocumentResult",
    "classify_settlement_rows",
    "convert_currency",
    "credit_notes",
    "empty_documents",
    "invoice_ready",
    "sales_invoices",
    "settled_returns",
    "settlement_documents",
    "settlement_summary",
]

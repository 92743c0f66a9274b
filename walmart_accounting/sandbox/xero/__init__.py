"""Xero emulator: OAuth 2.0 (login + identity), the Connections endpoint and the Accounting API subset we post to.

Mounted by `SandboxServer` under /xero, so a client reaches it at
  {base}/xero/login/identity/connect/authorize   (real: https://login.xero.com/identity/connect/authorize)
  {base}/xero/identity/connect/token             (real: https://identity.xero.com/connect/token)
  {base}/xero/api/connections                    (real: https://api.xero.com/connections)
  {base}/xero/api/api.xro/2.0/Invoices ...       (real: https://api.xero.com/api.xro/2.0/Invoices)

Behaviour follows specs/xero/FACTS.md and the official OpenAPI file: MS-JSON dates,
per-line tax rounding, summarizeErrors, Idempotency-Key (6 minutes), per-tenant rate limits with the
real headers, rotating refresh tokens, XML unless the client asks for JSON, classic Dynamic-LINQ
`where` syntax (strings in double quotes, a quote inside is doubled). Money is Decimal end to end and
is written to JSON as numbers with two decimals.

Everything lives in memory on `app.state.xero` (an `XeroState`), guarded by one re-entrant lock.

Modules:
  app            build_xero_app and the /api route (bearer, tenant, scope, limits, idempotency, JSON or XML)
  auth           authorize, token, revocation and connections endpoints; codes and tokens (AuthMixin)
  limits         rate limits and Idempotency-Key replay (LimitsMixin)
  state          XeroState, composed of the mixins below, plus ids, the clock and lookups
  seed           the starting chart of accounts, tax rates, tracking and price list (SeedMixin)
  render, views  records as the API returns them, and as `where` sees them (RenderMixin, ViewMixin)
  inspection     what tests and demos read: counts by reference, balances (InspectionMixin)
  inventory      tracked items: QuantityOnHand and TotalCostPool moved by approved documents (InventoryMixin)
  accounting     Accounting: dispatch over the resource mixins below
  base           error payloads, batches, where/order/If-Modified-Since, paging (AccountingBase)
  settings       Organisation, Currencies, Accounts, TaxRates, TrackingCategories, Items
  contacts       Contacts
  documents      Invoices and CreditNotes; lines (line items) and allocations (credit note allocations)
  payments       Payments
  bank_transfers BankTransfers
  query          the `where`/`order` language
  values, wire   constants, Decimal money, request values; dates, JSON/XML, form posts, Result
"""

from walmart_accounting.sandbox.xero.app import build_xero_app
from walmart_accounting.sandbox.xero.query import QueryParseError, compile_where
from walmart_accounting.sandbox.xero.state import XeroState

__all__ = ["QueryParseError", "XeroState", "build_xero_app", "compile_where"]

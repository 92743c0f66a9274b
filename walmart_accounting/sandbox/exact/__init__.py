"""The Exact Online REST API emulator (OData v3, JSON "verbose") for the sandbox; its public names, re-exported."""

# Reference: specs/exact/FACTS.md (section numbers in the modules point into it). The emulator stands for
# https://start.exactonline.nl: it serves /api/oauth2/auth, /api/oauth2/token, /api/v1/current/Me and
# /api/v1/{division}/{service}/{Entity}.
#
# Where a source leaves behaviour open, the emulator picks the *stricter* reading, so that a client that
# works here also works against production:
#
# - String comparisons in $filter are exact (ordinal, case- and space-sensitive). Exact pads some codes:
#   account Code is right-aligned to 18 characters and VAT Code is left-aligned to 3 ('0  '), so
#   Code eq '0' finds nothing here; filter with the padding or trim(Code).
# - Resource paths are case-sensitive (hrm/Costcenters; hrm/CostCenters is a 404).
# - Responses are JSON only when the request says Accept: application/json; otherwise the body is XML,
#   as Exact answers Atom by default.
# - Unknown properties in a POST body are a 400, as with SalesVatCode on a line (FACTS §2).
#
# Inspection for tests and demos: app.state.exact is the ExactState.
#
# Modules, in dependency order:
#   model       errors and JSON responses, .NET dates, Edm types, EntitySet, Division
#   sets        SETS: every entity set served, with its fields, writable fields, methods and navigation
#   odata       the query language: $filter parser, URI literals, $select/$orderby/$top/$skip/$skiptoken/...
#   coerce      POST/PUT bodies checked and converted to Edm types
#   auth        OAuth: codes, access tokens (10 minutes), refresh tokens
#   limits      minutely/daily quotas and the hourly error allowance
#   ledger      accounts, G/L accounts, cost centers/units, VAT codes, journals and the shared lookups
#   entries     sales and purchase entries and their lines
#   invoices    sales invoices and PrintedSalesInvoices
#   bank        bank entries and their lines
#   stock       items, warehouses, stock per item and warehouse, stock counts
#   orders      sales orders and their lines, goods deliveries (which deliver order lines out of stock)
#   webhooks    subscriptions and signed deliveries
#   seed        what a division holds before the first request
#   inspection  create/records/counts/trial balance without HTTP
#   api         the /api/v1 entry point: auth, quotas, dispatch, listing and paging, rendering
#   state       ExactState, composed of the mixins above
#   app         the Starlette routes and build_exact_app

from walmart_accounting.sandbox.exact.app import build_exact_app
from walmart_accounting.sandbox.exact.model import Division, EntitySet, ODataError
from walmart_accounting.sandbox.exact.sets import SETS
from walmart_accounting.sandbox.exact.state import ExactState

__all__ = ["SETS", "Division", "EntitySet", "ExactState", "ODataError", "build_exact_app"]

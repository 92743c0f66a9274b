"""XeroState: one organisation (tenant) in memory, its connection, tokens, limits and books, behind one lock."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from walmart_accounting.sandbox.common import FixedWindowLimiter
from walmart_accounting.sandbox.options import SandboxOptions, ledger_mapping
from walmart_accounting.sandbox.xero.auth import (
    ACCESS_TOKEN_TTL_S,
    AUTH_CODE_TTL_S,
    REFRESH_GRACE_S,
    REFRESH_TOKEN_TTL_S,
    AccessToken,
    AuthCode,
    AuthMixin,
    RefreshToken,
)
from walmart_accounting.sandbox.xero.inspection import InspectionMixin
from walmart_accounting.sandbox.xero.inventory import InventoryMixin
from walmart_accounting.sandbox.xero.limits import IDEMPOTENCY_TTL_S, MAX_BODY_BYTES, IdempotentResponse, LimitsMixin
from walmart_accounting.sandbox.xero.render import RenderMixin
from walmart_accounting.sandbox.xero.seed import SeedMixin
from walmart_accounting.sandbox.xero.values import _DOC_KINDS, ZERO_GUID, _get
from walmart_accounting.sandbox.xero.views import ViewMixin


class XeroState(AuthMixin, LimitsMixin, SeedMixin, RenderMixin, ViewMixin, InventoryMixin, InspectionMixin):
    """One Xero organisation (tenant), its app connection, tokens, limits and books."""

    def __init__(self, options: SandboxOptions, items: Iterable[tuple[str, str, Decimal]] | None = None):
        self.options = options
        self.clock = options.clock
        self.lock = threading.RLock()
        self._rng = random.Random(options.seed)
        cfg = ledger_mapping("xero")
        self.config = cfg
        ledger = cfg.ledger("xero")
        self.base_currency = ledger.base_currency
        self.currencies: set[str] = {self.base_currency}
        self.fx_rates: dict[str, Decimal] = {}
        self.timezone_name = cfg.seller.timezone
        self.tenant_id = self.new_id()
        self.connection_id = self.new_id()
        self.tenant_name = cfg.seller.name
        self.short_code = "!" + "".join(self._rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789")
                                        for _ in range(5))
        self.created_at = self.clock.now()
        # auth
        creds = options.credentials
        self.clients: dict[str, str] = {creds.xero_client_id: creds.xero_client_secret}
        self.auth_codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.connection: dict | None = None  # created by the first consent
        self.access_token_ttl_s = ACCESS_TOKEN_TTL_S
        self.refresh_token_ttl_s = REFRESH_TOKEN_TTL_S
        self.refresh_grace_s = REFRESH_GRACE_S
        self.auth_code_ttl_s = AUTH_CODE_TTL_S
        # limits (attributes tests lower)
        self.minute_limiter = FixedWindowLimiter(60, 60, self.clock)
        self.day_limiter = FixedWindowLimiter(5000, 86400, self.clock)
        self.app_minute_limiter = FixedWindowLimiter(10000, 60, self.clock)
        self.concurrent_limit = 5
        self.max_batch = 50
        self.max_body_bytes = MAX_BODY_BYTES
        self.idempotency_ttl_s = IDEMPOTENCY_TTL_S
        self._in_flight: dict[str, int] = {}
        self._last_remaining: dict[str, dict[str, int]] = {}
        self._idempotency: dict[tuple[str, str], IdempotentResponse] = {}
        # test hook: while `gate` is an unset Event, accounting handlers wait (they already count as in flight)
        self.gate: threading.Event | None = None
        self.gate_timeout_s = 30.0
        # books
        self.accounts: dict[str, dict] = {}
        self.tax_rates: dict[str, dict] = {}
        self.tracking_categories: dict[str, dict] = {}
        self.items: dict[str, dict] = {}
        self.contacts: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.credit_notes: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}
        self.allocations: dict[str, dict] = {}
        self.bank_transfers: dict[str, dict] = {}
        # tracked inventory (inventory.py): movements of approved documents, in approval order
        self.inventory_moves: list[dict] = []
        self._move_seq = 0
        self._adjustments = 0
        self._seed(cfg, items)

    # -- ids, time ---------------------------------------------------------------------------------

    def new_id(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def now(self) -> float:
        return self.clock.now()

    def today(self) -> date:
        moment = datetime.fromtimestamp(self.now(), tz=timezone.utc)
        try:
            moment = moment.astimezone(ZoneInfo(self.timezone_name))
        except Exception:  # no tz database: the org's day in UTC is close enough
            pass
        return moment.date()

    # -- lookups ----------------------------------------------------------------------------------------

    def account_by_code(self, code: str) -> dict | None:
        low = str(code).strip().lower()
        return next((a for a in self.accounts.values() if a["Code"] and a["Code"].lower() == low), None)

    def account_by_ref(self, ref: Any) -> tuple[dict | None, str | None]:
        """An account named by {"AccountID"} or {"Code"}; (None, reason) when it cannot be found."""
        if not isinstance(ref, dict):
            return None, "missing"
        account_id, code = _get(ref, "AccountID"), _get(ref, "Code")
        if account_id and str(account_id) != ZERO_GUID:
            found = self.accounts.get(str(account_id).lower())
            return (found, None) if found else (None, "notfound")
        if code not in (None, ""):
            found = self.account_by_code(str(code))
            return (found, None) if found else (None, "notfound")
        return None, "missing"

    def item_by_code(self, code: str) -> dict | None:
        low = str(code).lower()
        return next((i for i in self.items.values() if i["Code"].lower() == low), None)

    def contact_by_number(self, number: str) -> dict | None:
        low = str(number).lower()
        matches = [c for c in self.contacts.values() if (c.get("ContactNumber") or "").lower() == low]
        active = [c for c in matches if c["ContactStatus"] == "ACTIVE"]
        return (active or matches or [None])[0]

    def contact_by_name(self, name: str, active_only: bool = True) -> dict | None:
        low = str(name).strip().lower()
        for c in self.contacts.values():
            if c["Name"].strip().lower() == low and (not active_only or c["ContactStatus"] == "ACTIVE"):
                return c
        return None

    def docs(self, kind: str) -> dict[str, dict]:
        return self.invoices if kind == "invoice" else self.credit_notes

    def doc_by_number(self, kind: str, number: str, types: Iterable[str] | None = None) -> dict | None:
        key = _DOC_KINDS[kind]["number"]
        for doc in self.docs(kind).values():
            if doc[key] and doc[key].lower() == str(number).lower() and doc["Status"] != "DELETED":
                if types is None or doc["Type"] in types:
                    return doc
        return None

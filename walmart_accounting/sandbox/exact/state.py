"""ExactState: everything the emulator holds, composed of one mixin per responsibility, and their shared helpers."""

from __future__ import annotations

import queue
import random
import threading
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Iterable

from walmart_accounting.sandbox.common import FixedWindowLimiter
from walmart_accounting.sandbox.exact.api import PAGE_SIZE, ApiMixin
from walmart_accounting.sandbox.exact.auth import AuthMixin
from walmart_accounting.sandbox.exact.bank import BankMixin
from walmart_accounting.sandbox.exact.entries import EntriesMixin
from walmart_accounting.sandbox.exact.inspection import InspectionMixin
from walmart_accounting.sandbox.exact.invoices import InvoicesMixin
from walmart_accounting.sandbox.exact.ledger import LedgerMixin
from walmart_accounting.sandbox.exact.limits import (
    DAILY_LIMIT,
    ERROR_BLOCK_S,
    ERRORS_PER_HOUR,
    MINUTELY_LIMIT,
    TOKEN_CALLS_PER_DAY,
    LimitsMixin,
)
from walmart_accounting.sandbox.exact.model import EPOCH, Division
from walmart_accounting.sandbox.exact.orders import OrdersMixin
from walmart_accounting.sandbox.exact.seed import SeedMixin
from walmart_accounting.sandbox.exact.sets import SETS
from walmart_accounting.sandbox.exact.stock import StockMixin
from walmart_accounting.sandbox.exact.transactions import TransactionsMixin
from walmart_accounting.sandbox.exact.webhooks import WebhooksMixin, _Job
from walmart_accounting.sandbox.options import ledger_mapping


class ExactState(AuthMixin, LimitsMixin, ApiMixin, LedgerMixin, EntriesMixin, InvoicesMixin, BankMixin, StockMixin,
                 OrdersMixin, WebhooksMixin, SeedMixin, InspectionMixin, TransactionsMixin):
    """Everything the emulator holds; thread-safe. Lower the limits on it in tests."""

    def __init__(self, options, items: Iterable[Any] | None = None):
        self.options = options
        self.clock = options.clock
        self.lock = threading.RLock()
        self.rng = random.Random(options.seed)
        creds = options.credentials
        self.clients = {creds.exact_client_id: creds.exact_client_secret}
        self.webhook_secret = creds.exact_webhook_secret
        # Limits (FACTS §5): attributes tests may lower.
        self.minutely = FixedWindowLimiter(MINUTELY_LIMIT, 60, self.clock)
        self.daily = FixedWindowLimiter(DAILY_LIMIT, 86400, self.clock)
        self.token_daily = FixedWindowLimiter(TOKEN_CALLS_PER_DAY, 86400, self.clock)
        self.errors_per_hour: int | None = ERRORS_PER_HOUR
        self.error_block_s = ERROR_BLOCK_S
        self.page_size = PAGE_SIZE
        self.api_root = "https://start.exactonline.nl/api/v1"  # replaced by the served URL on the first call
        self.require_json_accept = True
        self.webhook_validation_delay_s = 0.0
        self._errors: dict[tuple, list[float]] = defaultdict(list)
        self._pending_events: list[tuple] = []
        self._blocked: dict[tuple, float] = {}
        # OAuth
        self._codes: dict[str, dict] = {}
        self._access: dict[str, dict] = {}
        self._current_access: dict[str, str] = {}
        self._last_issue: dict[str, float] = {}
        self._refresh: dict[str, dict] = {}
        # User and divisions
        self.cfg = ledger_mapping("exact")
        ledger = self.cfg.ledger("exact")
        self.user_id = self._new_guid()
        self.user = {"UserName": "accountant@sandbox-seller.example", "FullName": "Sandbox Accountant",
                     "FirstName": "Sandbox", "LastName": "Accountant"}
        self.division = self.rng.randint(1_000_000, 3_999_999)
        self.divisions: dict[int, Division] = {}
        self.allowed_divisions: set[int] = set()
        self.add_division(self.division, self.cfg.seller.name, ledger.base_currency, accessible=True, _seeded=True)
        self.sales_journal = ledger.sales_journal
        self.bank_journal = "20"
        self.clearing_journal = "21"
        self.purchase_journal = "60"
        self._seed(self.divisions[self.division], ledger, items)
        # Webhooks
        self.deliveries: list[dict] = []
        self._jobs: "queue.Queue[_Job]" = queue.Queue()
        self._worker: threading.Thread | None = None
        self._delivered = threading.Condition(self.lock)

    # ---- helpers ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.clock.now())

    def _new_guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _audit(self, div: Division) -> dict:
        now = self.now()
        return {"Division": div.code, "Created": now, "Modified": now, "Creator": self.user_id,
                "CreatorFullName": self.user["FullName"]}

    def _insert(self, div: Division, path: str, values: dict) -> dict:
        es = SETS[path]
        rec = {name: None for name in es.fields}
        if "Division" in es.fields:
            rec.update(self._audit(div))
        rec.update(values)
        if not rec.get(es.key):
            rec[es.key] = self._new_guid()
        div.table(path)[rec[es.key]] = rec
        return rec

    def add_division(self, code: int, description: str = "Other division", currency: str = "USD",
                     accessible: bool = False, _seeded: bool = False) -> Division:
        """A division the user has (accessible=True) or that exists but the app may not reach.

        It holds its main warehouse and the shipping methods; the first division gets them from `_seed`.
        """
        with self.lock:
            div = Division(code, description, currency)
            self.divisions[code] = div
            if not _seeded:
                self._seed_main_warehouse(div)
                self._seed_shipping_methods(div)
            if accessible:
                self.allowed_divisions.add(code)
            return div

    def div(self, division: int | None = None) -> Division:
        return self.divisions[division or self.division]

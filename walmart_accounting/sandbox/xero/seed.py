"""The organisation's starting books: chart of accounts, tax rates, tracking and the price list."""

from __future__ import annotations

import threading
from decimal import Decimal

from walmart_accounting.domain.config import FEE_TYPES
from walmart_accounting.sandbox.seller import SyntheticSeller
from walmart_accounting.sandbox.seller.recorded import recorded_seller
from walmart_accounting.sandbox.xero.values import ACCOUNT_CLASSES, D0, REPORTING, to_number

_SKU_CACHE: dict[tuple[int, int], tuple[tuple[str, str, Decimal], ...]] = {}
_SKU_CACHE_LOCK = threading.Lock()


def _seller_skus(seller_class, seed: int) -> tuple[tuple[str, str, Decimal], ...]:
    """The synthetic seller's SKUs (code, name, price); building the seller is costly, so once per seed."""
    key = (id(seller_class), seed)
    with _SKU_CACHE_LOCK:
        if key not in _SKU_CACHE:
            seller = seller_class(seed)
            _SKU_CACHE[key] = tuple((s.sku, s.name, Decimal(int(s.price_cents)) / 100) for s in seller.skus)
        return _SKU_CACHE[key]


class SeedMixin:
    """XeroState's seeding and the record constructors the settings endpoints reuse."""

    # -- seeding ---------------------------------------------------------------------------------------

    def _seed(self, cfg, items) -> None:
        ledger = cfg.ledger("xero")
        acc = ledger.accounts
        plan: list[tuple[str, str, str, dict]] = [
            (acc.bank, "Business Checking", "BANK", {"BankAccountNumber": "121000248-4417", "BankAccountType": "BANK"}),
            (acc.clearing, "Walmart Clearing", "BANK", {"BankAccountNumber": "WALMART-CLEARING", "BankAccountType": "BANK"}),
            (acc.reserve, "Walmart Reserve", "CURRENT", {}),
            (acc.facilitator_tax, "Marketplace Facilitator Tax", "CURRLIAB", {}),
            (acc.sales, "Walmart Sales", "SALES", {}),
            (acc.shipping, "Shipping Income", "REVENUE", {}),
            (acc.discounts, "Discounts and Promotions", "REVENUE", {}),
            (acc.refunds, "Refunds and Returns", "REVENUE", {}),
            (acc.adjustments, "Walmart Adjustments", "EXPENSE", {}),
        ]
        fee_names = {"commission": "Walmart Commissions", "shipping_label": "Walmart Shipping Labels",
                     "wfs_fulfillment": "WFS Fulfillment Fees", "wfs_storage": "WFS Storage Fees",
                     "wfs_inbound": "WFS Inbound Transportation", "wfs_removal": "WFS Removal Fees",
                     "wfs_return_shipping": "WFS Return Shipping", "advertising": "Walmart Advertising",
                     "review_accelerator": "Review Accelerator Fees", "other_fees": "Other Walmart Fees"}
        seen_codes: set[str] = set()
        for fee in FEE_TYPES:
            code = acc.fees[fee]
            if code in seen_codes or code in {p[0] for p in plan}:
                continue
            seen_codes.add(code)
            plan.append((code, fee_names.get(fee, fee.replace("_", " ").title()), "EXPENSE", {}))
        used = {p[0] for p in plan}
        system = [("1100", "Accounts Receivable", "CURRENT", {"SystemAccount": "DEBTORS"}),
                  ("2000", "Accounts Payable", "CURRLIAB", {"SystemAccount": "CREDITORS"}),
                  ("2200", "Sales Tax", "CURRLIAB", {"SystemAccount": "GST"}),
                  ("3200", "Retained Earnings", "EQUITY", {"SystemAccount": "RETAINEDEARNINGS"}),
                  ("3000", "Owner's Equity", "EQUITY", {}),
                  ("6900", "Bank Fees", "EXPENSE", {}),
                  ("8600", "Rounding", "EXPENSE", {"SystemAccount": "ROUNDING"})]
        for code, name, typ, extra in system:
            while code in used:  # never collide with the mapping's codes
                code = str(int(code) + 1)
            used.add(code)
            plan.append((code, name, typ, extra))
        for code, name, typ, extra in plan:
            self._add_account(code, name, typ, **extra)

        rates = {"NONE": ("Tax Exempt", D0), "TAX001": ("Puerto Rico Sales Tax", Decimal("11.5"))}
        codes = [ledger.tax_codes.facilitator, ledger.tax_codes.no_tax, *ledger.tax_codes.seller_remitted.values()]
        for code in dict.fromkeys(["NONE", *codes]):
            name, rate = rates.get(code, (code, D0))
            self._add_tax_rate(code, name, rate)

        if cfg.tracking is not None:
            cat = self._add_tracking_category(cfg.tracking.category)
            self._add_tracking_option(cat, cfg.tracking.option)

        for code, name, price in self._item_seed(items):
            item_id = self.new_id()
            self.items[item_id] = {
                "ItemID": item_id, "Code": str(code)[:30], "Name": str(name)[:50], "Description": str(name),
                "IsSold": True, "IsPurchased": False, "IsTrackedAsInventory": False,
                "SalesDetails": {"UnitPrice": Decimal(price), "AccountCode": acc.sales, "TaxType": ledger.tax_codes.no_tax},
                "PurchaseDetails": {}, "UpdatedDateUTC": self.now(),
            }

    def _item_seed(self, items) -> list[tuple[str, str, Decimal]]:
        if items is not None:
            return [(c, n, to_number(p, "price") or D0) for c, n, p in items]
        if self.options.seller_data is not None:
            return [(s.sku, s.name, Decimal(s.price_cents).scaleb(-2)) for s in recorded_seller(self.options).skus]
        return list(_seller_skus(SyntheticSeller, self.options.seed))

    def _add_account(self, code: str, name: str, typ: str, **extra) -> dict:
        account_id = self.new_id()
        klass = ACCOUNT_CLASSES.get(typ, "EXPENSE")
        record = {"AccountID": account_id, "Code": code, "Name": name, "Status": "ACTIVE", "Type": typ,
                  "TaxType": "NONE", "Description": extra.pop("Description", None), "Class": klass,
                  "SystemAccount": extra.pop("SystemAccount", None),
                  "EnablePaymentsToAccount": bool(extra.pop("EnablePaymentsToAccount", False)),
                  "ShowInExpenseClaims": False, "BankAccountNumber": extra.pop("BankAccountNumber", None),
                  "BankAccountType": extra.pop("BankAccountType", "BANK" if typ == "BANK" else None),
                  "CurrencyCode": self.base_currency if typ == "BANK" else None,
                  "ReportingCode": REPORTING[klass][0], "ReportingCodeName": REPORTING[klass][1],
                  "HasAttachments": False, "AddToWatchlist": False, "UpdatedDateUTC": self.now()}
        self.accounts[account_id] = record
        return record

    def _add_tax_rate(self, tax_type: str, name: str, rate: Decimal, report: str = "OUTPUT") -> dict:
        record = {"Name": name, "TaxType": tax_type, "ReportTaxType": "NONE" if tax_type == "NONE" else report,
                  "CanApplyToAssets": True, "CanApplyToEquity": True, "CanApplyToExpenses": True,
                  "CanApplyToLiabilities": True, "CanApplyToRevenue": True, "DisplayTaxRate": rate,
                  "EffectiveRate": rate, "Status": "ACTIVE",
                  "TaxComponents": [{"Name": name, "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}]}
        self.tax_rates[tax_type] = record
        return record

    def _add_tracking_category(self, name: str) -> dict:
        cat_id = self.new_id()
        record = {"TrackingCategoryID": cat_id, "Name": name, "Status": "ACTIVE", "Options": []}
        self.tracking_categories[cat_id] = record
        return record

    def _add_tracking_option(self, category: dict, name: str) -> dict:
        option = {"TrackingOptionID": self.new_id(), "Name": name, "Status": "ACTIVE"}
        category["Options"].append(option)
        return option

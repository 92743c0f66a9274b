"""The seeded division: G/L accounts, VAT codes, journals, cost centers, the warehouse, shipping methods, items."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from walmart_accounting.sandbox.exact.model import EPOCH, Division
from walmart_accounting.sandbox.seller import SyntheticSeller
from walmart_accounting.sandbox.seller.recorded import recorded_seller

_NAMESPACE = uuid.UUID("0b6f0f4e-2a3c-4d8e-9a51-7c2d1e5f8a90")


class SeedMixin:
    """What :class:`ExactState` holds before the first request."""

    # ---- seed ------------------------------------------------------------------------------------
    def _seed(self, div: Division, ledger, items) -> None:
        accounts = ledger.accounts
        names = {
            accounts.sales: ("Walmart Sales", 110), accounts.shipping: ("Shipping Income", 110),
            accounts.discounts: ("Discounts and Promotions", 110), accounts.refunds: ("Refunds and Returns", 110),
            accounts.clearing: ("Walmart Clearing", 12), accounts.bank: ("Business Checking", 12),
            accounts.facilitator_tax: ("Marketplace Facilitator Tax", 90),
            accounts.adjustments: ("Walmart Adjustments", 120), accounts.reserve: ("Walmart Reserve", 32),
        }
        for fee, code in accounts.fees.items():
            names.setdefault(code, (f"Walmart fees: {fee.replace('_', ' ')}", 121))
        names.setdefault("1300", ("Debtors", 20))
        names.setdefault("1500", ("VAT payable", 24))
        names.setdefault("1520", ("VAT receivable", 24))
        names.setdefault("1600", ("Creditors", 22))
        for sku in ledger.skus.items.values():
            if sku.account:
                names.setdefault(sku.account, (f"Sales {sku.account}", 110))
        if ledger.skus.default.account:
            names.setdefault(ledger.skus.default.account, ("Walmart Sales", 110))
        for code, (description, gl_type) in sorted(names.items()):
            self._insert(div, "financial/GLAccounts", self._gl_values(code, description, gl_type))
        gl = {r["Code"]: r for r in div.table("financial/GLAccounts").values()}

        # VAT codes: Exact pads codes to 3 characters; percentages are fractions (0.115 = 11.5 %).
        vat_specs = {ledger.tax_codes.no_tax: ("No VAT", Decimal("0"), "N")}
        vat_specs.setdefault(ledger.tax_codes.facilitator, ("No VAT (marketplace facilitator)", Decimal("0"), "N"))
        for state, code in ledger.tax_codes.seller_remitted.items():
            pct = Decimal("0.115") if state == "PR" else Decimal("0.06")
            vat_specs.setdefault(code, (f"Sales tax {state} {pct * 100:g} %", pct, "E"))
        for code, (description, pct, vtype) in vat_specs.items():
            to_pay = gl["1500"] if pct else None
            to_claim = gl["1520"] if pct else None
            self._insert(div, "vat/VATCodes", {
                "Code": code.ljust(3), "Description": description, "Percentage": pct, "Type": vtype,
                "IsBlocked": False, "GLToPay": to_pay and to_pay["ID"], "GLToPayCode": to_pay and to_pay["Code"],
                "GLToClaim": to_claim and to_claim["ID"], "GLToClaimCode": to_claim and to_claim["Code"],
                "VATTransactionType": "B"})

        journals = [
            (self.sales_journal, "Sales journal", 20, gl["1300"]),
            (self.bank_journal, "Business Checking", 12, gl[accounts.bank]),
            (self.clearing_journal, "Walmart Clearing", 12, gl[accounts.clearing]),
            (self.purchase_journal, "Purchase journal", 22, gl["1600"]),
            ("90", "General journal", 90, None),
        ]
        for code, description, jtype, account in journals:
            self._insert(div, "financial/Journals", {
                "Code": code, "Description": description, "Type": jtype, "Currency": div.currency,
                "GLAccount": account and account["ID"], "GLAccountCode": account and account["Code"],
                "GLAccountType": account and account["Type"], "AllowVariableCurrency": jtype in (20, 22)})

        cost_centers = {ledger.skus.default.cost_center} | {s.cost_center for s in ledger.skus.items.values()}
        for code in sorted(c for c in cost_centers if c):
            self._insert(div, "hrm/Costcenters", {"Code": code, "Description": f"{code} (Walmart Marketplace)",
                                                  "Active": True})
        if self.cfg.tracking:
            self._insert(div, "hrm/Costunits", {"Code": self.cfg.tracking.option,
                                                "Description": self.cfg.tracking.category})

        warehouse = self._insert(div, "inventory/Warehouses", {"Code": "1", "Description": "Main warehouse",
                                                               "Main": 1, "UseStorageLocations": 0})
        self.main_warehouse = warehouse["ID"]
        sales_gl = gl[ledger.skus.default.account or accounts.sales]
        for item in self._initial_items(items, ledger):
            rec = self._insert(div, "logistics/Items", {
                "Code": item["code"], "Description": item["name"], "IsSalesItem": True, "IsStockItem": True,
                "IsPurchaseItem": True, "SalesVatCode": ledger.tax_codes.no_tax.ljust(3),
                "GLRevenue": sales_gl["ID"], "GLRevenueCode": sales_gl["Code"], "Unit": "pc",
                "UnitDescription": "Piece", "CostPriceStandard": item["cost"], "Barcode": item["barcode"],
                "StandardSalesPrice": item["price"], "Stock": item["stock"], "StartDate": EPOCH.replace(year=2020)})
            self._set_stock(div, rec, item["stock"])
        self._seed_shipping_methods(div)
        if ledger.charge_item:
            self._insert(div, "logistics/Items", {
                "Code": ledger.charge_item, "Description": "Walmart order charges (shipping, discounts, tax)",
                "IsSalesItem": True, "IsStockItem": False, "IsPurchaseItem": False,
                "SalesVatCode": ledger.tax_codes.no_tax.ljust(3), "GLRevenue": sales_gl["ID"],
                "GLRevenueCode": sales_gl["Code"], "Unit": "pc", "UnitDescription": "Piece",
                "StandardSalesPrice": Decimal("0"), "Stock": Decimal("0"), "StartDate": EPOCH.replace(year=2020)})

    # Carriers the seller ships Walmart orders with. sales/ShippingMethods is read-only over the API (the .NET
    # SDK's ShippingMethod supports read only), so a division holds them from the start. Their IDs are derived
    # from the division and code, leaving the seeded random sequence of the other records as it was.
    SHIPPING_METHODS = (("FEDEX", "FedEx", "https://www.fedex.com/fedextrack/?trknbr="),
                        ("UPS", "UPS", "https://www.ups.com/track?tracknum="),
                        ("USPS", "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels="))

    def _seed_shipping_methods(self, div: Division) -> None:
        for code, description, tracking_url in self.SHIPPING_METHODS:
            self._insert(div, "sales/ShippingMethods", {
                "ID": str(uuid.uuid5(_NAMESPACE, f"{div.code}:shipping:{code}")), "Code": code,
                "Description": description, "Active": True, "TrackingURL": tracking_url})

    def _seed_main_warehouse(self, div: Division) -> dict:
        """The main warehouse of a division added after the first (its ID derived, as above)."""
        return self._insert(div, "inventory/Warehouses", {
            "ID": str(uuid.uuid5(_NAMESPACE, f"{div.code}:warehouse:1")), "Code": "1",
            "Description": "Main warehouse", "Main": 1, "UseStorageLocations": 0})

    def _initial_items(self, items, ledger) -> list[dict]:
        source = list(items) if items is not None else _seller_skus(self.options)
        out: dict[str, dict] = {}
        for raw in source or []:
            get = raw.get if isinstance(raw, dict) else (lambda name, default=None, _r=raw: getattr(_r, name, default))
            code = get("sku") or get("Code") or get("code")
            if not code:
                continue
            price_cents, cost_cents = get("price_cents"), get("cost_cents")
            price = Decimal(price_cents).scaleb(-2) if price_cents is not None else Decimal("0")
            cost = Decimal(cost_cents).scaleb(-2) if cost_cents is not None else Decimal("0")
            stock = raw.get("stock") if isinstance(raw, dict) else None  # only explicit test data
            out[str(code)] = {"code": str(code), "name": str(get("name") or get("Description") or code),
                              "price": price, "cost": cost, "barcode": get("gtin"),
                              "stock": Decimal(stock) if stock is not None else Decimal("0")}
        for sku in ledger.skus.items.values():
            if sku.item_code and sku.item_code not in out:
                out[sku.item_code] = {"code": sku.item_code, "name": sku.item_code, "price": Decimal("0"),
                                      "cost": Decimal("0"), "barcode": None, "stock": Decimal("0")}
        return list(out.values())


def _seller_skus(options) -> list[Any]:
    """The seller's SKUs (the items the seeded division stocks): the recorded seller's, else the synthetic one's."""
    if options.seller_data is not None:
        return list(recorded_seller(options).skus)
    return _cached_seller_skus(options.seed, options.seller_start, options.seller_days)


@lru_cache(maxsize=8)
def _cached_seller_skus(seed: int, start: date, days: int) -> list[Any]:
    return list(SyntheticSeller(seed=seed, start=start, days=days).skus)

"""The mapping's references against a ledger's reference data: each gap named by its key path, each role judged
by what the adapter does with it (payments from BANK accounts, no control accounts on lines, padded Exact codes)."""

import pytest

from walmart_accounting.domain.config import LedgerReference, load_default_config
from walmart_accounting.posting.exact import ExactAdapter
from walmart_accounting.posting.references import ReferenceData, missing_references
from walmart_accounting.posting.xero import XeroAdapter

CONFIG = load_default_config()


def test_missing_references_name_what_is_missing_or_unusable_and_nothing_else():
    data = ReferenceData("Xero organisation Acme (t-1)",
                         {"account": {"4000": None, "4999": "is archived"}, "item": {"wm-sku-1": None},
                          "tax_code": {"NONE": None}},
                         case_insensitive=frozenset({"account", "item"}))
    references = [LedgerReference("account", "4000", "ledgers.xero.accounts.sales"),
                  LedgerReference("account", "6000", "ledgers.xero.accounts.fees.commission"),
                  LedgerReference("account", "4999", "ledgers.xero.skus.default.account"),
                  LedgerReference("item", "WM-SKU-1", "ledgers.xero.skus.items.A.item_code"),
                  LedgerReference("tax_code", "none", "ledgers.xero.tax_codes.no_tax")]
    assert missing_references(references, data) == [
        "ledgers.xero.accounts.fees.commission: account 6000 does not exist in Xero organisation Acme (t-1)",
        "ledgers.xero.skus.default.account: account 4999 in Xero organisation Acme (t-1) is archived",
        "ledgers.xero.tax_codes.no_tax: tax code none does not exist in Xero organisation Acme (t-1)",  # case counts
    ]
    with pytest.raises(ValueError, match="no reference data of kind 'journal'"):
        missing_references([LedgerReference("journal", "70", "ledgers.exact.sales_journal")], data)


class _Xero:
    """What a Xero organisation answers to the reads reference_data makes."""

    tenant_id = "t-1"

    def organisation(self):
        return {"Name": "Acme"}

    def get(self, collection, params=None):
        return {
            "Accounts": [{"Code": "1250", "Type": "BANK", "Status": "ACTIVE"},
                         {"Code": "1260", "Type": "CURRENT", "Status": "ACTIVE"},
                         {"Code": "1100", "Type": "CURRENT", "Status": "ACTIVE", "SystemAccount": "DEBTORS"},
                         {"Code": None, "Type": "BANK", "Status": "ACTIVE"}],
            "TaxRates": [{"TaxType": "NONE", "Status": "ACTIVE"}, {"TaxType": "TAX002", "Status": "DELETED"}],
            "Items": [{"Code": "WM-SKU-0001"}],
            "TrackingCategories": [{"Name": "Sales Channel", "Status": "ACTIVE",
                                    "Options": [{"Name": "Walmart", "Status": "ACTIVE"},
                                                {"Name": "Amazon", "Status": "ARCHIVED"}]},
                                   {"Name": "Region", "Status": "ARCHIVED",
                                    "Options": [{"Name": "West", "Status": "ACTIVE"}]}],
        }[collection]


def test_xero_judges_accounts_by_what_is_posted_through_them():
    data = XeroAdapter(_Xero(), CONFIG).reference_data()
    references = [LedgerReference("clearing_account", "1250", "clearing"),
                  LedgerReference("bank_account", "1260", "bank"),
                  LedgerReference("account", "1250", "line-bank"),
                  LedgerReference("account", "1100", "line-debtors"),
                  LedgerReference("account", "1260", "line-ok"),
                  LedgerReference("tax_code", "TAX002", "tax"),
                  LedgerReference("item", "wm-sku-0001", "item"),
                  LedgerReference("tracking", "sales channel / walmart", "tracking-ok"),
                  LedgerReference("tracking", "Sales Channel / Amazon", "tracking-archived"),
                  LedgerReference("tracking", "Region / West", "tracking-category-archived")]
    where = "in Xero organisation Acme (t-1)"
    assert missing_references(references, data) == [
        f"bank: account 1260 {where} is of type CURRENT; Xero takes payments and bank transfers only from BANK accounts",
        f"line-bank: account 1250 {where} is a BANK account; Xero refuses bank accounts on invoice and bill lines",
        f"line-debtors: account 1100 {where} is the DEBTORS system account; Xero refuses it on invoice and bill lines",
        f"tax: tax code TAX002 {where} is deleted",
        f"tracking-archived: tracking option Sales Channel / Amazon {where} is archived",
        f"tracking-category-archived: tracking option Region / West {where} is in a tracking category that is archived",
    ]


class _Exact:
    """An Exact division that pads its codes, as Exact does, and records the item filters it is asked."""

    division = 7

    def __init__(self):
        self.item_filters = []

    def query(self, resource, filter=None, select=None, **_):
        if resource == "logistics/Items":
            self.item_filters.append(filter)
            return [{"Code": "WM-CHARGES"}]
        return {
            "financial/Journals": [{"Code": "70", "Type": 20}, {"Code": "21", "Type": 12, "GLAccountCode": "  1250"}],
            "financial/GLAccounts": [{"Code": "    8000", "Type": 110, "IsBlocked": False},
                                     {"Code": "1250", "Type": 12, "IsBlocked": False},
                                     {"Code": "1260", "Type": 32, "IsBlocked": False},
                                     {"Code": "1300", "Type": 20, "IsBlocked": False},
                                     {"Code": "4600", "Type": 121, "IsBlocked": True}],
            "vat/VATCodes": [{"Code": "0  ", "IsBlocked": False}, {"Code": "5  ", "IsBlocked": True}],
            "hrm/Costcenters": [{"Code": "WM", "Active": True}, {"Code": "OLD", "Active": False}],
            "hrm/Costunits": [{"Code": "Walmart "}],
        }[resource]


def test_exact_strips_padded_codes_and_judges_each_role():
    client = _Exact()
    references = [LedgerReference("account", "8000", "sales"),
                  LedgerReference("account", "1300", "line-receivables"),
                  LedgerReference("account", "4600", "fee-blocked"),
                  LedgerReference("clearing_account", "1250", "clearing"),
                  LedgerReference("clearing_account", "1260", "clearing-no-journal"),
                  LedgerReference("bank_account", "1250", "bank"),
                  LedgerReference("tax_code", "0", "no_tax"),
                  LedgerReference("tax_code", "5", "tax-blocked"),
                  LedgerReference("item", "WM-CHARGES", "charge_item"),
                  LedgerReference("item", "WM-NOPE", "item-missing"),
                  LedgerReference("cost_center", "WM", "center"),
                  LedgerReference("cost_center", "OLD", "center-inactive"),
                  LedgerReference("cost_unit", "Walmart", "unit"),
                  LedgerReference("journal", "70", "sales_journal"),
                  LedgerReference("journal", "21", "journal-not-sales")]
    data = ExactAdapter(client, CONFIG).reference_data(references)
    where = "in Exact division 7"
    assert missing_references(references, data) == [
        f"line-receivables: account 1300 {where} is a receivables account (type 20); Exact refuses it on sales and "
        "purchase entry lines",
        f"fee-blocked: account 4600 {where} is blocked",
        f"clearing-no-journal: account 1260 {where} has no bank or cash journal; payments and payouts are bank "
        "entries in the clearing account's journal",
        f"tax-blocked: tax code 5 {where} is blocked",
        "item-missing: item WM-NOPE does not exist in Exact division 7",
        f"center-inactive: cost center OLD {where} is inactive",
        f"journal-not-sales: journal 21 {where} is not a sales journal (type 12)",
    ]
    assert client.item_filters == ["Code eq 'WM-CHARGES' or Code eq 'WM-NOPE'"]  # only the items named

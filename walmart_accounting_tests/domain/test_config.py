"""The mapping file loads when right and, when wrong, says which key and what was expected."""

import copy

import pytest
import yaml

from walmart_accounting.domain.config import (
    FEE_TYPES,
    ConfigError,
    ContactStrategy,
    PostingMode,
    load_config,
    load_default_config,
    parse_config,
)


@pytest.fixture
def default_data():
    cfg = load_default_config()
    return yaml.safe_load(yaml.safe_dump(cfg.model_dump(mode="json")))


def test_default_file_loads():
    cfg = load_config()
    assert cfg.ledger("xero").posting_mode is PostingMode.PER_ORDER
    assert cfg.ledger("exact").posting_mode is PostingMode.SETTLEMENT_SUMMARY
    assert cfg.contacts.strategy is ContactStrategy.PER_CUSTOMER
    # Walmart collects and remits in Puerto Rico too (since 1 Oct 2020): nothing is seller-remitted by default
    assert {"CA", "PR"} <= cfg.tax.facilitator_states and cfg.tax.seller_remitted_states == frozenset()
    assert cfg.ledger("xero").accounts.fees["commission"] == "6000"
    assert cfg.fee_types["Commission on Product"] == "commission"


def test_env_var_points_at_the_users_file(tmp_path, monkeypatch, default_data):
    data = copy.deepcopy(default_data)
    data["seller"]["name"] = "Acme Outdoor"
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("WALMART_ACCOUNTING_CONFIG", str(path))
    assert load_config().seller.name == "Acme Outdoor"


def _problems(data) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "test.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["ledgers"]["xero"]["accounts"].pop("clearing"), "ledgers.xero.accounts.clearing: required key is missing"),
        (lambda d: d["ledgers"]["xero"].update(posting_mode="per_day"),
         "ledgers.xero.posting_mode: Input should be 'per_order' or 'settlement_summary'"),
        (lambda d: d["ledgers"]["exact"]["accounts"]["fees"].pop("commission"),
         "ledgers.exact.accounts.fees: no account for fee types ['commission']"),
        (lambda d: d["tax"]["facilitator_states"].append("ZZ"), "tax.facilitator_states: unknown US state codes ['ZZ']"),
        (lambda d: (d["tax"].update(seller_remitted_states=["OR"]), d["ledgers"]["xero"]["tax_codes"]["seller_remitted"].clear()),
         "ledgers.xero.tax_codes.seller_remitted: no tax code for seller-remitted states ['OR']"),
        (lambda d: d["ledgers"]["xero"]["tax_codes"]["seller_remitted"].update(XX="TAX001"),
         "ledgers.xero.tax_codes.seller_remitted: ['XX'] are not US state codes"),
        (lambda d: d["seller"].update(currency="usd"), "seller.currency: String should match pattern"),
        (lambda d: d["ledgers"]["xero"]["accounts"].update(salse="4000"), "ledgers.xero.accounts.salse: unknown key"),
        (lambda d: d.update(fee_types={"Commission on Product": "comission"}),
         "fee_types: fee types {'Commission on Product': 'comission'} are not among"),
        (lambda d: d["ledgers"]["exact"].update(base_currency="EUR"), "rates.source: ledger exact is in EUR but the seller in USD"),
        (lambda d: d["contacts"].update(strategy="per_email"), "contacts.strategy: Input should be 'per_customer' or 'marketplace'"),
        (lambda d: d["ledgers"]["exact"].pop("sales_journal"), "ledgers.exact.sales_journal: expected the Exact sales journal code"),
        (lambda d: d["ledgers"]["xero"].update(amend_changed_documents=True),
         "ledgers.xero.amend_changed_documents: amending posted documents is not supported yet"),
    ],
)
def test_bad_file_names_the_key(default_data, mutate, expected):
    data = copy.deepcopy(default_data)
    mutate(data)
    assert expected in _problems(data)


def test_every_problem_is_reported_at_once(default_data):
    data = copy.deepcopy(default_data)
    data["ledgers"]["xero"]["accounts"].pop("bank")
    data["ledgers"]["exact"]["accounts"].pop("sales")
    message = _problems(data)
    assert "ledgers.xero.accounts.bank" in message and "ledgers.exact.accounts.sales" in message


def test_unreadable_inputs(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nseller: [unclosed\n")
    with pytest.raises(ConfigError, match="YAML syntax"):
        load_config(broken)
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_config(["not", "a", "mapping"])


def test_no_enabled_ledger_is_an_error(default_data):
    data = copy.deepcopy(default_data)
    data["ledgers"]["xero"]["enabled"] = False
    data["ledgers"]["exact"]["enabled"] = False
    assert "at least one of xero, exact" in _problems(data)


def test_ledger_references_name_each_code_sent_to_the_ledger_by_its_key(default_data):
    xero = set(load_default_config().ledger_references("xero"))
    assert {("clearing_account", "1250", "ledgers.xero.accounts.clearing"),
            ("bank_account", "1000", "ledgers.xero.accounts.bank"),
            ("account", "4000", "ledgers.xero.accounts.sales"),
            ("account", "6000", "ledgers.xero.accounts.fees.commission"),
            ("account", "4000", "ledgers.xero.skus.default.account"),
            ("tax_code", "NONE", "ledgers.xero.tax_codes.facilitator"),
            ("tax_code", "TAX001", "ledgers.xero.tax_codes.seller_remitted.PR"),
            ("item", "WM-SKU-0001", "ledgers.xero.skus.items.WM-SKU-0001.item_code"),
            ("tracking", "Sales Channel / Walmart", "tracking")} <= xero
    assert len(xero) == 9 + len(FEE_TYPES) + 1 + 3 + 2 + 1  # roles, fees, sku account, tax codes, items, tracking
    assert not any(r.key_path.endswith(("promotions", "suspense", "cost_center", "charge_item")) for r in xero)

    data = copy.deepcopy(default_data)
    data["ledgers"]["exact"]["accounts"]["promotions"] = "8025"
    exact = set(parse_config(data).ledger_references("exact"))
    assert {("account", "8025", "ledgers.exact.accounts.promotions"),
            ("cost_center", "WM", "ledgers.exact.skus.default.cost_center"),
            ("cost_unit", "Walmart", "tracking.option"),
            ("journal", "70", "ledgers.exact.sales_journal"),
            ("tax_code", "0", "ledgers.exact.tax_codes.no_tax")} <= exact
    # Exact sales entries carry no items; stock-tracked invoices carry the SKUs' items and the charge item.
    assert not {r for r in exact if r.kind in ("item", "tracking")}
    data["ledgers"]["exact"].update(stock_tracked_items=True, skus={"items": {"WM-SKU-0001": {"item_code": "I-1"}}})
    items = {r for r in parse_config(data).ledger_references("exact") if r.kind == "item"}
    assert items == {("item", "I-1", "ledgers.exact.skus.items.WM-SKU-0001.item_code"),
                     ("item", "WM-CHARGES", "ledgers.exact.charge_item")}

"""The mapping file: how Walmart facts map to accounts, tax codes, items and cost centers, validated at load."""

from __future__ import annotations

import functools
import os
from datetime import date
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_ENV_VAR = "WALMART_ACCOUNTING_CONFIG"
DEFAULT_CONFIG_RESOURCE = "default_mapping.yaml"

# Every fee type a settlement can carry; each needs an account in every enabled ledger.
FEE_TYPES = (
    "commission",
    "shipping_label",
    "wfs_fulfillment",
    "wfs_storage",
    "wfs_inbound",
    "wfs_removal",
    "wfs_return_shipping",
    "advertising",
    "review_accelerator",
    "other_fees",
)

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP".split()
)


class LedgerReference(NamedTuple):
    """Something the mapping names that must exist in a ledger, and the key that names it (for `config check --ledger`)."""

    kind: str  # account | clearing_account | bank_account | tax_code | item | tracking | cost_center | cost_unit | journal
    code: str
    key_path: str


def tracking_code(category: str, option: str) -> str:
    """A Xero tracking category and option as one reference code, the same on both sides of the comparison."""
    return f"{category} / {option}"


class ConfigError(ValueError):
    """The mapping file is invalid; the message lists every bad key and what was expected."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid mapping configuration {source}:\n{listing}")


class PostingMode(StrEnum):
    PER_ORDER = "per_order"
    SETTLEMENT_SUMMARY = "settlement_summary"


class ContactStrategy(StrEnum):
    PER_CUSTOMER = "per_customer"
    MARKETPLACE = "marketplace"


class RateSource(StrEnum):
    NONE = "none"  # every ledger's base currency equals the seller currency
    FIXED = "fixed"  # rates from the mapping file
    LEDGER = "ledger"  # the ledger's own daily rate (Xero XE.com rate, Exact's rate table)


NonEmpty = Annotated[str, Field(min_length=1)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Seller(_Strict):
    name: NonEmpty
    partner_id: NonEmpty | None = None
    currency: Currency = "USD"
    timezone: NonEmpty = "America/Los_Angeles"
    # The first day this deployment books: the partitions start here, so it must never move.
    start_date: date | None = None


class Rates(_Strict):
    source: RateSource = RateSource.NONE
    # For source=fixed: units of the ledger base currency per unit of the seller currency, e.g. EUR: "0.92"
    fixed: dict[Currency, Decimal] = Field(default_factory=dict)

    @field_validator("fixed")
    @classmethod
    def _positive(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, rate in value.items():
            if rate <= 0:
                raise ValueError(f"rate for {code} must be positive, got {rate}")
        return value


class Contacts(_Strict):
    strategy: ContactStrategy = ContactStrategy.PER_CUSTOMER
    marketplace_name: NonEmpty = "Walmart Marketplace Customers"
    marketplace_number: NonEmpty = "WALMART-MKT"
    supplier_name: NonEmpty = "Walmart Marketplace"
    supplier_number: NonEmpty = "WALMART-FEES"


class Tracking(_Strict):
    category: NonEmpty
    option: NonEmpty


class Tax(_Strict):
    # States where Walmart is the marketplace facilitator and remits the tax itself.
    facilitator_states: frozenset[str]
    # States where the seller remits; everything else is an unmapped combination (an error).
    seller_remitted_states: frozenset[str] = frozenset()

    @field_validator("facilitator_states", "seller_remitted_states")
    @classmethod
    def _states(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(s for s in value if s not in US_STATES)
        if unknown:
            raise ValueError(f"unknown US state codes {unknown}; expected two-letter codes like CA, TX")
        return value

    @model_validator(mode="after")
    def _disjoint(self) -> "Tax":
        both = sorted(self.facilitator_states & self.seller_remitted_states)
        if both:
            raise ValueError(f"states {both} are listed as both facilitator and seller-remitted")
        return self


class Accounts(_Strict):
    sales: NonEmpty
    shipping: NonEmpty
    discounts: NonEmpty
    refunds: NonEmpty
    clearing: NonEmpty
    facilitator_tax: NonEmpty
    bank: NonEmpty
    adjustments: NonEmpty
    reserve: NonEmpty
    fees: dict[str, NonEmpty]
    # Optional: seller-funded promotions (default: discounts), Walmart-funded savings (default: sales),
    # reimbursements such as WFS lost inventory (default: adjustments), and the suspense account that
    # unmapped amount types are parked on when `unmapped_amount_types: suspense`.
    promotions: NonEmpty | None = None
    funded_savings: NonEmpty | None = None
    reimbursements: NonEmpty | None = None
    suspense: NonEmpty | None = None

    def effective(self) -> dict[str, str | None]:
        """Every role's account, the optional ones resolved to their defaults (suspense stays None when unset)."""
        roles = self.model_dump(exclude={"fees"})
        roles.update(promotions=self.promotions or self.discounts, funded_savings=self.funded_savings or self.sales,
                     reimbursements=self.reimbursements or self.adjustments)
        return roles

    @field_validator("fees")
    @classmethod
    def _fees(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FEE_TYPES))
        if unknown:
            raise ValueError(f"unknown fee types {unknown}; expected some of {list(FEE_TYPES)}")
        missing = [f for f in FEE_TYPES if f not in value]
        if missing:
            raise ValueError(f"no account for fee types {missing}; every fee type needs an account")
        return value


class TaxCodes(_Strict):
    """Ledger tax codes (Xero TaxType / Exact VATCode) by Walmart tax treatment and ship-to state."""

    facilitator: NonEmpty  # tax Walmart remits: booked to the facilitator account with this code
    no_tax: NonEmpty  # lines that carry no tax (fees, shipping where untaxed, transfers)
    # seller-remitted output tax per ship-to state; "default" applies to the other seller-remitted states
    seller_remitted: dict[str, NonEmpty] = Field(default_factory=dict)


class SkuEntry(_Strict):
    item_code: NonEmpty | None = None
    account: NonEmpty | None = None
    cost_center: NonEmpty | None = None


class SkuMapping(_Strict):
    default: SkuEntry = SkuEntry()
    # When false, a SKU missing from `items` is unmapped (dead-lettered) instead of using `default`.
    allow_default: bool = True
    items: dict[NonEmpty, SkuEntry] = Field(default_factory=dict)


class Ledger(_Strict):
    enabled: bool = True
    posting_mode: PostingMode
    base_currency: Currency = "USD"
    stock_tracked_items: bool = False  # Exact: post sales invoices with items instead of sales entries
    # Exact, with stock_tracked_items: a non-stock item for the lines that are not products (shipping,
    # discounts, facilitator tax, fees kept back), which must not move stock; each line keeps its G/L account.
    charge_item: NonEmpty | None = None
    sales_journal: NonEmpty | None = None  # Exact journal code for sales entries
    accounts: Accounts
    tax_codes: TaxCodes
    skus: SkuMapping = SkuMapping()
    amend_changed_documents: bool = False


class Ledgers(_Strict):
    xero: Ledger | None = None
    exact: Ledger | None = None


class StockSource(StrEnum):
    """Which side's quantity is the truth for a group of SKUs; the other side is made to agree."""

    WALMART = "walmart"  # Walmart's ship nodes hold the stock: the ledger's is counted to match (Exact stock counts)
    LEDGER = "ledger"  # the ledger (or the warehouse behind it) holds it: pushed to Walmart's nodes


WFS_SHIP_NODE = "WFS"  # Walmart's fulfilment centres as stock.warehouses names them: Walmart's stock, never the seller's


class StockGroup(_Strict):
    skus: list[NonEmpty] = Field(min_length=1)  # SKUs, or patterns such as "MUG-*"
    source: StockSource


class Stock(_Strict):
    """Stock between Walmart and a ledger: which SKUs, in which direction, through which warehouses."""

    ledger: Literal["xero", "exact"] = "exact"
    read_wfs: bool = True  # also read WFS stock (GET /v3/fulfillment/inventory); off for sellers not on WFS
    # Walmart ship node id (or "WFS" for Walmart's fulfilment centres) -> the ledger's warehouse code. Xero has
    # no warehouses: its one stock pool goes to the one seller node mapped here (the code is only a label).
    warehouses: dict[NonEmpty, NonEmpty] = Field(default_factory=dict)
    # Named groups of SKUs and where their quantity comes from; a SKU in no group is not synced.
    groups: dict[NonEmpty, StockGroup] = Field(default_factory=dict)
    tolerance_units: int = Field(default=0, ge=0)  # a difference up to this many units is not a finding
    # The ledger item of a SKU is its skus.items entry's item_code; with this on, a SKU without one is the
    # item of the same code (for ledgers whose item codes are the SKUs). Off, such a SKU is reported unmapped.
    item_code_is_sku: bool = False

    @model_validator(mode="after")
    def _one_direction(self) -> "Stock":
        problems = []
        sources: dict[str, set[str]] = {}
        for name, group in self.groups.items():
            for pattern in group.skus:
                sources.setdefault(pattern, set()).add(group.source.value)
            if group.source is StockSource.WALMART and self.ledger == "xero":
                problems.append(f"stock.groups.{name}.source: walmart needs ledger exact (Xero's quantity on hand "
                                "moves only with bills and invoices, so Xero can be a source, never a target)")
        both = sorted(p for p, found in sources.items() if len(found) > 1)
        if both:
            problems.append(f"stock.groups: {both} are in groups of both sources; a SKU is synced one way only")
        if self.groups and not self.warehouses:
            problems.append("stock.warehouses: expected the warehouse of each Walmart ship node the ledger follows "
                            "or feeds")
        elif self.ledger == "xero" and any(g.source is StockSource.LEDGER for g in self.groups.values()):
            seller = sorted(n for n in self.warehouses if n != WFS_SHIP_NODE)
            if len(seller) != 1 or WFS_SHIP_NODE in self.warehouses:
                problems.append(
                    "stock.warehouses: ledger xero keeps one stock pool (each tracked item's QuantityOnHand), so it "
                    "goes to exactly one of the seller's own ship nodes; expected one node id and no WFS (Walmart "
                    f"holds WFS stock), e.g. {{'10000000001': 'xero'}}, got {sorted(self.warehouses)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def nodes_of(self, warehouse: str) -> list[str]:
        """The Walmart ship nodes mapped to a ledger warehouse, in order."""
        return sorted(node for node, code in self.warehouses.items() if code == warehouse)

    def ledger_warehouses(self) -> list[str]:
        """The ledger warehouse codes whose stock is read: every mapped one for Exact, the one pool's for Xero."""
        if self.ledger == "xero":
            return sorted({code for node, code in self.warehouses.items() if node != WFS_SHIP_NODE})
        return sorted(set(self.warehouses.values()))


class Prices(_Strict):
    """Prices pushed to Walmart through the bulk price feed: from a price file or the ledger's items."""

    source: Literal["none", "file", "ledger"] = "none"
    file: NonEmpty | None = None  # CSV with the columns sku and price (in the seller's currency, e.g. 19.99)
    # source ledger: Exact's item StandardSalesPrice or Xero's SalesDetails.UnitPrice (item code = the SKU's)
    ledger: Literal["xero", "exact"] = "exact"
    skus: list[NonEmpty] = Field(default_factory=lambda: ["*"])  # SKUs or patterns whose price is pushed
    # Walmart takes up to 10,000 items (and 10 MB) per price feed and about 10 price feeds an hour.
    items_per_feed: int = Field(default=10_000, ge=1, le=10_000)

    @model_validator(mode="after")
    def _file_named(self) -> "Prices":
        if self.source == "file" and not self.file:
            raise ValueError("prices.file: source file needs the path of the price CSV")
        return self


class Carrier(_Strict):
    """How a shipping method of the ledger is told to Walmart: a carrier Walmart lists, or another with a tracking URL."""

    carrier: NonEmpty | None = None  # one of Walmart's carrier names (UPS, USPS, FedEx, DHL Ecommerce - US, ...)
    other_carrier: NonEmpty | None = None
    tracking_url: NonEmpty | None = None  # "{tracking}" is replaced by the number; required with other_carrier
    method_code: Literal["Standard", "Express", "OneDay", "Freight", "WhiteGlove", "Value"] = "Standard"

    @model_validator(mode="after")
    def _one_carrier(self) -> "Carrier":
        if bool(self.carrier) == bool(self.other_carrier):
            raise ValueError("give exactly one of carrier and other_carrier")
        if self.other_carrier and not self.tracking_url:
            raise ValueError("other_carrier needs tracking_url (Walmart requires it)")
        return self


class OrderLoop(_Strict):
    """Seller-fulfilled orders go to Exact as sales orders; Exact's goods deliveries go back to Walmart as shipments."""

    enabled: bool = False
    # The Exact warehouse of an order whose ship node stock.warehouses does not map (Walmart omits the node's id
    # on many orders).
    warehouse: NonEmpty = "1"
    # Exact shipping method code (sales/ShippingMethods) -> the carrier Walmart is told.
    carriers: dict[NonEmpty, Carrier] = Field(default_factory=lambda: {
        "UPS": Carrier(carrier="UPS"), "FEDEX": Carrier(carrier="FedEx"), "USPS": Carrier(carrier="USPS")})
    lookback_days: int = Field(default=14, ge=1, le=90)  # how far back deliveries are read (sent ones are skipped)
    # Where shipments come from: Exact's goods deliveries of the loop's sales orders, or CSV files a warehouse
    # (or 3PL) drops in `shipments_folder` (any ledger; no sales orders are made then).
    shipments_from: Literal["exact", "file"] = "exact"
    shipments_folder: NonEmpty | None = None

    @model_validator(mode="after")
    def _folder_named(self) -> "OrderLoop":
        if self.enabled and self.shipments_from == "file" and not self.shipments_folder:
            raise ValueError("order_loop.shipments_folder: shipments_from file needs the folder of shipment CSVs")
        return self


class MappingConfig(_Strict):
    version: Literal[1]
    seller: Seller
    rates: Rates = Rates()
    contacts: Contacts = Contacts()
    tracking: Tracking | None = None
    tax: Tax
    # Walmart "Amount Type" (and for adjustments the description) to a fee type; unlisted ones are unmapped.
    fee_types: dict[NonEmpty, str] = Field(default_factory=dict)
    # Transaction Descriptions of what Walmart reimburses (lost or damaged inventory): their own line.
    reimbursements: list[NonEmpty] = Field(default_factory=list)
    # An amount type neither fee_types nor the known order money names: `reject` dead-letters the fee bill
    # (or summary month) it is on; `suspense` books it to accounts.suspense and fails a check naming the rows.
    unmapped_amount_types: Literal["reject", "suspense"] = "reject"
    ledgers: Ledgers
    acknowledge_orders: bool = False
    stock: Stock = Stock()
    prices: Prices = Prices()
    order_loop: OrderLoop = OrderLoop()

    @field_validator("fee_types")
    @classmethod
    def _fee_types(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {k: v for k, v in value.items() if v not in FEE_TYPES}
        if bad:
            raise ValueError(f"fee types {bad} are not among {list(FEE_TYPES)}")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> "MappingConfig":
        problems: list[str] = []
        enabled = self.enabled_ledgers()
        if not enabled:
            problems.append("ledgers: at least one of xero, exact must be configured and enabled")
        for name, ledger in enabled.items():
            where = f"ledgers.{name}"
            if ledger.base_currency != self.seller.currency:
                if self.rates.source is RateSource.NONE:
                    problems.append(
                        f"rates.source: ledger {name} is in {ledger.base_currency} but the seller in "
                        f"{self.seller.currency}; expected 'fixed' or 'ledger', got 'none'"
                    )
                elif self.rates.source is RateSource.LEDGER and name == "exact":
                    problems.append(
                        f"rates.source: 'ledger' works for Xero (it applies its daily rate and the rate it used is "
                        f"recorded); Exact bank entries take no rate, so ledger {name} in {ledger.base_currency} needs "
                        "'fixed' rates")
                elif self.rates.source is RateSource.FIXED and ledger.base_currency not in self.rates.fixed:
                    problems.append(f"rates.fixed.{ledger.base_currency}: expected a rate for ledger {name}")
            if self.seller_remitted_states_without_code(ledger):
                missing = self.seller_remitted_states_without_code(ledger)
                problems.append(
                    f"{where}.tax_codes.seller_remitted: no tax code for seller-remitted states {missing}; "
                    "expected an entry per state or a 'default'"
                )
            # A code for a facilitator state is legitimate: the settlement decides, and tax Walmart pays out
            # there (non-MFL taxes) is the seller's. A code for something that is not a state is a typo.
            unknown_states = sorted(s for s in ledger.tax_codes.seller_remitted if s != "default" and s not in US_STATES)
            if unknown_states:
                problems.append(f"{where}.tax_codes.seller_remitted: {unknown_states} are not US state codes")
            if not ledger.skus.allow_default and not ledger.skus.items:
                problems.append(f"{where}.skus.items: expected at least one SKU when allow_default is false")
            if ledger.amend_changed_documents:
                problems.append(f"{where}.amend_changed_documents: amending posted documents is not supported yet; "
                                "expected false (a document changed after posting is dead-lettered with both versions)")
            if self.unmapped_amount_types == "suspense" and not ledger.accounts.suspense:
                problems.append(f"{where}.accounts.suspense: unmapped_amount_types is suspense, so every ledger needs "
                                "a suspense account")
            if ledger.stock_tracked_items and not ledger.charge_item:
                problems.append(f"{where}.charge_item: stock_tracked_items needs a non-stock item for shipping, "
                                "discount and facilitator-tax lines (an Exact invoice line must name an item)")
            if name == "exact" and not ledger.sales_journal:
                problems.append(f"{where}.sales_journal: expected the Exact sales journal code, e.g. '70'")
        if self.stock.groups and self.stock.ledger not in enabled:
            problems.append(f"stock.ledger: the stock groups sync with ledger {self.stock.ledger}, which is not "
                            "configured and enabled under ledgers")
        if self.prices.source == "ledger" and self.prices.ledger not in enabled:
            problems.append(f"prices.ledger: prices come from {self.prices.ledger}, which is not enabled")
        if self.order_loop.enabled and self.order_loop.shipments_from == "exact" and "exact" not in enabled:
            problems.append("order_loop.shipments_from: exact makes Exact sales orders and reads its deliveries; "
                            "enable ledgers.exact, or take shipments from a file")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def enabled_ledgers(self) -> dict[str, Ledger]:
        """The configured ledgers that are switched on, by name."""
        found = {"xero": self.ledgers.xero, "exact": self.ledgers.exact}
        return {name: ledger for name, ledger in found.items() if ledger is not None and ledger.enabled}

    def seller_remitted_states_without_code(self, ledger: Ledger) -> list[str]:
        codes = ledger.tax_codes.seller_remitted
        if "default" in codes:
            return []
        return sorted(s for s in self.tax.seller_remitted_states if s not in codes)

    def ledger(self, name: str) -> Ledger:
        """The named ledger's mapping; a clear error when it is not configured."""
        found = self.enabled_ledgers().get(name)
        if found is None:
            raise ConfigError("(loaded)", [f"ledgers.{name}: not configured or not enabled"])
        return found

    def ledger_references(self, name: str) -> list[LedgerReference]:
        """Every account, tax code, item, tracking option, cost center and journal the mapping sends to ledger `name`."""
        ledger = self.ledger(name)
        where = f"ledgers.{name}"
        found: list[LedgerReference] = []

        def add(kind: str, code: str | None, key_path: str) -> None:
            if code:
                found.append(LedgerReference(kind, code, key_path))

        accounts = ledger.accounts
        # Payments and payouts move money out of the clearing account into the bank: not line accounts.
        add("clearing_account", accounts.clearing, f"{where}.accounts.clearing")
        add("bank_account", accounts.bank, f"{where}.accounts.bank")
        for role, code in accounts.model_dump(exclude={"clearing", "bank", "fees"}).items():
            add("account", code, f"{where}.accounts.{role}")  # optional roles only when set
        for fee_type, code in accounts.fees.items():
            add("account", code, f"{where}.accounts.fees.{fee_type}")
        skus = [(f"{where}.skus.default", ledger.skus.default),
                *((f"{where}.skus.items.{sku}", entry) for sku, entry in ledger.skus.items.items())]
        for path, entry in skus:
            add("account", entry.account, f"{path}.account")
        add("tax_code", ledger.tax_codes.facilitator, f"{where}.tax_codes.facilitator")
        add("tax_code", ledger.tax_codes.no_tax, f"{where}.tax_codes.no_tax")
        for state, code in ledger.tax_codes.seller_remitted.items():
            add("tax_code", code, f"{where}.tax_codes.seller_remitted.{state}")
        # Exact sales entries carry no items: items reach Exact only on stock-tracked sales invoices.
        if name != "exact" or ledger.stock_tracked_items:
            for path, entry in skus:
                add("item", entry.item_code, f"{path}.item_code")
        if name == "exact":
            if ledger.stock_tracked_items:
                add("item", ledger.charge_item, f"{where}.charge_item")
            for path, entry in skus:
                add("cost_center", entry.cost_center, f"{path}.cost_center")
            if self.tracking is not None:  # Exact's analogue of Xero tracking: the option as the cost unit
                add("cost_unit", self.tracking.option, "tracking.option")
            add("journal", ledger.sales_journal, f"{where}.sales_journal")
        elif self.tracking is not None:
            add("tracking", tracking_code(self.tracking.category, self.tracking.option), "tracking")
        return found


def _format_errors(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or "(top level)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key; check the spelling against the default mapping file"
        elif err["type"] == "missing":
            message = "required key is missing"
        got = err.get("input")
        if err["type"] not in ("missing", "extra_forbidden") and not isinstance(got, (dict, list)):
            message = f"{message} (got {got!r})"
        problems.append(f"{where}: {message}")
    return problems


def parse_config(data: object, source: str = "(inline)") -> MappingConfig:
    """Validate already-parsed mapping data; raises ConfigError naming each bad key."""
    if not isinstance(data, dict):
        raise ConfigError(source, [f"(top level): expected a mapping of keys, got {type(data).__name__}"])
    try:
        return MappingConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, _format_errors(exc)) from None


def load_config(path: str | os.PathLike | None = None) -> MappingConfig:
    """Load the mapping file from `path`, else $WALMART_ACCOUNTING_CONFIG, else the packaged default."""
    chosen = path or os.environ.get(CONFIG_ENV_VAR)
    if chosen:
        file = Path(chosen)
        if not file.is_file():
            raise ConfigError(str(file), [f"{CONFIG_ENV_VAR}: file not found: {file}"])
        text = file.read_text(encoding="utf-8")
        source = str(file)
    else:
        text = resources.files("walmart_accounting.domain").joinpath(DEFAULT_CONFIG_RESOURCE).read_text("utf-8")
        source = f"(packaged {DEFAULT_CONFIG_RESOURCE})"
    try:
        data = _parsed_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"(YAML syntax): {exc}"]) from None
    return parse_config(data, source)


@functools.lru_cache(maxsize=8)
def _parsed_yaml(text: str) -> object:
    # Every asset of a run loads the mapping; parsing the YAML is most of the cost, validating it is cheap.
    # Keyed by the text, so an edited file is read afresh; pydantic copies what it validates, never mutates it.
    return yaml.safe_load(text)


def load_default_config() -> MappingConfig:
    """The packaged sandbox-seller mapping, whatever $WALMART_ACCOUNTING_CONFIG says (the sandboxes seed from it)."""
    text = resources.files("walmart_accounting.domain").joinpath(DEFAULT_CONFIG_RESOURCE).read_text("utf-8")
    return parse_config(yaml.safe_load(text), f"(packaged {DEFAULT_CONFIG_RESOURCE})")

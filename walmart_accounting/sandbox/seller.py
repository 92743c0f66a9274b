"""A deterministic synthetic Walmart seller: the data the Walmart emulator serves and the tests treat as ground truth."""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from walmart_accounting.domain.config import load_default_config
from walmart_accounting.domain.money import Money

CURRENCY = "USD"
UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

# Reconciliation report v1 columns, in file order (FACTS.md section 4).
RECON_V1_COLUMNS: tuple[str, ...] = (
    "Period Start Date", "Period End Date", "Total Payable", "Currency", "Transaction Key",
    "Transaction Posted Timestamp", "Transaction Type", "Transaction Description", "Customer Order #",
    "Customer Order line #", "Purchase Order #", "Purchase Order line #", "Amount", "Amount Type",
    "Ship Qty", "Commission Rate", "Transaction Reason Description", "Partner Item Id", "Partner GTIN",
    "Partner Item Name", "Product Tax Code", "Ship to State", "Ship to City", "Ship to Zipcode",
    "Contract Category", "Product Type", "Commission Rule", "Shipping Method", "Fulfillment Type",
    "Fulfillment Details", "Original Commission", "Commission Incentive Program", "Commission Saving",
    "Customer Promo Type", "Campaign Id",
)

# The settlement vocabulary this seller emits. Product/commission/fee names are observed in real
# reports; the shipping amount types are not confirmed anywhere (FACTS.md: "not found").
PRODUCT_PRICE = "Product Price"
PRODUCT_TAX = "Product tax"
PRODUCT_TAX_WITHHELD = "Product tax withheld"
SHIPPING_PRICE = "Shipping Price"
SHIPPING_TAX = "Shipping tax"
SHIPPING_TAX_WITHHELD = "Shipping tax withheld"
COMMISSION_ON_PRODUCT = "Commission on Product"
COMMISSION_ON_SHIPPING = "Commission on Shipping"
DISCOUNT_CHARGE_NAME = "SubscriptionDiscount"
SELLER_FULFILLED = "Seller Fulfilled"
WFS_FULFILLED = "WFS Fulfilled"


@dataclass(frozen=True)
class SkuSpec:
    """One catalog item as the seller lists it on Walmart."""

    sku: str
    name: str
    gtin: str
    price_cents: int
    cost_cents: int
    product_tax_code: str


@dataclass(frozen=True)
class Settlement:
    """One closed biweekly payment cycle and its v1 reconciliation report rows."""

    report_date: str
    period_start: date
    period_end: date
    payable_id: str
    total_payable_cents: int
    rows: list[dict[str, str]]


def gtin_check_digit(body: str) -> str:
    """GS1 check digit of a GTIN body (all digits but the last), so synthetic GTINs validate like real ones."""
    if not body.isdigit():
        raise ValueError(f"GTIN body must be digits, got {body!r}")
    total = sum(int(ch) * (3 if i % 2 == 0 else 1) for i, ch in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def is_valid_gtin(gtin: str) -> bool:
    """Whether a GTIN-8/12/13/14 string carries a correct GS1 check digit."""
    return (
        isinstance(gtin, str)
        and gtin.isdigit()
        and len(gtin) in (8, 12, 13, 14)
        and gtin_check_digit(gtin[:-1]) == gtin[-1]
    )


# --- catalog -------------------------------------------------------------------------------------

# category -> (commission percent, Walmart product tax code)
_CATEGORIES: dict[str, tuple[str, str]] = {
    "Home & Garden": ("15", "2038345"),
    "Consumer Electronics": ("8", "2038710"),
    "Automotive & Powersports": ("12", "2040240"),
    "Pet Supplies": ("15", "2041800"),
    "Sporting Goods": ("15", "2042110"),
    "Toys": ("15", "2043390"),
}

# name | product type | category | price | cost | weight oz | cubic ft x100 | popularity | WFS | east node
_CATALOG = """
Stainless Steel Insulated Water Bottle, 32 oz, Matte Black|Water Bottles|Home & Garden|2499|840|18|12|9|Y|Y
Bamboo Cutting Board Set, 3 Pieces|Cutting Boards|Home & Garden|2999|1120|52|25|6|Y|N
Pre-Seasoned Cast Iron Skillet, 12 in|Skillets|Home & Garden|3499|1450|128|30|5|N|Y
Silicone Baking Mat, Half Sheet, 2-Pack|Baking Mats|Home & Garden|1299|310|9|5|8|Y|Y
Glass Meal Prep Containers with Lids, 10-Pack|Food Storage Containers|Home & Garden|3999|1680|150|60|4|N|N
LED Desk Lamp with USB Charging Port, Black|Desk Lamps|Home & Garden|2799|1090|42|40|4|Y|N
Wireless Charging Pad, 15W, Qi Certified|Wireless Chargers|Consumer Electronics|1999|620|6|4|8|Y|Y
Waterproof Bluetooth Shower Speaker|Portable Speakers|Consumer Electronics|2249|775|11|6|5|Y|N
USB-C Braided Charging Cable, 6 ft, 3-Pack|Cables|Consumer Electronics|1499|290|5|3|10|Y|Y
Memory Foam Bath Mat, 17 x 24 in, Gray|Bath Rugs|Home & Garden|1699|540|30|35|6|N|Y
Blackout Curtains, 52 x 84 in, Navy, 2 Panels|Curtains|Home & Garden|3299|1230|60|30|4|N|N
Microfiber Sheet Set, Queen, White|Sheet Sets|Home & Garden|3699|1360|56|28|5|Y|Y
Cotton Bath Towel Set, 6 Pieces, Sage|Bath Towels|Home & Garden|4499|1820|88|70|3|N|N
Rope Dog Chew Toy Set, 5-Pack|Dog Toys|Pet Supplies|1899|510|20|20|6|Y|Y
Orthopedic Pet Bed, Large, 36 x 27 in|Pet Beds|Pet Supplies|5499|2380|96|180|2|N|N
Stainless Steel Cat Bowls, Set of 2|Pet Bowls|Pet Supplies|1199|330|12|10|5|Y|Y
Resistance Bands Set, 5 Levels|Resistance Bands|Sporting Goods|1599|360|10|6|7|Y|Y
Non-Slip Yoga Mat, 6 mm, Purple|Yoga Mats|Sporting Goods|2699|940|40|45|5|N|Y
Adjustable Dumbbell, 25 lb|Dumbbells|Sporting Goods|8999|4100|410|60|2|N|N
Car Phone Mount, Dashboard and Windshield|Phone Mounts|Automotive & Powersports|1799|480|8|6|7|Y|Y
Digital Tire Pressure Gauge, Backlit|Tire Gauges|Automotive & Powersports|1249|320|5|3|4|Y|N
Microfiber Car Wash Mitt, 2-Pack|Car Wash Mitts|Automotive & Powersports|999|210|7|8|4|N|Y
Wooden Building Blocks, 100 Pieces|Building Blocks|Toys|2999|1050|70|50|4|Y|N
Double-Sided Kids Art Easel|Easels|Toys|6499|2870|240|220|2|N|N
"""

_GTIN_PREFIX = "814052"  # a GS1 company prefix shape; the item reference follows


@dataclass(frozen=True)
class _Product:
    spec: SkuSpec
    product_type: str
    category: str
    commission_pct: Decimal
    weight_oz: int
    cuft_x100: int
    popularity: int
    wfs: bool
    east: bool


def _build_catalog() -> list[_Product]:
    products = []
    for i, raw in enumerate(line for line in _CATALOG.strip().splitlines()):
        name, ptype, category, price, cost, weight, cuft, pop, wfs, east = raw.split("|")
        body = "00" + _GTIN_PREFIX + f"{i + 1:05d}"
        pct, tax_code = _CATEGORIES[category]
        spec = SkuSpec(
            sku=f"WM-SKU-{i + 1:04d}",
            name=name,
            gtin=body + gtin_check_digit(body),
            price_cents=int(price),
            cost_cents=int(cost),
            product_tax_code=tax_code,
        )
        products.append(
            _Product(spec, ptype, category, Decimal(pct), int(weight), int(cuft), int(pop), wfs == "Y", east == "Y")
        )
    return products


# --- geography and tax ---------------------------------------------------------------------------

# state | population weight | combined sales tax % | shipping taxable | City:ZIP, ...
# The rate applies only where the default mapping says tax is collected (facilitator or
# seller-remitted states); every other state is a zero-tax state for this seller.
_GEO = """
CA|120|8.85|N|Los Angeles:90012,San Diego:92101,Sacramento:95814,San Jose:95112,Fresno:93721
TX|90|8.20|Y|Houston:77002,Dallas:75201,Austin:78701,San Antonio:78205
FL|67|7.02|N|Miami:33130,Orlando:32801,Tampa:33602,Jacksonville:32202
NY|60|8.53|Y|Brooklyn:11201,Buffalo:14202,Rochester:14604,Albany:12207
PA|39|6.34|N|Philadelphia:19103,Pittsburgh:15222,Allentown:18101
IL|38|8.86|N|Chicago:60607,Naperville:60540,Springfield:62701
OH|35|7.24|Y|Columbus:43215,Cleveland:44113,Cincinnati:45202
GA|33|7.38|Y|Atlanta:30303,Savannah:31401,Augusta:30901
NC|32|6.99|Y|Charlotte:28202,Raleigh:27601,Greensboro:27401
MI|30|6.00|N|Detroit:48226,Grand Rapids:49503,Ann Arbor:48104
NJ|28|6.60|Y|Newark:07102,Jersey City:07302,Trenton:08608
VA|26|5.77|N|Virginia Beach:23451,Richmond:23219,Arlington:22201
WA|23|9.38|Y|Seattle:98101,Spokane:99201,Tacoma:98402
AZ|22|8.37|N|Phoenix:85004,Tucson:85701,Mesa:85201
MA|21|6.25|N|Boston:02108,Worcester:01608,Springfield:01103
TN|21|9.55|Y|Nashville:37203,Memphis:38103,Knoxville:37902
IN|20|7.00|Y|Indianapolis:46204,Fort Wayne:46802
MO|18|8.29|N|Kansas City:64106,St. Louis:63101
MD|18|6.00|N|Baltimore:21202,Silver Spring:20910
WI|18|5.43|Y|Milwaukee:53202,Madison:53703
CO|17|7.81|N|Denver:80202,Colorado Springs:80903
MN|17|7.49|Y|Minneapolis:55401,Saint Paul:55102
SC|16|7.49|Y|Charleston:29401,Columbia:29201
AL|15|9.29|N|Birmingham:35203,Huntsville:35801
LA|14|9.56|N|New Orleans:70112,Baton Rouge:70801
KY|13|6.00|Y|Louisville:40202,Lexington:40507
OR|13|0|N|Portland:97204,Eugene:97401,Salem:97301
OK|12|8.98|N|Oklahoma City:73102,Tulsa:74103
CT|11|6.35|Y|Hartford:06103,New Haven:06510
UT|10|7.19|N|Salt Lake City:84101,Provo:84601
IA|10|6.94|N|Des Moines:50309,Cedar Rapids:52401
NV|9|8.23|N|Las Vegas:89101,Reno:89501
AR|9|9.45|Y|Little Rock:72201,Fayetteville:72701
MS|9|7.07|Y|Jackson:39201,Gulfport:39501
KS|9|8.65|Y|Wichita:67202,Overland Park:66204
NM|6|7.62|Y|Albuquerque:87102,Santa Fe:87501
NE|6|6.97|Y|Omaha:68102,Lincoln:68508
ID|6|6.03|N|Boise:83702,Idaho Falls:83402
WV|5|6.55|Y|Charleston:25301,Morgantown:26501
HI|4|4.44|Y|Honolulu:96813,Hilo:96720
NH|4|0|N|Manchester:03101,Nashua:03060
ME|4|5.50|N|Portland:04101,Bangor:04401
RI|3|7.00|N|Providence:02903
MT|3|0|N|Billings:59101,Missoula:59802
DE|3|0|N|Wilmington:19801,Dover:19901
SD|3|6.40|Y|Sioux Falls:57104
ND|2|6.96|N|Fargo:58102
AK|2|0|N|Anchorage:99501
DC|2|6.00|Y|Washington:20001
VT|2|6.24|Y|Burlington:05401
WY|2|5.44|Y|Cheyenne:82001
PR|20|11.5|Y|San Juan:00901,Bayamon:00961,Ponce:00716
"""

_EAST = frozenset(
    "AL CT DC DE FL GA IL IN KY MA MD ME MI MS NC NH NJ NY OH PA PR RI SC TN VA VT WI WV".split()
)


@dataclass(frozen=True)
class _State:
    code: str
    weight: int
    rate_pct: Decimal
    shipping_taxable: bool
    cities: tuple[tuple[str, str], ...]


def _build_geo() -> list[_State]:
    states = []
    for raw in _GEO.strip().splitlines():
        code, weight, rate, ship, cities = raw.split("|")
        pairs = tuple(tuple(c.split(":")) for c in cities.split(","))
        states.append(_State(code, int(weight), Decimal(rate), ship == "Y", pairs))
    return states


_FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard "
    "Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty "
    "Anthony Sandra Mark Ashley Donald Kimberly Steven Emily Andrew Donna Joshua Michelle Kevin "
    "Carol Brian Amanda Jose Melissa Luis Maria Siobhan Aoife Chloe Zoe Andre Renee Jamal Keisha "
    "Priya Wei Minh Fatima Diego Camila"
).split()
_FIRST_NAMES += ["José", "Chloé", "Zoë", "Renée", "André"]
_LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel Kim Chen "
    "McAllister MacDonald Kowalski Schmidt Novak"
).split()
_LAST_NAMES += ["O'Brien", "O'Connor", "O'Neil", "D'Angelo", "D'Souza", "Muñoz", "Peña", "García"]
_NICKNAMES = {"Robert": "Bobby", "William": "Bill", "James": "Jim", "Elizabeth": "Liz", "Anthony": "Tony",
              "Patricia": "Trish", "Joseph": "Joe", "Katherine": "Kate", "Richard": "Rick"}
_STREETS = ("Maple", "Oak", "Cedar", "Willow", "Lakeview", "Sunset", "Highland", "Park", "Church", "Mill",
            "River", "Meadow", "Ridge", "Spring", "Forest", "Hillcrest", "Washington", "Lincoln", "Jefferson")
_SUFFIXES = ("St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Way", "Pl")

# Walmart return reason codes (returns.json) and how they read as order refund reasons.
_RETURN_REASONS: tuple[tuple[str, str, int, bool], ...] = (
    # code, refundReason on the order, weight, seller at fault (shipping refunded, item not resold)
    ("NO_LONGER_WANTED", "CustomerChangedMind", 24, False),
    ("DEFECTIVE", "DefectiveItem", 16, True),
    ("NOT_AS_DESCRIBED", "ItemNotAsAdvertised", 10, True),
    ("DAMAGED", "DamagedItem", 10, True),
    ("BOUGHT_SOMEWHERE_ELSE", "CustomerChangedMind", 8, False),
    ("ARRIVED_LATE", "CustomerReceivedItemLate", 6, False),
    ("INCORRECT_ITEM", "IncorrectItemReceived", 6, True),
    ("LOWER_PRICE", "CustomerChangedMind", 5, False),
    ("MISSING_PARTS", "Missing Parts / Instructions", 5, True),
    ("INADEQUATE_QUALITY", "ItemNotAsAdvertised", 5, False),
    ("DUPLICATE_ITEM", "CustomerChangedMind", 5, False),
)

# Orders placed per hour of day (UTC): US evenings are the small hours in UTC.
_HOUR_WEIGHTS = (9, 8, 7, 6, 4, 3, 2, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 7, 8, 8, 9, 9, 9)
_WEEKDAY_FACTOR = (1.12, 1.06, 1.0, 0.96, 0.90, 0.88, 1.08)  # Monday first
_BASE_ORDERS_PER_DAY = 18.0

_NODE_RENO = "701246853001"
_NODE_COLUMBUS = "701246853002"
_NODE_WFS = "701246853099"
_NODES: dict[str, dict[str, str]] = {
    _NODE_RENO: {"type": "SellerFulfilled", "name": "Sandbox Seller Reno NV Warehouse"},
    _NODE_COLUMBUS: {"type": "SellerFulfilled", "name": "Sandbox Seller Columbus OH 3PL"},
    _NODE_WFS: {"type": "WFSFulfilled", "name": "Walmart Fulfillment Services"},
}


# --- internal records ----------------------------------------------------------------------------


@dataclass
class _Customer:
    email: str
    first: str
    last: str
    phone: str
    address: dict[str, str]
    weight: int


@dataclass
class _Line:
    number: int
    product: _Product
    qty: int
    unit_price: int
    unit_discount: int  # magnitude of the per-unit SubscriptionDiscount
    unit_ship: int
    unit_tax: int
    unit_discount_tax: int
    unit_ship_tax: int
    cancel_at: datetime | None = None
    cancel_reason: str | None = None
    allocated: bool = False
    return_id: str | None = None
    refund: "_RefundAmounts | None" = None

    def cancelled_by(self, when: datetime) -> bool:
        return self.cancel_at is not None and self.cancel_at <= when


@dataclass
class _PO:
    po_id: str
    customer_order_id: str
    customer: _Customer
    address: dict[str, str]
    state: _State
    created: datetime
    node: str
    method_code: str
    lines: list[_Line]
    ack_at: datetime
    est_ship: datetime
    est_delivery: datetime
    ship_at: datetime | None = None
    deliver_at: datetime | None = None
    carrier: str = ""
    tracking: str = ""
    label_fee: int = 0

    @property
    def wfs(self) -> bool:
        return self.node == _NODE_WFS


@dataclass
class _RefundAmounts:
    qty: int
    product_gross: int
    discount: int
    product_tax: int  # net of the discount's tax
    shipping: int
    shipping_tax: int
    reason_code: str
    refund_reason: str
    refund_id: str
    refunded_at: datetime | None

    @property
    def product_net(self) -> int:
        return self.product_gross - self.discount

    @property
    def total(self) -> int:
        return self.product_net + self.product_tax + self.shipping + self.shipping_tax


@dataclass
class _Return:
    return_id: str
    po: _PO
    lines: list[_Line]
    created: datetime
    received_at: datetime | None
    refunded_at: datetime
    keep_it: bool
    channel: str


@dataclass
class _Txn:
    """One settlement transaction: rows sharing a Transaction Key."""

    posted: date
    sort_key: tuple
    rows: list[dict[str, str]]


# --- helpers -------------------------------------------------------------------------------------


def _dec(cents: int) -> Decimal:
    return Money(cents, CURRENCY).to_decimal()


def _amount(cents: int) -> str:
    return str(Money(cents, CURRENCY).to_decimal())


def _pct_of(cents: int, pct: Decimal) -> int:
    """cents x pct / 100, rounded once, half up."""
    return Money(cents, CURRENCY).times(pct / 100).minor


def _ms(dt: datetime) -> int:
    return (dt - _EPOCH) // _MS


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _mdy(d: date) -> str:
    return d.strftime("%m/%d/%Y")


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the tens of orders a day this seller sees.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _money(cents: int) -> dict:
    return {"currency": CURRENCY, "amount": _dec(cents)}


def _rmoney(cents: int) -> dict:
    return {"currencyAmount": _dec(cents), "currencyUnit": CURRENCY}


def _return_tax(name: str, per_unit: int) -> list[dict]:
    return [{"taxName": name, "taxPerUnit": _rmoney(per_unit), "excessTax": _rmoney(0)}]


# --- the seller ----------------------------------------------------------------------------------


class SyntheticSeller:
    """A Walmart seller's catalog, orders, returns, settlements and stock over a trading window, fixed by a seed."""

    def __init__(self, seed: int = 7, start: date = date(2026, 9, 7), days: int = 28):
        if days < 1:
            raise ValueError("days must be at least 1")
        self.seed = seed
        self.start = start
        self.days = days
        self.end = start + timedelta(days=days)
        # The snapshot instant: every status, return and stock figure is as of the window's end.
        self.as_of = datetime.combine(self.end, time(0), UTC)
        self._rng = random.Random(seed)
        config = load_default_config()
        self.facilitator_states: frozenset[str] = frozenset(config.tax.facilitator_states)
        self.seller_remitted_states: frozenset[str] = frozenset(config.tax.seller_remitted_states)
        self.fee_types: dict[str, str] = dict(config.fee_types)

        self._products = _build_catalog()
        self._by_sku = {p.spec.sku: p for p in self._products}
        self.skus: list[SkuSpec] = [p.spec for p in self._products]
        self.ship_nodes: list[str] = list(_NODES)
        self.ship_node_details: dict[str, dict[str, str]] = {k: dict(v) for k, v in _NODES.items()}
        self._states = _build_geo()
        self._state_weights = [s.weight for s in self._states]

        self._used_ids: set[str] = set()
        self._customers: list[_Customer] = []
        self._pos: list[_PO] = []
        self._returns: list[_Return] = []
        self._inbound: list[tuple[date, str, str, int, int]] = []  # sent, sku, node, qty, fee
        self._pending: list[tuple[date, str, str, int]] = []  # arrives, sku, node, qty
        self._restocked: dict[tuple[str, str], int] = {}

        self._setup_stock()
        self._setup_price_promotions()
        self._campaigns = [str(self._rng.randrange(600_000_000, 699_999_999)) for _ in range(2)]
        for offset in range(days):
            day = start + timedelta(days=offset)
            self._receive(day)
            for moment in self._order_times(day):
                self._place_customer_order(moment)
            self._replenish(day)
        self._simulate_returns()

        self._pos.sort(key=lambda po: (po.created, po.po_id))
        self.orders: list[dict] = [self._render_order(po) for po in self._pos]
        self._order_index = {o["purchaseOrderId"]: o for o in self.orders}
        self._order_ms = [o["orderDate"] for o in self.orders]
        self._po_index = {po.po_id: po for po in self._pos}
        self._returns.sort(key=lambda r: (r.created, r.return_id))
        self.returns: list[dict] = [self._render_return(r) for r in self._returns]
        self._return_index = {r.return_id: r for r in self._returns}
        self._returns_by_po: dict[str, list[_Return]] = {}
        for ret in self._returns:
            self._returns_by_po.setdefault(ret.po.po_id, []).append(ret)
        self.settlements: list[Settlement] = self._build_settlements()
        self.inventory, self.inventory_reserved = self._inventory_snapshot()

    # -- public queries -------------------------------------------------------------------------

    def order(self, purchase_order_id: str) -> dict | None:
        """The order object for a purchase order id, as GET /v3/orders/{purchaseOrderId} returns it."""
        return self._order_index.get(purchase_order_id)

    def orders_created_between(self, start: datetime, end: datetime) -> list[dict]:
        """Orders with orderDate in [start, end) (UTC; naive datetimes are taken as UTC), oldest first."""
        lo = bisect.bisect_left(self._order_ms, _ms(_utc(start)))
        hi = bisect.bisect_left(self._order_ms, _ms(_utc(end)))
        return self.orders[lo:hi]

    def order_last_modified(self, po_id: str) -> datetime:
        """When the order last changed (status, cancellation, refund) up to the snapshot, for lastModified filters."""
        po = self._po_index[po_id]
        moments = [po.created]
        if po.ack_at <= self.as_of:
            moments.append(po.ack_at)
        for when in (po.ship_at, po.deliver_at):
            if when is not None and when <= self.as_of:
                moments.append(when)
        for line in po.lines:
            if line.cancelled_by(self.as_of):
                moments.append(line.cancel_at)
            if line.refund is not None and line.refund.refunded_at is not None:
                moments.append(line.refund.refunded_at)
        moments.extend(ret.created for ret in self._returns_by_po.get(po_id, ()))
        return max(moments)

    def return_last_modified(self, return_order_id: str) -> datetime:
        """When the return last changed up to the snapshot, for returnLastModified filters."""
        ret = self._return_index[return_order_id]
        moments = [ret.created]
        if ret.received_at is not None and ret.received_at <= self.as_of:
            moments.append(ret.received_at)
        if ret.refunded_at <= self.as_of:
            moments.append(ret.refunded_at)
        return max(moments)

    def return_refunded_at(self, return_order_id: str) -> datetime | None:
        """When the customer was refunded, or None if the refund is still pending at the snapshot."""
        ret = self._return_index[return_order_id]
        return ret.refunded_at if ret.refunded_at <= self.as_of else None

    def sku_spec(self, sku: str) -> SkuSpec | None:
        """The catalog entry for a SKU."""
        product = self._by_sku.get(sku)
        return product.spec if product else None

    def commission_rate(self, sku: str) -> Decimal:
        """The referral-fee percent Walmart charges on this SKU's category."""
        return self._by_sku[sku].commission_pct

    # -- ids and people -------------------------------------------------------------------------

    def _new_id(self, digits: int) -> str:
        while True:
            value = str(self._rng.randrange(10 ** (digits - 1) * 2, 10**digits))
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value

    def _new_address(self) -> tuple[dict[str, str], _State]:
        rng = self._rng
        state = rng.choices(self._states, weights=self._state_weights)[0]
        city, zip_code = rng.choice(state.cities)
        address = {
            "address1": f"{rng.randrange(10, 9999)} {rng.choice(_STREETS)} {rng.choice(_SUFFIXES)}",
            "city": city,
            "state": state.code,
            "postalCode": zip_code,
        }
        if rng.random() < 0.2:
            address["address2"] = rng.choice(("Apt", "Unit", "Suite")) + f" {rng.randrange(1, 40)}{rng.choice('ABCD')}"
        return address, state

    def _new_customer(self) -> _Customer:
        rng = self._rng
        index = len(self._customers)
        # The first two customers are regulars whose names need OData/SQL escaping downstream.
        if index == 0:
            first, last, weight = "Siobhan", "O'Brien", 8
        elif index == 1:
            first, last, weight = 'Robert "Bobby"', "D'Angelo", 8
        else:
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            if first in _NICKNAMES and rng.random() < 0.25:
                first = f'{first} "{_NICKNAMES[first]}"'
            weight = 4 if rng.random() < 0.1 else 1
        address, _ = self._new_address()
        customer = _Customer(
            email=f"{rng.getrandbits(128):032X}@relay.walmart.com",
            first=first,
            last=last,
            phone=f"{rng.randrange(201, 989)}{rng.randrange(200, 999)}{rng.randrange(0, 9999):04d}",
            address=address,
            weight=weight,
        )
        self._customers.append(customer)
        return customer

    def _pick_customer(self) -> _Customer:
        if self._customers and self._rng.random() < 0.3:
            return self._rng.choices(self._customers, weights=[c.weight for c in self._customers])[0]
        return self._new_customer()

    # -- demand ---------------------------------------------------------------------------------

    def _expected_orders(self, day: date) -> float:
        doy = day.timetuple().tm_yday
        holiday = 0.7 * math.exp(-(((doy - 345) / 55.0) ** 2))  # builds toward mid-December
        growth = 1.0 + 0.01 * ((day - self.start).days / 7.0)
        return _BASE_ORDERS_PER_DAY * _WEEKDAY_FACTOR[day.weekday()] * (0.9 + holiday) * growth

    def _order_times(self, day: date) -> list[datetime]:
        rng = self._rng
        moments = []
        for _ in range(_poisson(rng, self._expected_orders(day))):
            hour = rng.choices(range(24), weights=_HOUR_WEIGHTS)[0]
            moments.append(datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), UTC))
        return sorted(moments)

    def _unit_demand(self, product: _Product) -> float:
        share = product.popularity / sum(p.popularity for p in self._products)
        return _BASE_ORDERS_PER_DAY * 1.6 * 1.3 * share

    def _node_share(self, product: _Product, node: str) -> float:
        if node == _NODE_WFS:
            return 0.5 if product.wfs else 0.0
        sf = 0.5 if product.wfs else 1.0
        if node == _NODE_COLUMBUS:
            return sf * 0.4 if product.east else 0.0
        return sf * (0.6 if product.east else 1.0)

    # -- stock ----------------------------------------------------------------------------------

    def _setup_stock(self) -> None:
        rng = self._rng
        self._free: dict[tuple[str, str], int] = {}
        self._initial: dict[tuple[str, str], int] = {}
        for product in self._products:
            for node in _NODES:
                share = self._node_share(product, node)
                if share == 0:
                    continue
                cover_days = rng.choice((6, 14, 21, 30, 30, 45))
                qty = int(self._unit_demand(product) * share * cover_days) + rng.randrange(0, 6)
                self._free[(product.spec.sku, node)] = qty
                self._initial[(product.spec.sku, node)] = qty

    def _receive(self, day: date) -> None:
        for _, sku, node, qty in [p for p in self._pending if p[0] == day]:
            self._free[(sku, node)] += qty
        self._pending = [p for p in self._pending if p[0] != day]

    def _replenish(self, day: date) -> None:
        rng = self._rng
        for (sku, node), free in sorted(self._free.items()):
            product = self._by_sku[sku]
            daily = self._unit_demand(product) * self._node_share(product, node)
            inbound = sum(p[3] for p in self._pending if p[1] == sku and p[2] == node)
            wfs = node == _NODE_WFS
            if free + inbound >= daily * (16 if wfs else 10) + 3:
                continue
            qty = max(6, int(daily * 30))
            lead = rng.randrange(9, 15) if wfs else rng.randrange(5, 10)
            self._pending.append((day + timedelta(days=lead), sku, node, qty))
            if wfs:
                # Walmart's inbound transportation program bills the carrier leg when the shipment leaves.
                fee = qty * rng.choice((28, 32, 35, 41))
                self._inbound.append((day + timedelta(days=1), sku, node, qty, fee))

    def _inventory_snapshot(self) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
        reserved: dict[tuple[str, str], int] = {}
        for po in self._pos:
            shipped = po.ship_at is not None and po.ship_at <= self.as_of
            for line in po.lines:
                if line.allocated and not shipped and not line.cancelled_by(self.as_of):
                    key = (line.product.spec.sku, po.node)
                    reserved[key] = reserved.get(key, 0) + line.qty
        available: dict[str, dict[str, int]] = {}
        held: dict[str, dict[str, int]] = {}
        for product in self._products:
            sku = product.spec.sku
            for node in _NODES:
                if (sku, node) not in self._free:
                    continue
                available.setdefault(sku, {})[node] = self._free[(sku, node)] + self._restocked.get((sku, node), 0)
                held.setdefault(sku, {})[node] = reserved.get((sku, node), 0)
        return available, held

    # -- prices ---------------------------------------------------------------------------------

    def _setup_price_promotions(self) -> None:
        rng = self._rng
        self._promos: dict[str, tuple[date, date, int]] = {}
        for product in self._products:
            if rng.random() < 0.35:
                length = rng.randrange(4, 9)
                first = self.start + timedelta(days=rng.randrange(0, 26))
                reduced = product.spec.price_cents * rng.choice((80, 85, 90)) // 100
                reduced = reduced - reduced % 10 + 9  # shelf prices end in 9
                if reduced < product.spec.price_cents:
                    self._promos[product.spec.sku] = (first, first + timedelta(days=length), reduced)

    def _price_on(self, product: _Product, day: date) -> int:
        promo = self._promos.get(product.spec.sku)
        if promo and promo[0] <= day < promo[1]:
            return promo[2]
        return product.spec.price_cents

    def _tax_pct(self, state: _State) -> Decimal:
        if state.code in self.facilitator_states or state.code in self.seller_remitted_states:
            return state.rate_pct
        return Decimal(0)

    @staticmethod
    def _ship_rate(product: _Product, method: str) -> int:
        tier = 0 if product.weight_oz <= 16 else 1 if product.weight_oz <= 48 else 2
        return ((399, 599, 899), (899, 1199, 1599))[method == "Express"][tier]

    @staticmethod
    def _wfs_fee(product: _Product) -> int:
        oz = product.weight_oz
        if oz <= 16:
            return 345
        if oz <= 32:
            return 495
        if oz <= 48:
            return 545
        if oz <= 64:
            return 575
        return 575 + 40 * math.ceil((oz - 64) / 16)

    # -- orders ---------------------------------------------------------------------------------

    def _place_customer_order(self, moment: datetime) -> None:
        rng = self._rng
        customer = self._pick_customer()
        address, state = customer.address, None
        if rng.random() < 0.1:  # a gift to someone else
            address, state = self._new_address()
        state = state or next(s for s in self._states if s.code == address["state"])
        n_lines = rng.choices((1, 2, 3, 4, 5), weights=(58, 25, 10, 5, 2))[0]
        products = rng.sample(self._products, k=n_lines) if n_lines > 1 else [
            rng.choices(self._products, weights=[p.popularity for p in self._products])[0]
        ]
        if n_lines > 1:  # popular items lead multi-line baskets too
            products[0] = rng.choices(self._products, weights=[p.popularity for p in self._products])[0]
            products = list(dict.fromkeys(products))
        prefer_wfs = rng.random() < 0.55
        if prefer_wfs and not all(p.wfs for p in products) and rng.random() < 0.7:
            prefer_wfs = False  # most mixed baskets ship together from the seller's warehouse
        groups: dict[str, list[_Product]] = {}
        for product in products:
            channel = "wfs" if prefer_wfs and product.wfs else "sf"
            groups.setdefault(channel, []).append(product)
        customer_order_id = self._new_id(13)
        for channel in sorted(groups):
            group = groups[channel]
            if channel == "wfs":
                node = _NODE_WFS
            elif state.code in _EAST and all(p.east for p in group):
                node = _NODE_COLUMBUS
            else:
                node = _NODE_RENO
            self._make_po(moment, customer, dict(address), state, customer_order_id, node, group)

    def _make_po(self, moment, customer, address, state, customer_order_id, node, products) -> None:
        rng = self._rng
        wfs = node == _NODE_WFS
        if wfs:
            method = rng.choices(("Standard", "Express"), weights=(85, 15))[0]
        else:
            method = rng.choices(("Standard", "Value", "Express"), weights=(70, 18, 12))[0]
        tax_pct = self._tax_pct(state)
        drafts = []
        for product in products:
            qty = rng.choices((1, 2, 3, 4, 6), weights=(80, 12, 5, 2, 1))[0]
            price = self._price_on(product, moment.date())
            discount = _pct_of(price, Decimal(rng.choice((5, 10)))) if rng.random() < 0.06 else 0
            drafts.append((product, qty, price, discount))
        subtotal = sum(q * (p - d) for _, q, p, d in drafts)
        lines = []
        for number, (product, qty, price, discount) in enumerate(drafts, start=1):
            ship = 0
            if not wfs and (method == "Express" or (method == "Standard" and subtotal < 3500)):
                ship = self._ship_rate(product, method)
            lines.append(
                _Line(
                    number=number,
                    product=product,
                    qty=qty,
                    unit_price=price,
                    unit_discount=discount,
                    unit_ship=ship,
                    unit_tax=_pct_of(price, tax_pct),
                    unit_discount_tax=_pct_of(discount, tax_pct),
                    unit_ship_tax=_pct_of(ship, tax_pct) if state.shipping_taxable else 0,
                )
            )
        # Cancellations: out of stock at the node, or the customer / a pricing error.
        for line in lines:
            key = (line.product.spec.sku, node)
            if self._free[key] < line.qty:
                line.cancel_at = moment + timedelta(minutes=rng.randrange(60, 360))
                line.cancel_reason = "SELLER_CANCEL_OUT_OF_STOCK"
                continue
            roll = rng.random()
            cancel_at = moment + timedelta(minutes=rng.randrange(10, 240))
            if roll < 0.025 and cancel_at <= self.as_of:
                line.cancel_at, line.cancel_reason = cancel_at, "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"
            elif roll < 0.032 and cancel_at <= self.as_of:
                line.cancel_at, line.cancel_reason = cancel_at, "SELLER_CANCEL_PRICING_ERROR"
            else:
                line.allocated = True
                self._free[key] -= line.qty
        ack_at = moment + timedelta(minutes=rng.randrange(1, 10) if wfs else rng.randrange(15, 180))
        est_ship_day = moment.date() + timedelta(days=1)
        if est_ship_day.weekday() == 6:
            est_ship_day += timedelta(days=1)
        est_ship = datetime.combine(est_ship_day, time(23, 0), UTC)
        transit = {"Express": 2, "Standard": 2 if wfs else 5, "Value": 7}[method]
        est_delivery = datetime.combine(est_ship_day + timedelta(days=transit), time(23, 0), UTC)
        po = _PO(
            po_id=self._new_id(13),
            customer_order_id=customer_order_id,
            customer=customer,
            address=address,
            state=state,
            created=moment,
            node=node,
            method_code=method,
            lines=lines,
            ack_at=ack_at,
            est_ship=est_ship,
            est_delivery=est_delivery,
        )
        if any(line.allocated for line in lines):
            if wfs:
                ship_at = moment + timedelta(minutes=rng.randrange(6 * 60, 30 * 60))
                carrier = rng.choices(("FedEx", "UPS", "USPS"), weights=(50, 30, 20))[0]
            else:
                ship_day = est_ship_day if rng.random() < 0.85 else est_ship_day + timedelta(days=1)
                ship_at = datetime.combine(ship_day, time(rng.randrange(17, 24), rng.randrange(60)), UTC)
                carrier = rng.choices(("USPS", "UPS", "FedEx"), weights=(55, 25, 20))[0]
            days_in_transit = max(1, transit + rng.choice((-1, 0, 0, 1)))
            po.ship_at = ship_at
            po.deliver_at = ship_at + timedelta(days=days_in_transit, hours=rng.randrange(0, 8))
            po.carrier = carrier
            po.tracking = self._tracking_number(carrier)
            if not wfs and rng.random() < 0.6:  # label bought through Walmart's Ship with Walmart
                oz = sum(line.qty * line.product.weight_oz for line in lines if line.allocated)
                tier = 0 if oz <= 16 else 1 if oz <= 48 else 2 if oz <= 160 else 3
                po.label_fee = rng.randrange(*((430, 520), (720, 910), (1080, 1420), (1790, 2460))[tier])
        self._pos.append(po)

    def _tracking_number(self, carrier: str) -> str:
        rng = self._rng
        if carrier == "USPS":
            return "9400" + "".join(str(rng.randrange(10)) for _ in range(18))
        if carrier == "UPS":
            return "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
        return "".join(str(rng.randrange(10)) for _ in range(12))

    # -- returns --------------------------------------------------------------------------------

    def _simulate_returns(self) -> None:
        rng = self._rng
        weights = [r[2] for r in _RETURN_REASONS]
        for po in self._pos:
            if po.deliver_at is None or po.deliver_at > self.as_of:
                continue
            chosen = [ln for ln in po.lines if ln.allocated and not ln.cancelled_by(self.as_of) and rng.random() < 0.12]
            if not chosen:
                continue
            created = po.deliver_at + timedelta(days=rng.choice((1, 2, 3, 4, 5, 6, 8, 10, 14, 21)),
                                                minutes=rng.randrange(0, 24 * 60))
            if created > self.as_of:
                continue
            keep_it = all(ln.unit_price < 1500 for ln in chosen) and rng.random() < 0.4
            if keep_it:
                received_at = None
                refunded_at = created + timedelta(minutes=rng.randrange(20, 240))
            else:
                received_at = created + timedelta(days=rng.randrange(3, 9), minutes=rng.randrange(0, 600))
                refunded_at = received_at + timedelta(minutes=rng.randrange(30, 30 * 60))
            return_id = self._new_id(18)
            refunded = refunded_at <= self.as_of
            for line in chosen:
                code, reason, _, seller_fault = rng.choices(_RETURN_REASONS, weights=weights)[0]
                qty = rng.randrange(1, line.qty) if line.qty > 1 and rng.random() < 0.65 else line.qty
                refund_shipping = seller_fault and qty == line.qty
                line.return_id = return_id
                line.refund = _RefundAmounts(
                    qty=qty,
                    product_gross=qty * line.unit_price,
                    discount=qty * line.unit_discount,
                    product_tax=qty * (line.unit_tax - line.unit_discount_tax),
                    shipping=qty * line.unit_ship if refund_shipping else 0,
                    shipping_tax=qty * line.unit_ship_tax if refund_shipping else 0,
                    reason_code=code,
                    refund_reason=reason,
                    refund_id=self._new_id(10),
                    refunded_at=refunded_at if refunded else None,
                )
                if received_at is not None and received_at <= self.as_of and not seller_fault:
                    key = (line.product.spec.sku, po.node)
                    self._restocked[key] = self._restocked.get(key, 0) + qty
            channel = rng.choices(("ONLINE", "IN_STORE"), weights=(85, 15))[0]
            self._returns.append(_Return(return_id, po, chosen, created, received_at, refunded_at, keep_it, channel))

    # -- rendering: orders ----------------------------------------------------------------------

    def _line_status(self, po: _PO, line: _Line) -> tuple[str, datetime]:
        if line.cancelled_by(self.as_of):
            return "Cancelled", line.cancel_at
        if line.allocated and po.deliver_at is not None and po.deliver_at <= self.as_of:
            return "Delivered", po.deliver_at
        if line.allocated and po.ship_at is not None and po.ship_at <= self.as_of:
            return "Shipped", po.ship_at
        if po.ack_at <= self.as_of:
            return "Acknowledged", po.ack_at
        return "Created", po.created

    def _render_charges(self, line: _Line, status: str) -> list[dict]:
        if status == "Cancelled":
            # Walmart zeroes the charges of a cancelled line (see the official order examples).
            return [{"chargeType": "PRODUCT", "chargeName": "ItemPrice", "chargeAmount": _money(0),
                     "tax": {"taxName": "Tax1", "taxAmount": _money(0)}}]
        charges = [{
            "chargeType": "PRODUCT",
            "chargeName": "ItemPrice",
            "chargeAmount": _money(line.qty * line.unit_price),
            "tax": {"taxName": "Tax1", "taxAmount": _money(line.qty * line.unit_tax)},
        }]
        if line.unit_discount:
            charges.append({
                "chargeType": "PRODUCT",
                "chargeName": DISCOUNT_CHARGE_NAME,
                "chargeAmount": _money(-line.qty * line.unit_discount),
                "tax": {"taxName": "Tax1", "taxAmount": _money(-line.qty * line.unit_discount_tax)},
            })
        if line.unit_ship:
            charge = {"chargeType": "SHIPPING", "chargeName": "Shipping",
                      "chargeAmount": _money(line.qty * line.unit_ship)}
            if line.unit_ship_tax:
                charge["tax"] = {"taxName": "Tax2", "taxAmount": _money(line.qty * line.unit_ship_tax)}
            charges.append(charge)
        return charges

    def _render_order(self, po: _PO) -> dict:
        customer = po.customer
        postal = {"name": f"{customer.first} {customer.last}", "address1": po.address["address1"]}
        if "address2" in po.address:
            postal["address2"] = po.address["address2"]
        postal.update(city=po.address["city"], state=po.address["state"], postalCode=po.address["postalCode"],
                      country="USA", addressType="RESIDENTIAL")
        ship_method = {"Standard": "STANDARD", "Express": "EXPEDITED", "Value": "VALUE"}[po.method_code]
        lines = []
        for line in po.lines:
            status, status_at = self._line_status(po, line)
            qty = {"unitOfMeasurement": "EACH", "amount": str(line.qty)}
            entry: dict = {"status": status, "statusQuantity": dict(qty)}
            if status == "Cancelled":
                entry["cancellationReason"] = line.cancel_reason
            if status in ("Shipped", "Delivered"):
                entry["trackingInfo"] = {
                    "shipDateTime": _ms(po.ship_at),
                    "carrierName": {"carrier": po.carrier},
                    "methodCode": po.method_code,
                    "trackingNumber": po.tracking,
                    "trackingURL": f"https://www.walmart.com/tracking?tracking_id={po.tracking}&order_id={po.po_id}",
                }
            fulfillment = {"fulfillmentOption": "S2H", "shipMethod": ship_method,
                           "pickUpDateTime": _ms(po.est_delivery)}
            if po.wfs:
                fulfillment["shippingProgramType"] = "TWO_DAY" if po.method_code == "Standard" else "ONE_DAY"
            rendered = {
                "lineNumber": str(line.number),
                "item": {"productName": line.product.spec.name, "sku": line.product.spec.sku},
                "charges": {"charge": self._render_charges(line, status)},
                "orderLineQuantity": qty,
                "statusDate": _ms(status_at),
                "orderLineStatuses": {"orderLineStatus": [entry]},
                "fulfillment": fulfillment,
            }
            refund = line.refund
            if refund is not None and refund.refunded_at is not None:
                rendered["statusDate"] = _ms(max(status_at, refund.refunded_at))
                rendered["returnOrderId"] = line.return_id
                refund_charges = [{
                    "refundReason": refund.refund_reason,
                    "charge": {
                        "chargeType": "PRODUCT",
                        "chargeName": "ItemPrice",
                        "chargeAmount": _money(-refund.product_net),
                        "tax": {"taxName": "Tax1", "taxAmount": _money(-refund.product_tax)},
                    },
                }]
                if refund.shipping:
                    charge = {"chargeType": "SHIPPING", "chargeName": "Shipping",
                              "chargeAmount": _money(-refund.shipping)}
                    if refund.shipping_tax:
                        charge["tax"] = {"taxName": "Tax2", "taxAmount": _money(-refund.shipping_tax)}
                    refund_charges.append({"refundReason": refund.refund_reason, "charge": charge})
                rendered["refund"] = {
                    "refundId": refund.refund_id,
                    "refundComments": f"Refund for return {line.return_id}",
                    "refundCharges": {"refundCharge": refund_charges},
                }
            elif line.return_id is not None:
                rendered["returnOrderId"] = line.return_id
            lines.append(rendered)
        return {
            "purchaseOrderId": po.po_id,
            "customerOrderId": po.customer_order_id,
            "customerEmailId": customer.email,
            "orderType": "REGULAR",
            "orderDate": _ms(po.created),
            "shippingInfo": {
                "phone": customer.phone,
                "estimatedDeliveryDate": _ms(po.est_delivery),
                "estimatedShipDate": _ms(po.est_ship),
                "methodCode": po.method_code,
                "postalAddress": postal,
            },
            "orderLines": {"orderLine": lines},
            "shipNode": {"type": _NODES[po.node]["type"], "name": _NODES[po.node]["name"], "id": po.node},
        }

    # -- rendering: returns ---------------------------------------------------------------------

    def _render_return(self, ret: _Return) -> dict:
        rng = self._rng
        po, as_of = ret.po, self.as_of
        refunded = ret.refunded_at <= as_of
        received = ret.received_at is not None and ret.received_at <= as_of
        if refunded:
            status, status_at, refund_status = "COMPLETED", ret.refunded_at, "REFUND_COMPLETED"
        elif received:
            status, status_at, refund_status = "DELIVERED", ret.received_at, "REFUND_PENDING"
        else:
            status, status_at, refund_status = "INITIATED", ret.created, "REFUND_PENDING"
        if ret.keep_it:
            delivery_status = "NOT_APPLICABLE"
        elif received:
            delivery_status = "DELIVERED"
        elif ret.created + timedelta(days=1) <= as_of:
            delivery_status = "IN_TRANSIT"
        else:
            delivery_status = "NOT_SHIPPED"
        events = [("RETURN_INITIATED", "Return initiated for MARKET_PLACE", ret.created)]
        if not ret.keep_it and ret.created + timedelta(days=1) <= as_of:
            events.append(("RETURN_IN_TRANSIT", "A MARKET_PLACE Return in Transit", ret.created + timedelta(days=1)))
        if received:
            events.append(("RETURN_RECEIVED", "Return received at return center", ret.received_at))
        if refunded:
            events.append(("REFUND_COMPLETED", "Refund issued to customer", ret.refunded_at))
        tracking = [
            {"sequenceNo": i, "eventTag": tag, "eventDescription": text, "eventTime": _iso(when),
             "references": [{"name": "ReturnDate", "value": _iso(ret.created)}]}
            for i, (tag, text, when) in enumerate(events)
        ]
        total = 0
        out_lines = []
        for number, line in enumerate(ret.lines, start=1):
            refund = line.refund
            k = refund.qty
            total += refund.total
            charges = [{
                "chargeCategory": "PRODUCT", "chargeName": "ItemPrice", "chargePerUnit": _rmoney(line.unit_price),
                "isDiscount": False, "isBillable": True, "tax": _return_tax("Tax1", line.unit_tax),
                "excessCharge": _rmoney(0),
                "references": [{"name": "isAdjustment", "value": "false"}],
            }]
            if line.unit_discount:
                charges.append({
                    "chargeCategory": "PRODUCT", "chargeName": DISCOUNT_CHARGE_NAME,
                    "chargePerUnit": _rmoney(line.unit_discount), "isDiscount": True, "isBillable": True,
                    "tax": _return_tax("Tax1", line.unit_discount_tax), "excessCharge": _rmoney(0),
                    "references": [{"name": "isAdjustment", "value": "false"}],
                })
            if refund.shipping:
                charges.append({
                    "chargeCategory": "SHIPPING", "chargeName": "Shipping", "chargePerUnit": _rmoney(line.unit_ship),
                    "isDiscount": False, "isBillable": True,
                    "tax": _return_tax("Tax2", line.unit_ship_tax),
                    "excessCharge": _rmoney(0), "references": [{"name": "isAdjustment", "value": "false"}],
                })
            taxes = refund.product_tax + refund.shipping_tax
            subtotal = refund.product_net + refund.shipping
            quantity = {"unitOfMeasure": "EACH", "measurementValue": k}
            out_lines.append({
                "returnOrderLineNumber": number,
                "salesOrderLineNumber": line.number,
                "returnReason": refund.reason_code,
                "purchaseOrderId": po.po_id,
                "purchaseOrderLineNumber": line.number,
                "isReturnForException": False,
                "item": {"sku": line.product.spec.sku, "productName": line.product.spec.name},
                "charges": charges,
                "unitPrice": _rmoney(line.unit_price),
                "chargeTotals": [
                    {"name": "lineUnitPrice", "value": _rmoney(line.unit_price)},
                    {"name": "lineProductTaxes", "value": _rmoney(refund.product_tax)},
                    {"name": "lineTotalTaxes", "value": _rmoney(taxes)},
                    {"name": "lineSubTotal", "value": _rmoney(subtotal)},
                    {"name": "lineTotal", "value": _rmoney(subtotal + taxes)},
                ],
                "currentDeliveryStatus": delivery_status,
                "currentRefundStatus": refund_status,
                "currentTrackingStatuses": [{"status": status, "statusTime": _iso(status_at),
                                             "currentRefundStatus": refund_status, "quantity": dict(quantity)}],
                "refundChannels": [{"refundChannelName": ret.channel, "quantity": {"measurementValue": k}}],
                "cancellableQty": 0,
                "quantity": quantity,
                "returnExpectedFlag": not ret.keep_it,
                "isFastReplacement": False,
                "isKeepIt": ret.keep_it,
                "lastItem": k == line.qty,
                "refundedQty": k if refunded else 0,
                "rechargeableQty": 0,
                "refundChannel": "WALMART_SETTLED_REFUND" if po.wfs else "SELLER_AUTO_REFUND",
                "returnTrackingDetail": tracking,
                "status": status,
                "statusTime": _iso(status_at),
            })
        group: dict = {
            "groupNo": 1,
            "returnLines": [{"returnOrderLineNumber": n} for n in range(1, len(out_lines) + 1)],
            "returnExpectedFlag": not ret.keep_it,
        }
        if not ret.keep_it and ret.channel == "ONLINE":  # in-store returns need no mailing label
            label_no = "".join(str(rng.randrange(10)) for _ in range(12))
            group["labels"] = [{
                "labelImageURL": f"https://i5.walmartimages.com/asr/{rng.getrandbits(64):016x}_1.png",
                "carrierInfoList": [{"carrierId": "11", "carrierName": "FEDEX", "serviceType": "FedEx Ground",
                                     "trackingNo": label_no}],
            }]
        return {
            "returnOrderId": ret.return_id,
            "customerEmailId": po.customer.email,
            "customerName": {"firstName": po.customer.first, "lastName": po.customer.last},
            "customerOrderId": po.customer_order_id,
            "refundMode": "POST_DELIVERY",
            "returnOrderDate": _iso(ret.created),
            "returnByDate": _iso(ret.created + timedelta(days=30)),
            "returnType": "REFUND",
            "totalRefundAmount": _rmoney(total),
            "returnLineGroups": [group],
            "returnOrderLines": out_lines,
            "returnChannel": {"channelName": ret.channel},
        }

    # -- settlements ----------------------------------------------------------------------------

    def _periods(self) -> list[tuple[date, date]]:
        # Walmart's cycles close on alternate Fridays; the first one gives the seller a week of sales.
        first = self.start + timedelta(days=6)
        first_end = first + timedelta(days=(4 - first.weekday()) % 7)
        periods = []
        end = first_end
        while end < self.end:  # closed (and reported) by the snapshot
            periods.append((end - timedelta(days=13), end))
            end += timedelta(days=14)
        return periods

    def _line_columns(self, po: _PO, line: _Line, qty: int) -> dict[str, str]:
        product = line.product
        return {
            "Customer Order #": po.customer_order_id,
            "Customer Order line #": str(line.number),
            "Purchase Order #": po.po_id,
            "Purchase Order line #": str(line.number),
            "Ship Qty": str(qty),
            "Commission Rate": str(product.commission_pct),
            "Partner Item Id": product.spec.sku,
            "Partner GTIN": product.spec.gtin,
            "Partner Item Name": product.spec.name,
            "Product Tax Code": product.spec.product_tax_code,
            "Ship to State": po.address["state"],
            "Ship to City": po.address["city"],
            "Ship to Zipcode": po.address["postalCode"],
            "Contract Category": product.category,
            "Product Type": product.product_type,
            "Commission Rule": "Category Referral Fee",
            "Shipping Method": po.method_code,
            "Fulfillment Type": WFS_FULFILLED if po.wfs else SELLER_FULFILLED,
        }

    def _money_rows(self, base: dict[str, str], entries: list[tuple[str, int, dict[str, str]]]) -> list[dict[str, str]]:
        rows = []
        for amount_type, cents, extra in entries:
            if cents == 0:
                continue
            row = dict.fromkeys(RECON_V1_COLUMNS, "")
            row.update(base)
            row.update({"Currency": CURRENCY, "Amount": _amount(cents), "Amount Type": amount_type})
            row.update(extra)
            rows.append(row)
        return rows

    def _sale_txn(self, po: _PO, line: _Line) -> _Txn:
        facilitator = po.state.code in self.facilitator_states
        pct = line.product.commission_pct
        product_net = line.qty * (line.unit_price - line.unit_discount)
        tax = line.qty * (line.unit_tax - line.unit_discount_tax)
        ship, ship_tax = line.qty * line.unit_ship, line.qty * line.unit_ship_tax
        commission, ship_commission = _pct_of(product_net, pct), _pct_of(ship, pct)
        base = self._line_columns(po, line, line.qty)
        base.update({"Transaction Posted Timestamp": _mdy(po.ship_at.date()), "Transaction Type": "Sale",
                     "Transaction Description": "Purchase"})
        commission_cols = {"Original Commission": _amount(-commission), "Commission Saving": "0.00"}
        entries = [
            (PRODUCT_PRICE, line.qty * line.unit_price, {}),
            (PRODUCT_PRICE, -line.qty * line.unit_discount, {"Customer Promo Type": DISCOUNT_CHARGE_NAME}),
            (PRODUCT_TAX, tax, {}),
            (PRODUCT_TAX_WITHHELD, -tax if facilitator else 0, {}),
            (SHIPPING_PRICE, ship, {}),
            (SHIPPING_TAX, ship_tax, {}),
            (SHIPPING_TAX_WITHHELD, -ship_tax if facilitator else 0, {}),
            (COMMISSION_ON_PRODUCT, -commission, commission_cols),
            (COMMISSION_ON_SHIPPING, -ship_commission,
             {"Original Commission": _amount(-ship_commission), "Commission Saving": "0.00"}),
        ]
        return _Txn(po.ship_at.date(), (po.ship_at, po.po_id, line.number, 0), self._money_rows(base, entries))

    def _refund_txn(self, po: _PO, line: _Line) -> _Txn:
        refund = line.refund
        facilitator = po.state.code in self.facilitator_states
        pct = line.product.commission_pct
        when = refund.refunded_at
        base = self._line_columns(po, line, refund.qty)
        base.update({"Transaction Posted Timestamp": _mdy(when.date()), "Transaction Type": "Refund",
                     "Transaction Description": "Return Refund",
                     "Transaction Reason Description": refund.refund_reason})
        commission, ship_commission = _pct_of(refund.product_net, pct), _pct_of(refund.shipping, pct)
        entries = [
            (PRODUCT_PRICE, -refund.product_gross, {}),
            (PRODUCT_PRICE, refund.discount, {"Customer Promo Type": DISCOUNT_CHARGE_NAME}),
            (PRODUCT_TAX, -refund.product_tax, {}),
            (PRODUCT_TAX_WITHHELD, refund.product_tax if facilitator else 0, {}),
            (SHIPPING_PRICE, -refund.shipping, {}),
            (SHIPPING_TAX, -refund.shipping_tax, {}),
            (SHIPPING_TAX_WITHHELD, refund.shipping_tax if facilitator else 0, {}),
            (COMMISSION_ON_PRODUCT, commission,
             {"Original Commission": _amount(commission), "Commission Saving": "0.00"}),
            (COMMISSION_ON_SHIPPING, ship_commission,
             {"Original Commission": _amount(ship_commission), "Commission Saving": "0.00"}),
        ]
        return _Txn(when.date(), (when, po.po_id, line.number, 1), self._money_rows(base, entries))

    def _fee_txn(self, posted: date, order: tuple, txn_type: str, description: str, amount_type: str, cents: int,
                 **columns: str) -> _Txn:
        base = {"Transaction Posted Timestamp": _mdy(posted), "Transaction Type": txn_type,
                "Transaction Description": description}
        base.update(columns)
        return _Txn(posted, order, self._money_rows(base, [(amount_type, cents, {})]))

    def _transactions(self) -> list[_Txn]:
        rng = random.Random(f"{self.seed}-settlement-fees")
        txns: list[_Txn] = []
        for po in self._pos:
            shipped = po.ship_at is not None and po.ship_at <= self.as_of
            for line in po.lines:
                if shipped and line.allocated and not line.cancelled_by(self.as_of):
                    txns.append(self._sale_txn(po, line))
                    if po.wfs:
                        cols = self._line_columns(po, line, line.qty)
                        cols = {k: v for k, v in cols.items() if k not in ("Commission Rate", "Commission Rule")}
                        txns.append(self._fee_txn(po.ship_at.date(), (po.ship_at, po.po_id, line.number, 2),
                                                  "Adjustment", "WFS Fulfillment Fee", "WFS Fee/Reimbursement",
                                                  -self._wfs_fee(line.product) * line.qty, **cols))
                refund = line.refund
                if refund is not None and refund.refunded_at is not None:
                    txns.append(self._refund_txn(po, line))
                    if po.wfs and refund.reason_code not in {r[0] for r in _RETURN_REASONS if r[3]}:
                        cols = self._line_columns(po, line, refund.qty)
                        cols = {k: v for k, v in cols.items() if k not in ("Commission Rate", "Commission Rule")}
                        fee = 350 if line.product.weight_oz <= 16 else 525 if line.product.weight_oz <= 64 else 790
                        txns.append(self._fee_txn(refund.refunded_at.date(),
                                                  (refund.refunded_at, po.po_id, line.number, 3), "Adjustment",
                                                  "WFS Return Shipping Fee", "WFS Fee/Reimbursement", -fee * refund.qty,
                                                  **cols))
            if shipped and po.label_fee:
                txns.append(self._fee_txn(
                    po.ship_at.date(), (po.ship_at, po.po_id, 99, 4), "Adjustment",
                    "Walmart Shipping Label Service Charge", "Fee/Reimbursement", -po.label_fee,
                    **{"Customer Order #": po.customer_order_id, "Purchase Order #": po.po_id,
                       "Ship to State": po.address["state"], "Ship to City": po.address["city"],
                       "Ship to Zipcode": po.address["postalCode"], "Shipping Method": po.method_code,
                       "Fulfillment Type": SELLER_FULFILLED},
                ))
        for sent, sku, node, qty, fee in self._inbound:
            product = self._by_sku[sku]
            moment = datetime.combine(sent, time(12), UTC)
            if moment <= self.as_of:
                txns.append(self._fee_txn(sent, (moment, "", 0, 5), "Service Fee", "WFS Inbound Transportation Fee",
                                          "WFS Inventory Fee/Reimbursement", -fee,
                                          **{"Partner Item Id": sku, "Partner GTIN": product.spec.gtin,
                                             "Partner Item Name": product.spec.name, "Ship Qty": str(qty),
                                             "Fulfillment Type": WFS_FULFILLED}))
        for index, (start, end) in enumerate(self._periods()):
            late = datetime.combine(end, time(20), UTC)
            storage = 0
            for (sku, node), qty in sorted(self._initial.items()):
                if node == _NODE_WFS:
                    # $0.75 per cubic foot per month, for half a month.
                    storage += qty * self._by_sku[sku].cuft_x100 * 75 // 200 // 100
            txns.append(self._fee_txn(end, (late, "", 0, 6), "Service Fee", "WFS Storage Fee",
                                      "WFS Inventory Fee/Reimbursement", -max(storage, 100),
                                      **{"Fulfillment Type": WFS_FULFILLED}))
            for campaign in self._campaigns:
                txns.append(self._fee_txn(end, (late, campaign, 0, 7), "Service Fee", "Walmart Product Advertising",
                                          "SEM Marketing Fee", -rng.randrange(8000, 26000),
                                          **{"Campaign Id": campaign}))
            if index == 0:
                product = self._products[rng.randrange(len(self._products))]
                txns.append(self._fee_txn(end, (late, "", 0, 8), "Service Fee", "Review Accelerator",
                                          "Review Accelerator Fee", -500 * rng.randrange(2, 6),
                                          **{"Partner Item Id": product.spec.sku, "Partner GTIN": product.spec.gtin,
                                             "Partner Item Name": product.spec.name}))
            if rng.random() < 0.5:
                wfs_products = [p for p in self._products if p.wfs]
                product = wfs_products[rng.randrange(len(wfs_products))]
                units = rng.randrange(1, 4)
                txns.append(self._fee_txn(end, (late, "", 0, 9), "Adjustment", "WFS LostInventory",
                                          "WFS Fee/Reimbursement", units * product.spec.cost_cents,
                                          **{"Partner Item Id": product.spec.sku, "Partner GTIN": product.spec.gtin,
                                             "Partner Item Name": product.spec.name, "Ship Qty": str(units),
                                             "Fulfillment Type": WFS_FULFILLED}))
        return txns

    def _build_settlements(self) -> list[Settlement]:
        periods = self._periods()
        if not periods:
            return []
        txns = self._transactions()
        settlements = []
        reserve = 0
        for index, (start, end) in enumerate(periods):
            chosen = sorted((t for t in txns if start <= t.posted <= end and t.rows), key=lambda t: t.sort_key)
            late = datetime.combine(end, time(23), UTC)
            if index == 0:
                sales = sum(
                    int(Decimal(r["Amount"]) * 100) for t in chosen for r in t.rows
                    if r["Transaction Type"] == "Sale" and r["Amount Type"] == PRODUCT_PRICE
                )
                # Walmart holds back a reserve against future refunds in a new seller's first cycle.
                reserve = max(5000, sales * 3 // 100 // 100 * 100)
                chosen.append(self._fee_txn(end, (late, "", 0, 10), "Reserve", "Funds withheld to cover future refunds",
                                            "", -reserve))
            elif index == 1:
                chosen.append(self._fee_txn(end, (late, "", 0, 10), "Release Reserve", "Reserve credited back",
                                            "", reserve))
            detail = []
            for number, txn in enumerate(chosen, start=1):
                key = f"{end:%Y_%m_%d}_{number}"
                for row in txn.rows:
                    row["Transaction Key"] = key
                    detail.append(row)
            total = sum(int(Decimal(r["Amount"]).scaleb(2)) for r in detail)
            report_day = end + timedelta(days=1)
            summary = dict.fromkeys(RECON_V1_COLUMNS, "")
            summary.update({
                "Period Start Date": _mdy(start),
                "Period End Date": _mdy(end),
                "Total Payable": _amount(total),
                "Currency": CURRENCY,
                "Transaction Posted Timestamp": _mdy(report_day),
                "Transaction Type": "PaymentSummary",
                "Transaction Description": "Deposited in Payoneer account",
            })
            report_date = report_day.strftime("%m%d%Y")
            settlements.append(Settlement(report_date, start, end, report_date, total, [summary] + detail))
        return settlements


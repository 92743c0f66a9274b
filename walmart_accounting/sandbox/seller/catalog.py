"""What the seller sells: SKUs with valid GTINs, categories with their commission and tax codes, the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class SkuSpec:
    """One catalog item as the seller lists it on Walmart."""

    sku: str
    name: str
    gtin: str
    price_cents: int
    cost_cents: int
    product_tax_code: str


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

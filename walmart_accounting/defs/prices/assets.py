"""`walmart_prices`: the wanted prices against Walmart's, sent as bulk price feeds, each feed followed to its end."""

from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd

from walmart_accounting.defs.dead_letters import keep_rejects
from walmart_accounting.defs.feeds import FEEDS_SUCCEEDED, feed_results_table, feeds_check, push_feeds
from walmart_accounting.defs.pools import WALMART_POOL
from walmart_accounting.defs.reports import column_schema_of
from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.transform.prices import price_changes, price_feeds, read_price_file
from walmart_accounting.transform.validation import REJECT_COLUMNS

PRICES_SOURCE = "walmart_prices"
NO_CHANGES = pd.DataFrame({"sku": pd.Series(dtype=object), "walmart_cents": pd.Series(dtype="int64"),
                           "price_cents": pd.Series(dtype="int64")})


def _cents(value) -> int | None:
    return None if value is None else int(Decimal(str(value)).scaleb(2).to_integral_value())


def wanted_prices(config: MappingConfig, ledger_items=None) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """(sku, price_cents) from the configured source, and what it refused.

    `ledger_items` are (item code, sales price) of the ledger's items; the item code is the SKU.
    """
    if config.prices.source == "file":
        return read_price_file(Path(config.prices.file).read_text(encoding="utf-8"))
    rows = [(str(code).strip(), _cents(price)) for code, price in ledger_items or []]
    refused = [(code, f"the {config.prices.ledger} item has no sales price") for code, cents in rows if not cents]
    return pd.DataFrame([r for r in rows if r[1]], columns=["sku", "price_cents"]), refused


def ledger_prices(context, config: MappingConfig) -> list[tuple[str, object]]:
    """(item code, sales price) of every item of the price ledger: Exact's StandardSalesPrice, Xero's SalesDetails."""
    resource = getattr(context.resources, config.prices.ledger)
    client = resource.client(context.resources.store.get())
    if config.prices.ledger == "xero":
        return [(i["Code"], (i.get("SalesDetails") or {}).get("UnitPrice")) for i in client.get("Items") if i.get("Code")]
    return [(i["Code"], i.get("StandardSalesPrice"))
            for i in client.query("logistics/Items", select=["Code", "StandardSalesPrice"])]


def prices_asset(ledger: str | None) -> dg.AssetsDefinition:
    """`walmart_prices`; it needs the ledger's resource only when the prices come from that ledger."""

    @dg.asset(
        name=PRICES_SOURCE, group_name="prices", kinds={"pandas", "walmart"}, owners=["team:finance"],
        tags={"domain": "prices"}, pool=WALMART_POOL,
        metadata=column_schema_of({"sku": "string", "walmart_cents": "int64", "price_cents": "int64"}),
        description="The prices of `prices.source` (a price file or the ledger items' sales prices) that differ from "
                    "Walmart's, sent in as few bulk price feeds as Walmart's limits allow (never single-item "
                    "updates); each feed is polled to its end and every SKU it refused is dead-lettered with "
                    "Walmart's message.",
        check_specs=[dg.AssetCheckSpec(FEEDS_SUCCEEDED, asset=PRICES_SOURCE,
                                       description="Every price feed of the run was processed and took every SKU; "
                                                   "the SKUs Walmart refused are named with its message.")],
        required_resource_keys={"walmart", "store", "mapping", *([ledger] if ledger else [])},
    )
    def walmart_prices(context: dg.AssetExecutionContext):
        config = context.resources.mapping.load()
        store = context.resources.store.get()
        client = context.resources.walmart.client()
        items = ledger_prices(context, config) if config.prices.source == "ledger" else None
        wanted, refused = wanted_prices(config, items)
        current = pd.DataFrame([(i["sku"], _cents((i.get("price") or {}).get("amount"))) for i in client.iter_items()
                                if (i.get("price") or {}).get("amount") is not None], columns=["sku", "price_cents"])
        changes, unknown = price_changes(wanted, current, config) if len(wanted) else (NO_CHANGES, [])
        feeds = price_feeds(changes, config.seller.currency, config.prices.items_per_feed)
        outcomes, failed = push_feeds(client, feeds, context.resources.walmart.feed_poll_seconds)
        rejects = pd.DataFrame([(sku, reason, {"sku": sku}) for sku, reason in [*refused, *unknown, *failed]],
                               columns=REJECT_COLUMNS)
        bad = {sku for sku, _ in failed}
        meta = keep_rejects(context, store, PRICES_SOURCE, rejects, set(changes["sku"]) - bad)
        yield dg.Output(changes.astype({"walmart_cents": "int64", "price_cents": "int64"}), metadata={
            "changes": len(changes), "feeds": len(feeds), "failed_skus": len(bad),
            "feed_results": dg.MetadataValue.md(feed_results_table(outcomes)),
            "walmart_api_calls": client.calls, **meta})
        yield feeds_check(FEEDS_SUCCEEDED, outcomes, failed)

    return walmart_prices

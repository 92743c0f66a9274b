"""The Dagster code location: merges each domain's definitions, built on demand, and binds resources to the environment."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Callable

import dagster as dg

from walmart_accounting.defs.alerts import AlertResource, alert_sensors
from walmart_accounting.defs.configuration.definitions import configuration_definitions
from walmart_accounting.defs.executors import executor_from_env
from walmart_accounting.defs.io import FrameIOManager
from walmart_accounting.defs.ledgers.factory import ledger_definitions
from walmart_accounting.defs.ledgers.resources import LEDGERS
from walmart_accounting.defs.orders.definitions import order_loop_definitions
from walmart_accounting.defs.prices.definitions import price_definitions
from walmart_accounting.defs.reports.assets import daily_sales_asset
from walmart_accounting.defs.reports.health import health_definitions
from walmart_accounting.defs.reports.resources import ReportsResource
from walmart_accounting.defs.resources import MappingResource, StoreResource, WalmartResource
from walmart_accounting.defs.stock.definitions import stock_definitions
from walmart_accounting.defs.walmart.definitions import walmart_definitions
from walmart_accounting.defs.walmart.partitions import START_DATE_ENV_VAR, WalmartPartitions
from walmart_accounting.domain.config import ConfigError, MappingConfig, load_config


def start_date(config: MappingConfig) -> date:
    """The deployment's first booked day: $WALMART_ACCOUNTING_START_DATE, else `seller.start_date` in the mapping."""
    configured = os.environ.get(START_DATE_ENV_VAR)
    if configured:
        try:
            return date.fromisoformat(configured)
        except ValueError:
            raise ConfigError(START_DATE_ENV_VAR, [f"{START_DATE_ENV_VAR}: expected YYYY-MM-DD (got {configured!r})"]) from None
    if config.seller.start_date is None:
        raise ConfigError(START_DATE_ENV_VAR, [
            f"no start date: set seller.start_date in the mapping file or {START_DATE_ENV_VAR} (YYYY-MM-DD), the first "
            "day this deployment books; the partitions start there and must not move (Walmart serves 180 days of orders)"])
    return config.seller.start_date


def build_defs(config: MappingConfig | None = None, start: date | None = None,
               now: Callable[[], datetime] | None = None) -> dg.Definitions:
    """The whole code location for a mapping (default: the file in force) and a start date (default: configured).

    The posting mode of each ledger decides which document assets exist; a bad mapping file stops the code
    location from loading, with the error naming the key. `now` is the sensors' clock (the wall clock unless
    a simulation moves time).
    """
    now = now or (lambda: datetime.now(UTC))
    config = config or load_config()
    partitions = WalmartPartitions(start or start_date(config))
    walmart, walmart_assets = walmart_definitions(partitions, now)
    ledgers = config.enabled_ledgers()
    unknown = sorted(set(ledgers) - set(LEDGERS))
    if unknown:
        raise ConfigError("ledgers", [f"ledgers.{name}: no ledger resource for it (known: {', '.join(LEDGERS)})"
                                      for name in unknown])
    merged = dg.Definitions.merge(
        configuration_definitions(),
        walmart,
        *[ledger_definitions(name, settings, walmart_assets, partitions, now) for name, settings in ledgers.items()],
        health_definitions(list(ledgers), now),
        # Stock is synced once the mapping names SKUs for it: counted into Exact, or pushed to Walmart from
        # stock.ledger (Xero can only be a source).
        *([stock_definitions(walmart_assets, partitions, config)] if config.stock.groups and config.stock.ledger in ledgers
          else []),
        *([price_definitions(config.prices.ledger if config.prices.source == "ledger" else None)]
          if config.prices.source != "none" else []),
        *([order_loop_definitions(walmart_assets, partitions, now,
                                                  config.order_loop.shipments_from == "exact")] if config.order_loop.enabled else []),
        dg.Definitions(assets=[daily_sales_asset(walmart_assets, partitions)]),
        dg.Definitions(sensors=alert_sensors(), resources={
            "alerts": AlertResource.from_env(),
            "io_manager": FrameIOManager(),
            "mapping": MappingResource(),
            "reports": ReportsResource.from_env(),
            "store": StoreResource(),
            "walmart": WalmartResource.from_env(),
            **{name: LEDGERS[name].from_env() for name in ledgers},
        }),
    )
    executor = executor_from_env()
    if executor is not None:
        merged = dg.Definitions.merge(merged, dg.Definitions(executor=executor))
    return merged.map_asset_specs(func=_for_people)


def _for_people(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Owners and a domain tag on every asset: the platform team answers for Walmart's feeds, finance for the books."""
    group = spec.group_name or "default"
    owner = "team:data-platform" if group in ("walmart", "configuration") else "team:finance"
    return spec.replace_attributes(owners=spec.owners or [owner],
                                   tags={**spec.tags, "walmart_accounting/domain": group.split("_")[0]})


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs()

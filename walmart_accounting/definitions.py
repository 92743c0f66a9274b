"""The Dagster code location: assembles each domain's definitions and binds resources to the environment."""

import os

import dagster as dg

from walmart_accounting.defs.accounting.assets import ledger_definitions
from walmart_accounting.defs.configuration.assets import account_mapping, every_role_has_an_account
from walmart_accounting.defs.io import FrameIOManager
from walmart_accounting.defs.posting.assets import posting_definitions
from walmart_accounting.defs.posting.jobs import posting_jobs
from walmart_accounting.defs.resources import (
    ExactResource,
    MappingResource,
    StoreResource,
    WalmartResource,
    XeroResource,
)
from walmart_accounting.defs.walmart.assets import walmart_inventory, walmart_orders, walmart_returns, walmart_settlements
from walmart_accounting.defs.walmart.schedules import (
    orders_job,
    refresh_recent_orders,
    refresh_recent_returns,
    returns_job,
    settlements_job,
)
from walmart_accounting.defs.walmart.sensors import new_settlement_reports
from walmart_accounting.domain.config import load_config


def _env_or(name: str, default):
    # Optional settings: EnvVar when set (the UI shows the name, not the value), else the default.
    return dg.EnvVar(name) if os.environ.get(name) else default


def _int_env_or(name: str, default):
    return dg.EnvVar.int(name) if os.environ.get(name) else default


store = StoreResource(database_url=_env_or("WALMART_ACCOUNTING_DB_URL", None))
# The posting mode of each ledger decides which document assets exist; a bad mapping file stops the
# code location from loading, with the error naming the key.
config = load_config()
ledger_defs = ledger_definitions(config)
posting_assets = posting_definitions(config)

defs = dg.Definitions(
    assets=[account_mapping, walmart_orders, walmart_returns, walmart_settlements, walmart_inventory,
            *[d for d in ledger_defs if not isinstance(d, dg.AssetChecksDefinition)], *posting_assets],
    asset_checks=[every_role_has_an_account, *[d for d in ledger_defs if isinstance(d, dg.AssetChecksDefinition)]],
    jobs=[orders_job, returns_job, settlements_job, *posting_jobs(config)],
    schedules=[refresh_recent_orders, refresh_recent_returns],
    sensors=[new_settlement_reports],
    resources={
        "io_manager": FrameIOManager(),
        "mapping": MappingResource(path=_env_or("WALMART_ACCOUNTING_CONFIG", None)),
        "store": store,
        # Secrets are always EnvVar: resolved when a run starts, never shown in the UI or metadata.
        "walmart": WalmartResource(
            base_url=_env_or("WALMART_BASE_URL", None),
            client_id=dg.EnvVar("WALMART_CLIENT_ID"),
            client_secret=dg.EnvVar("WALMART_CLIENT_SECRET"),
        ),
        "xero": XeroResource(
            api_url=_env_or("XERO_API_URL", None),
            identity_url=_env_or("XERO_IDENTITY_URL", None),
            authorize_url=_env_or("XERO_AUTHORIZE_URL", None),
            client_id=dg.EnvVar("XERO_CLIENT_ID"),
            client_secret=dg.EnvVar("XERO_CLIENT_SECRET"),
            tenant_id=_env_or("XERO_TENANT_ID", None),
            calls_per_minute=_int_env_or("XERO_CALLS_PER_MINUTE", 60),
            store=store,
        ),
        "exact": ExactResource(
            base_url=_env_or("EXACT_BASE_URL", None),
            client_id=dg.EnvVar("EXACT_CLIENT_ID"),
            client_secret=dg.EnvVar("EXACT_CLIENT_SECRET"),
            division=_int_env_or("EXACT_DIVISION", None),
            calls_per_minute=_int_env_or("EXACT_CALLS_PER_MINUTE", 60),
            store=store,
        ),
    },
)

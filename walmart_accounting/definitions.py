"""The Dagster code location: assembles each domain's definitions and binds resources to the environment."""

import os

import dagster as dg

from walmart_accounting.connectors import exact, walmart, xero
from walmart_accounting.defs.configuration.assets import account_mapping, every_role_has_an_account
from walmart_accounting.defs.resources import (
    ExactResource,
    MappingResource,
    StoreResource,
    WalmartResource,
    XeroResource,
)


def _env_or(name: str, default):
    # Optional settings: EnvVar when set (the UI shows the name, not the value), else the default.
    return dg.EnvVar(name) if os.environ.get(name) else default


def _int_env_or_none(name: str):
    return dg.EnvVar.int(name) if os.environ.get(name) else None


store = StoreResource(database_url=_env_or("WALMART_ACCOUNTING_DB_URL", None))

defs = dg.Definitions(
    assets=[account_mapping],
    asset_checks=[every_role_has_an_account],
    resources={
        "mapping": MappingResource(path=_env_or("WALMART_ACCOUNTING_CONFIG", None)),
        "store": store,
        # Secrets are always EnvVar: resolved when a run starts, never shown in the UI or metadata.
        "walmart": WalmartResource(
            base_url=_env_or("WALMART_BASE_URL", walmart.PRODUCTION_URL),
            client_id=dg.EnvVar("WALMART_CLIENT_ID"),
            client_secret=dg.EnvVar("WALMART_CLIENT_SECRET"),
        ),
        "xero": XeroResource(
            api_url=_env_or("XERO_API_URL", xero.API_URL),
            identity_url=_env_or("XERO_IDENTITY_URL", xero.IDENTITY_URL),
            authorize_url=_env_or("XERO_AUTHORIZE_URL", xero.AUTHORIZE_URL),
            client_id=dg.EnvVar("XERO_CLIENT_ID"),
            client_secret=dg.EnvVar("XERO_CLIENT_SECRET"),
            tenant_id=_env_or("XERO_TENANT_ID", None),
            store=store,
        ),
        "exact": ExactResource(
            base_url=_env_or("EXACT_BASE_URL", exact.BASE_URL),
            client_id=dg.EnvVar("EXACT_CLIENT_ID"),
            client_secret=dg.EnvVar("EXACT_CLIENT_SECRET"),
            division=_int_env_or_none("EXACT_DIVISION"),
            store=store,
        ),
    },
)

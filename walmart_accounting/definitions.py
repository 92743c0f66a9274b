"""The Dagster code location: assembles each domain's definitions and binds resources to the environment."""

from __future__ import annotations

import os

import dagster as dg

from walmart_accounting.defs.configuration.assets import account_mapping, every_role_has_an_account
from walmart_accounting.defs.resources import MappingResource, StoreResource


def _env_or_none(name: str):
    # EnvVar fails at launch when the variable is unset; these have working defaults instead.
    return dg.EnvVar(name) if os.environ.get(name) else None


defs = dg.Definitions(
    assets=[account_mapping],
    asset_checks=[every_role_has_an_account],
    resources={
        "mapping": MappingResource(path=_env_or_none("WALMART_ACCOUNTING_CONFIG")),
        "store": StoreResource(database_url=_env_or_none("WALMART_ACCOUNTING_DB_URL")),
    },
)

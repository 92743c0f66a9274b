"""The configuration domain's definitions: the mapping in force as an asset, and its check."""

import dagster as dg

from walmart_accounting.defs.configuration.assets import account_mapping, every_role_has_an_account


def configuration_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[account_mapping], asset_checks=[every_role_has_an_account])

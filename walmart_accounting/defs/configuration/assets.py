"""The mapping in force, as an asset analysts can read: which account, tax code and mode each ledger uses."""


import dagster as dg
import pandas as pd

from walmart_accounting.defs.resources import MappingResource
from walmart_accounting.transform.mapping import COLUMNS, account_mapping_frame


@dg.asset(
    group_name="configuration",
    description="Every ledger account and tax code the mapping file assigns, one row per ledger and role.",
    kinds={"pandas"},
    metadata={"dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in COLUMNS])},
)
def account_mapping(context: dg.AssetExecutionContext, mapping: MappingResource) -> pd.DataFrame:
    config = mapping.load()
    frame = account_mapping_frame(config)
    context.add_output_metadata(
        {
            "rows": len(frame),
            "ledgers": dg.MetadataValue.text(", ".join(sorted(config.enabled_ledgers()))),
            "preview": dg.MetadataValue.md(frame.to_markdown(index=False)),
        }
    )
    return frame


@dg.asset_check(asset=account_mapping, description="Each enabled ledger maps every role to an account code.")
def every_role_has_an_account(account_mapping: pd.DataFrame) -> dg.AssetCheckResult:
    missing = account_mapping[account_mapping["code"].isna() | (account_mapping["code"] == "")]
    return dg.AssetCheckResult(passed=missing.empty, metadata={"unmapped_roles": len(missing)})

"""Dagster definitions by domain; this package knowingly uses two beta features and one preview, so their warnings are silenced."""

import warnings

# Single-run backfills (BackfillPolicy) and pandera column schemas in the UI are beta in Dagster 1.13.
warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy` of function `asset`")
warnings.filterwarnings("ignore", message=r"Function `pandera_schema_to_dagster_type`")
# Checks recorded per partition (a settlement's, an hour's) need partitions_def on AssetCheckSpec, a preview in 1.13.
warnings.filterwarnings("ignore", message=r"Specifying a partitions_def on an AssetCheckSpec")

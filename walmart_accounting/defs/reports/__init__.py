"""Reports an analyst reads in the Dagster UI: each settlement against the ledger, and the integration's health."""

# Reports read across partitions of other kinds (a settlement's orders of any hour): the hourly and daily jobs
# leave them out; the settlement job, whose partition they share, builds them.
REPORTS_GROUP = "reports"


def column_schema_of(columns: dict[str, str]) -> dict:
    """A report frame's columns as the asset's column schema (the reports have no pandera model of their own)."""
    import dagster as dg

    return {"dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns.items()])}

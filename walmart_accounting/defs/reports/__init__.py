"""Reports an analyst reads in the Dagster UI: each settlement against the ledger, and the integration's health."""

# Reports read across partitions of other kinds (a settlement's orders of any hour): the hourly and daily jobs
# leave them out; the settlement job, whose partition they share, builds them.
REPORTS_GROUP = "reports"

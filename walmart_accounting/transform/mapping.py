"""The mapping configuration as a flat table (ledger, role, code), for reports and checks."""

from __future__ import annotations

import pandas as pd

from walmart_accounting.domain.config import MappingConfig

COLUMNS = ["ledger", "posting_mode", "kind", "role", "code"]


def account_mapping_frame(config: MappingConfig) -> pd.DataFrame:
    """One row per enabled ledger and account or tax role."""
    rows = []
    for name, ledger in sorted(config.enabled_ledgers().items()):
        mode = ledger.posting_mode.value
        accounts = ledger.accounts.effective()
        if accounts["suspense"] is None and config.unmapped_amount_types == "reject":
            del accounts["suspense"]  # unmapped amount types are dead-lettered: no suspense account is needed
        for role, code in accounts.items():
            rows.append((name, mode, "account", role, code))
        for fee_type, code in sorted(ledger.accounts.fees.items()):
            rows.append((name, mode, "account", f"fee:{fee_type}", code))
        rows.append((name, mode, "tax", "facilitator", ledger.tax_codes.facilitator))
        rows.append((name, mode, "tax", "no_tax", ledger.tax_codes.no_tax))
        for state, code in sorted(ledger.tax_codes.seller_remitted.items()):
            rows.append((name, mode, "tax", f"seller_remitted:{state}", code))
    return pd.DataFrame(rows, columns=COLUMNS).astype("string")

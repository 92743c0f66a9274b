"""pandera model of the document frame: every neutral accounting document, one row per line, mapped for one ledger."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from walmart_accounting.domain.documents import DocumentKind, LineCategory

# the string values the frame holds (the kinds and categories are defined in domain.documents)
DOCUMENT_KINDS = [kind.value for kind in DocumentKind]
LINE_CATEGORIES = [category.value for category in LineCategory]


class DocumentLine(pa.DataFrameModel):
    """A line of a document for one ledger, with the document's header fields repeated on each line.

    Money is integer cents in the document currency. `account` and `tax_code` are already the ledger's
    codes (resolved from the mapping file); a record that cannot be mapped never gets here.
    """

    ledger: Series[str] = pa.Field(isin=["xero", "exact"])
    document_key: Series[str] = pa.Field(str_matches=r"^WM-[A-Za-z0-9._-]+$", str_length={"max_value": 64})
    document_kind: Series[str] = pa.Field(isin=DOCUMENT_KINDS)
    document_date: Series[pd.Timestamp]
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    contact_key: Series[str] = pa.Field(nullable=True)
    contact_name: Series[str] = pa.Field(nullable=True)
    contact_email: Series[str] = pa.Field(nullable=True)
    related_key: Series[str] = pa.Field(nullable=True, description="the invoice a credit note or payment belongs to")
    settlement_key: Series[str] = pa.Field(nullable=True)
    source_ids: Series[str] = pa.Field(description="the Walmart ids the document comes from, comma-separated")
    line_no: Series[int] = pa.Field(ge=1)
    category: Series[str] = pa.Field(isin=LINE_CATEGORIES)
    description: Series[str] = pa.Field(str_length={"min_value": 1})
    sku: Series[str] = pa.Field(nullable=True)
    item_code: Series[str] = pa.Field(nullable=True)
    quantity: Series[int] = pa.Field(ge=0)
    account: Series[str] = pa.Field(str_length={"min_value": 1})
    counter_account: Series[str] = pa.Field(nullable=True, description="the other side of a payment or transfer")
    tax_code: Series[str] = pa.Field(str_length={"min_value": 1})
    amount_cents: Series[int] = pa.Field(description="net of tax")
    tax_cents: Series[int]
    cost_center: Series[str] = pa.Field(nullable=True)
    tracking_category: Series[str] = pa.Field(nullable=True)
    tracking_option: Series[str] = pa.Field(nullable=True)
    exchange_rate: Series[str] = pa.Field(nullable=True, description="ledger base units per document unit, as a decimal string")
    rate_source: Series[str] = pa.Field(nullable=True)
    base_amount_cents: Series[pd.Int64Dtype] = pa.Field(nullable=True, description="amount + tax in the ledger's base currency")

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(description="line numbers are unique within a document")
    def unique_lines(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["ledger", "document_key", "line_no"], keep=False)

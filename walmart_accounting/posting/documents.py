"""Documents as the ledger adapters see them: one object per document key, grouped from the document frame."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from walmart_accounting.domain.documents import DocumentKind

HEADER_COLUMNS = ["ledger", "document_key", "document_kind", "document_date", "currency", "contact_key", "contact_name",
                  "contact_email", "related_key", "settlement_key", "source_ids", "exchange_rate", "rate_source"]
LINE_COLUMNS = ["line_no", "category", "description", "sku", "item_code", "quantity", "account", "counter_account",
                "tax_code", "amount_cents", "tax_cents", "cost_center", "tracking_category", "tracking_option",
                "base_amount_cents"]


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


@dataclass(frozen=True)
class LedgerDocument:
    """One document for one ledger: header fields and its lines, money in integer cents.

    `kind` is a DocumentKind (a kind's string value is accepted and converted; an unknown one is refused).
    """

    key: str
    kind: DocumentKind
    ledger: str
    header: dict[str, Any]
    lines: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        try:
            kind = DocumentKind(self.kind)
        except ValueError:
            raise ValueError(f"{self.key}: unknown document kind {self.kind!r}; expected one of "
                             f"{', '.join(DocumentKind)}") from None
        object.__setattr__(self, "kind", kind)

    @property
    def total_cents(self) -> int:
        return sum(int(line["amount_cents"]) + int(line["tax_cents"]) for line in self.lines)

    def as_record(self) -> dict[str, Any]:
        """The whole document as plain JSON data (kept with a dead letter, hashed for change detection)."""
        return {"header": self.header, "lines": list(self.lines)}

    @property
    def payload_hash(self) -> str:
        text = json.dumps(self.as_record(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def documents_from_frame(frame: pd.DataFrame) -> list[LedgerDocument]:
    """Group a DocumentLine frame into documents, lines in line order, in a stable order of keys."""
    if frame.empty:
        return []
    ordered = frame.sort_values(["document_key", "line_no"], kind="stable")
    out: list[LedgerDocument] = []
    for key, group in ordered.groupby("document_key", sort=True):
        first = group.iloc[0]
        header = {c: _plain(first[c]) for c in HEADER_COLUMNS if c in group.columns}
        line_columns = [c for c in LINE_COLUMNS if c in group.columns]
        lines = tuple({c: _plain(v) for c, v in row.items()} for row in group[line_columns].to_dict("records"))
        out.append(LedgerDocument(key=str(key), kind=str(first["document_kind"]), ledger=str(first["ledger"]),
                                  header=header, lines=lines))
    return out

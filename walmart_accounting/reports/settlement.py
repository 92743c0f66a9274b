"""The settlement report: Walmart's reconciliation report against the ledger documents, category by category.

Walmart's side comes from the settlement rows (classified as the documents are built, by
`classify_settlement_rows`); the ledger's side only from the DocumentLine frame, by line category:

- settlement_summary mode (a sales invoice carries the settlement): each invoice line is its category; a
  line's `tax_cents` (seller-remitted tax) is tax of its kind; a facilitator-tax line is tax collected
  when positive, refunded when negative (the summary keeps the two on separate lines).
- per_order mode: the fee bill's lines (the settlement's sign reversed); each payment is split by the lines
  of the invoice (or, for a refund payment, the credit note) it pays, when that document is in the frame and
  its total is what the settlement paid; otherwise it stays whole under `unmatched_payments`.

Categories are only as fine as both sides can tell apart: product and shipping tax are one category (a
facilitator-tax line carries both), reserve held and released are one (the documents net them), and in
summary mode discounts stay in the product price (the summary line is net of them). The Walmart column sums to
the payout: rows that do not add up to the Total Payable show as `report_imbalance`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable

import pandas as pd

from walmart_accounting.domain.config import FEE_TYPES, MappingConfig
from walmart_accounting.domain.documents import DocumentKind, LineCategory
from walmart_accounting.domain.money import format_cents
from walmart_accounting.transform.documents.settlements import FEE_LABELS, classify_settlement_rows
from walmart_accounting.transform.reconcile import settlement_labels

REPORT_COLUMNS = ["category", "walmart_cents", "ledger_cents", "difference_cents"]

CATEGORY_LABELS: dict[str, str] = {
    "product_sales": "Product price (gross sales)",
    "discounts": "Discounts (negative product price)",
    "shipping": "Shipping price",
    "sales_tax": "Product and shipping tax",
    "facilitator_tax_withheld": "Marketplace facilitator tax withheld",
    "refunds": "Refunds (price)",
    "refunded_tax": "Refunded tax",
    "promotions": "Seller-funded promotions",
    "funded_savings": "Walmart-funded savings",
    "reimbursements": "Walmart reimbursements",
    **{f"fee:{fee}": FEE_LABELS.get(fee, fee) for fee in FEE_TYPES},
    "adjustments": "Adjustments and dispute settlements",
    "reserve": "Reserve held (released when negative)",
    "suspense": "Unmapped amount types (suspense)",
    "unmapped": "Unmapped amount types (rejected)",
    "unmatched_payments": "Payments not split: their invoice / credit note is missing or differs",
    "report_imbalance": "Report rows not adding up to the Total Payable",
}
_ORDER = {category: i for i, category in enumerate(CATEGORY_LABELS)}
_ALWAYS = ("product_sales", "shipping", "sales_tax", "facilitator_tax_withheld", "refunds", "refunded_tax")
_BY_FEE_LABEL = {label: fee for fee, label in FEE_LABELS.items()}

# line category -> (category of its amount, category of its tax), by what the document books
_SALE = {LineCategory.PRODUCT.value: ("product_sales", "sales_tax"), LineCategory.DISCOUNT.value: ("discounts", "sales_tax"),
         LineCategory.SHIPPING.value: ("shipping", "sales_tax"), LineCategory.SELLER_TAX.value: ("sales_tax", "sales_tax"),
         LineCategory.FACILITATOR_TAX.value: ("sales_tax", "sales_tax")}
_REFUND = {**{c: ("refunds", "refunded_tax") for c in (LineCategory.PRODUCT.value, LineCategory.DISCOUNT.value,
                                                       LineCategory.SHIPPING.value, LineCategory.REFUND.value)},
           LineCategory.SELLER_TAX.value: ("refunded_tax", "refunded_tax"),
           LineCategory.FACILITATOR_TAX.value: ("refunded_tax", "refunded_tax")}
_SETTLEMENT = {**_SALE, LineCategory.REFUND.value: ("refunds", "refunded_tax"),
               LineCategory.FACILITATOR_TAX_WITHHELD.value: ("facilitator_tax_withheld", "facilitator_tax_withheld"),
               LineCategory.ADJUSTMENT.value: ("adjustments", "adjustments"), LineCategory.RESERVE.value: ("reserve", "reserve"),
               LineCategory.PROMOTION.value: ("promotions", "promotions"),
               LineCategory.FUNDED_SAVINGS.value: ("funded_savings", "funded_savings"),
               LineCategory.REIMBURSEMENT.value: ("reimbursements", "reimbursements"),
               LineCategory.SUSPENSE.value: ("suspense", "suspense")}


@dataclass(frozen=True)
class SettlementReport:
    """One settlement compared category by category, with the payout, ready to render for an analyst.

    `frame` has the columns category, walmart_cents, ledger_cents, difference_cents (int64, difference =
    Walmart − ledger), one row per category; its walmart_cents sum to `payout_cents`.
    """

    frame: pd.DataFrame
    payout_cents: int  # Walmart's Total Payable (the PaymentSummary row)
    ledger_payout_cents: int  # the transfer of the payout to the bank in the documents
    currency: str = "USD"
    mode: str = "per_order"  # or "settlement_summary": how the documents carry the settlement
    labels: dict = field(default_factory=dict)  # settlement key, report date, period (settlement_labels)
    dead_letters: tuple[tuple[str, str], ...] = ()

    @property
    def differences(self) -> pd.DataFrame:
        """The categories whose two sides differ."""
        return self.frame[self.frame["difference_cents"] != 0].reset_index(drop=True)

    @property
    def ties_out(self) -> bool:
        """Every category agrees and the transfer is the payout."""
        return self.differences.empty and self.payout_cents == self.ledger_payout_cents

    def to_markdown(self) -> str:
        """The comparison as a Markdown table (amounts as format_cents), the payout last, dead letters below."""
        money = lambda cents: format_cents(int(cents), self.currency)  # noqa: E731
        title = self.labels.get("settlement", "settlement")
        out = [f"## Settlement {title}", ""]
        if self.labels.get("period"):
            out += [f"Period {self.labels['period']}, report date {self.labels.get('report_date', '?')}; "
                    f"documents posted {self.mode}; amounts in {self.currency}.", ""]
        out += ["| Category | Walmart | Ledger | Difference |", "| --- | ---: | ---: | ---: |"]
        for row in self.frame.itertuples(index=False):
            out.append(f"| {_cell(CATEGORY_LABELS.get(row.category, row.category))} | {money(row.walmart_cents)} | "
                       f"{money(row.ledger_cents)} | {money(row.difference_cents)} |")
        out.append(f"| **Payout (Total Payable)** | **{money(self.payout_cents)}** | **{money(self.ledger_payout_cents)}** | "
                   f"**{money(self.payout_cents - self.ledger_payout_cents)}** |")
        out += ["", "Ties out." if self.ties_out else f"Does NOT tie out: {len(self.differences)} category difference(s)."]
        if self.dead_letters:
            out += ["", "### Dead letters (documents not built or not posted)", ""]
            out += [f"- `{key}`: {_cell(reason)}" for key, reason in self.dead_letters]
        return "\n".join(out) + "\n"

    def to_csv_bytes(self) -> bytes:
        """The frame as UTF-8 CSV (with a label column); its walmart_cents sum to the payout."""
        frame = self.frame.assign(label=self.frame["category"].map(CATEGORY_LABELS).fillna(self.frame["category"]))
        return frame[["category", "label", "walmart_cents", "ledger_cents", "difference_cents"]].to_csv(
            index=False, lineterminator="\n").encode("utf-8")

    def bridge_png(self, path_or_buffer: str | os.PathLike | BinaryIO, width_px: int = 1200, height_px: int = 600) -> None:
        """Draw the waterfall from gross sales to the payout (Walmart side) as a PNG of exactly width_px × height_px."""
        _waterfall_png(self, path_or_buffer, width_px, height_px)


def settlement_report(settlement_rows: pd.DataFrame, documents: pd.DataFrame, config: MappingConfig, *,
                      ledger: str | None = None,
                      dead_letters: Iterable[tuple[str, str]] | None = None) -> SettlementReport:
    """Compare one settlement's report rows (SettlementRow) with the DocumentLine frame built for it and its orders.

    `documents` may hold every document of the ledger: the settlement's own are chosen by settlement key, the
    invoices and credit notes by the payments that pay them. With documents of several ledgers, name `ledger`.
    `dead_letters` are (key, reason) pairs listed under the table (they explain differences).
    """
    rows = classify_settlement_rows(settlement_rows.assign(report_date=settlement_rows["report_date"].astype(str)), config)
    labels = settlement_labels(settlement_rows)
    currency = str(rows["currency"].iloc[0]) if len(rows) else "USD"
    docs = _ledger_documents(documents, ledger)
    key = labels.get("settlement")
    own = docs[docs["settlement_key"] == key] if len(docs) else docs
    if len(own) == 0 and len(docs) and docs["settlement_key"].dropna().nunique() == 1:
        own = docs[docs["settlement_key"].notna()]  # the frame holds one settlement whose key the rows cannot name
    summary = bool(len(own)) and bool((own["document_kind"] == DocumentKind.SALES_INVOICE.value).any())

    walmart, payout = _walmart_categories(rows, split_discounts=not summary)
    ledger_side = _ledger_categories(own, docs)
    ledger_payout = int(own.loc[own["document_kind"] == DocumentKind.TRANSFER.value, "amount_cents"].sum()) if len(own) else 0
    imbalance = payout - int(walmart.sum())
    if imbalance:
        walmart["report_imbalance"] = imbalance
    shown = {n for n in set(walmart.index) | set(ledger_side.index) if walmart.get(n, 0) or ledger_side.get(n, 0)}
    names = sorted(shown | set(_ALWAYS) | (set() if summary else {"discounts"}),
                   key=lambda n: (_ORDER.get(n, len(_ORDER)), n))
    frame = pd.DataFrame({"category": pd.Series(names, dtype=object),
                          "walmart_cents": [int(walmart.get(n, 0)) for n in names],
                          "ledger_cents": [int(ledger_side.get(n, 0)) for n in names]})
    frame = frame.astype({"walmart_cents": "int64", "ledger_cents": "int64"})
    frame["difference_cents"] = (frame["walmart_cents"] - frame["ledger_cents"]).astype("int64")
    return SettlementReport(frame=frame[REPORT_COLUMNS], payout_cents=payout, ledger_payout_cents=ledger_payout,
                            currency=currency, mode="settlement_summary" if summary else "per_order", labels=labels,
                            dead_letters=tuple((str(k), str(r)) for k, r in (dead_letters or ())))


def _walmart_categories(rows: pd.DataFrame, split_discounts: bool) -> tuple[pd.Series, int]:
    """Walmart's amounts per report category (settlement signs), and the payout."""
    kind, money, ttype, amount = rows["kind"], rows["money"], rows["transaction_type"], rows["amount_cents"]
    sale, refund = (kind == "order") & (ttype == "Sale"), (kind == "order") & (ttype == "Refund")
    is_tax = money.isin(["product_tax", "shipping_tax"])
    category = pd.Series(None, index=rows.index, dtype=object)
    category[sale & (money == "product")] = "product_sales"
    if split_discounts:
        category[sale & (money == "product") & (amount < 0)] = "discounts"
    category[sale & (money == "shipping")] = "shipping"
    category[sale & is_tax] = "sales_tax"
    category[refund & ~is_tax] = "refunds"
    category[refund & is_tax] = "refunded_tax"
    simple = {"withheld": "facilitator_tax_withheld", "promotion": "promotions", "funded_savings": "funded_savings",
              "reimbursement": "reimbursements", "adjustment": "adjustments", "reserve": "reserve",
              "suspense": "suspense", "unmapped": "unmapped"}
    for k, name in simple.items():
        category[kind == k] = name
    fee = kind == "fee"
    category[fee] = "fee:" + rows.loc[fee, "fee_type"].astype(str)
    payout = int(amount[kind == "payout"].sum())
    booked = category.notna() & (kind != "payout")
    return amount[booked].groupby(category[booked]).sum().astype("int64"), payout


def _ledger_documents(documents: pd.DataFrame, ledger: str | None) -> pd.DataFrame:
    if documents is None or len(documents) == 0:
        return pd.DataFrame(columns=["ledger", "document_key", "document_kind", "related_key", "settlement_key", "category",
                                     "description", "amount_cents", "tax_cents"])
    if ledger is not None:
        return documents[documents["ledger"] == ledger]
    if documents["ledger"].nunique() > 1:
        raise ValueError(f"documents of several ledgers ({sorted(documents['ledger'].unique())}): name the ledger")
    return documents


def _ledger_categories(own: pd.DataFrame, docs: pd.DataFrame) -> pd.Series:
    """The ledger's amounts per report category (settlement signs) from the documents' lines."""
    parts: list[pd.Series] = []
    kind = own["document_kind"]
    parts.append(_book(own[kind == DocumentKind.SALES_INVOICE.value], 1, _SETTLEMENT))
    parts.append(_book(own[kind == DocumentKind.FEE_BILL.value], -1, _SETTLEMENT))  # a bill is a cost: reverse
    payments = own[kind == DocumentKind.PAYMENT.value]
    paid = payments.groupby(["category", "related_key"], dropna=False)["amount_cents"].sum()
    summary_keys = set(own.loc[kind == DocumentKind.SALES_INVOICE.value, "document_key"])
    totals = (docs["amount_cents"] + docs["tax_cents"]).groupby(docs["document_key"]).sum() if len(docs) else pd.Series()
    unmatched = 0
    for (line_category, related), cents in paid.items():
        if related in summary_keys:
            continue  # the summary invoice's lines are booked above
        refund = line_category == LineCategory.REFUND.value
        wanted = DocumentKind.CREDIT_NOTE.value if refund else DocumentKind.SALES_INVOICE.value
        target = docs[(docs["document_key"] == related) & (docs["document_kind"] == wanted)] if pd.notna(related) else docs[:0]
        sign = -1 if refund else 1
        if len(target) and int(totals.get(related, 0)) * sign == int(cents):
            parts.append(_book(target, sign, _REFUND if refund else _SALE))
        else:
            unmatched += int(cents)
    if unmatched:
        parts.append(pd.Series({"unmatched_payments": unmatched}))
    filled = [p for p in parts if len(p)]
    return pd.concat(filled).groupby(level=0).sum().astype("int64") if filled else pd.Series(dtype="int64")


def _book(lines: pd.DataFrame, sign: int, spec: dict[str, tuple[str, str]]) -> pd.Series:
    """Amount and tax of each line under its report category, times sign."""
    if lines.empty:
        return pd.Series(dtype="int64")
    category = lines["category"].astype(str)
    amount_to = category.map({k: v[0] for k, v in spec.items()})
    tax_to = category.map({k: v[1] for k, v in spec.items()})
    if spec is _SETTLEMENT:  # the summary's facilitator lines: collected (+) and refunded (−) are apart
        facilitator = category == LineCategory.FACILITATOR_TAX.value
        refunded = facilitator & (lines["amount_cents"] * sign < 0)
        amount_to, tax_to = amount_to.mask(refunded, "refunded_tax"), tax_to.mask(refunded, "refunded_tax")
    fee = category == LineCategory.FEE.value
    fee_names = "fee:" + lines["description"].map(_BY_FEE_LABEL).fillna(lines["description"]).astype(str)
    amount_to, tax_to = amount_to.mask(fee, fee_names), tax_to.mask(fee, fee_names)
    amount_to = amount_to.fillna("other:" + category)
    tax_to = tax_to.fillna("other:" + category)
    both = pd.concat([pd.Series((lines["amount_cents"] * sign).to_numpy(), index=amount_to.to_numpy()),
                      pd.Series((lines["tax_cents"] * sign).to_numpy(), index=tax_to.to_numpy())])
    return both.groupby(level=0).sum().astype("int64")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _waterfall_png(report: SettlementReport, target, width_px: int, height_px: int) -> None:
    """Render the bridge with matplotlib's Agg canvas (imported here: importing the package stays fast)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if width_px < 100 or height_px < 100:
        raise ValueError("the bridge needs at least 100 × 100 pixels")
    frame = report.frame
    start = frame[frame["category"] == "product_sales"]
    steps = frame[(frame["category"] != "product_sales") & (frame["walmart_cents"] != 0)]
    names = ["Gross sales", *[CATEGORY_LABELS.get(c, c) for c in steps["category"]], "Payout"]
    deltas = [int(start["walmart_cents"].sum()), *[int(c) for c in steps["walmart_cents"]]]
    bottoms, heights, colors, running = [], [], [], 0
    for i, delta in enumerate(deltas):  # cents to float only here, to draw
        bottoms.append((running if i else 0) / 100)
        heights.append(delta / 100)
        colors.append("#4c72b0" if i == 0 else ("#55a868" if delta >= 0 else "#c44e52"))
        running += delta
    bottoms.append(0.0)
    heights.append(report.payout_cents / 100)
    colors.append("#4c72b0")
    dpi = 100
    figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = range(len(names))
    axes.bar(positions, heights, bottom=bottoms, color=colors, width=0.7)
    axes.set_xticks(list(positions), [n if len(n) <= 28 else n[:26] + "…" for n in names], rotation=35, ha="right",
                    fontsize=8)
    axes.axhline(0, color="#333333", linewidth=0.8)
    axes.set_ylabel(report.currency)
    axes.set_title(f"Settlement {report.labels.get('settlement', '')}: gross sales to payout "
                   f"{format_cents(report.payout_cents, report.currency, thousands=True)} {report.currency}")
    figure.subplots_adjust(bottom=0.3, left=0.08, right=0.98, top=0.92)
    if isinstance(target, (str, os.PathLike)):
        figure.savefig(target, format="png", dpi=dpi)
    else:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        target.write(buffer.getvalue())

"""Settlement summaries: per settlement and month one marketplace invoice, its payment, and the payout transfer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from walmart_accounting.domain import keys
from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.domain.documents import DocumentKind, LineCategory
from walmart_accounting.transform.documents.common import (
    DocumentResult,
    _assemble,
    _empty_result,
    _key_problems,
    _keys_for,
    _money_text,
    _problems,
    _sku_mapping,
    _text,
    _tracking,
)
from walmart_accounting.transform.documents.settlements import (
    _FEE_ORDER,
    FEE_LABELS,
    _prepare,
    _transfers,
    _unmapped_reasons,
    bill_line_specs,
    withheld_treatment,
)


def settlement_summary(settlement_rows: pd.DataFrame, config: MappingConfig, ledger: str) -> DocumentResult:
    """Per settlement and accounting month (posted date): one invoice to the marketplace contact with a
    line per category in the settlement's signs (total = the month's share of the payout), its payment
    from the clearing account, and the transfer of the payout to the bank.

    Who remits a tax is what the settlement shows, not the mapping's state list: tax Walmart withheld is
    facilitator tax (collected, refunded and withheld go to the facilitator account, which nets to zero per
    settlement); tax it paid out is the seller's, carried as tax on the sales, shipping and refund lines
    (one line per tax code, the state's or `default`), since ledgers book output tax through the tax code.
    """
    ledger_cfg = config.ledger(ledger)
    if settlement_rows is None or settlement_rows.empty:
        return _empty_result()
    rows, report, key_problems = _prepare(settlement_rows, config)
    problems = [key_problems]
    accounts = ledger_cfg.accounts
    codes = ledger_cfg.tax_codes
    detail = rows[rows["kind"] != "payout"].copy()

    detail["_month"] = detail["_day"].dt.to_period("M").dt.to_timestamp()
    detail["document_key"], errors = _keys_for(keys.summary_invoice_key, detail["period_end"].dt.date,
                                               detail["payable_id"], detail["_month"].dt.date, fallback="WM-SET-?")
    problems.append(_key_problems(detail["document_key"], errors))

    is_tax = detail["money"].isin(["product_tax", "shipping_tax"]).to_numpy()
    treatment, code, tax_problem = _settlement_tax_treatment(detail, ledger_cfg, ledger)
    bad = tax_problem.notna() & is_tax
    if bad.any():
        grouped = pd.DataFrame({"k": detail.loc[bad, "document_key"], "r": tax_problem[bad]}).drop_duplicates()
        problems.append(_problems(grouped["k"], grouped["r"]))
    unmapped = detail[detail["kind"] == "unmapped"]
    if len(unmapped):
        reasons = _unmapped_reasons(unmapped, ["document_key"])
        problems.append(_problems(reasons["document_key"], reasons["reason"]))

    kind = detail["kind"].to_numpy()
    money = detail["money"].to_numpy()
    refund = (detail["transaction_type"] == "Refund").to_numpy()
    seller = (treatment == "seller").to_numpy()
    facilitator_tax = is_tax & (treatment == "facilitator").to_numpy()
    seller_code = code.fillna(codes.no_tax).to_numpy(dtype=object)
    is_price = (kind == "order") & ~is_tax
    base_money = np.where(pd.isna(money), "", np.char.replace(money.astype(str), "_tax", ""))
    # line group: sales/shipping/refunds by tax code, facilitator tax, withheld, each fee type, adjustments, reserve
    own_line = np.isin(kind, ["adjustment", "reserve", "promotion", "funded_savings", "reimbursement", "suspense"])
    group = np.select(
        [is_price | (is_tax & seller), facilitator_tax, kind == "withheld", kind == "fee", own_line],
        [np.where(refund, "refund", base_money), np.where(refund, "fac_refunded", "fac_collected"), "withheld",
         "fee:" + detail["fee_type"].fillna("").astype(str).to_numpy(), kind],
        "",
    )
    tax_code = np.where((is_price | is_tax) & seller, seller_code, codes.no_tax)
    detail["_group"] = group
    detail["_code"] = tax_code
    detail["_amount"] = np.where(is_tax & seller, 0, detail["amount_cents"])
    detail["_tax"] = np.where(is_tax & seller, detail["amount_cents"], 0)
    # Sales go to the SKU's mapped account and cost center (the report names the item on each row), as
    # per_order invoices do; shipping and refunds keep their accounts but carry the SKU's cost center.
    sales_row = np.isin(group, ["product", "shipping", "refund"])
    has_sku = sales_row & _text(detail["sku"]).notna().to_numpy()
    sku_map, sku_problem = _sku_mapping(detail["sku"].where(has_sku, "").astype(str), ledger_cfg, ledger)
    unmapped_sku = has_sku & sku_problem.notna().to_numpy()
    if unmapped_sku.any():
        bad = pd.DataFrame({"k": detail.loc[unmapped_sku, "document_key"], "r": sku_problem[unmapped_sku]}).drop_duplicates()
        problems.append(_problems(bad["k"], bad["r"]))
    default_center = ledger_cfg.skus.default.cost_center or ""
    detail["_account"] = np.where((group == "product") & has_sku, sku_map["account"].fillna("").to_numpy(dtype=object), "")
    detail["_center"] = np.where(sales_row, np.where(has_sku, sku_map["cost_center"].fillna(default_center)
                                                     .to_numpy(dtype=object), default_center), "")
    booked = detail[detail["_group"] != ""]
    summed = booked.groupby(["document_key", "_group", "_code", "_account", "_center"], as_index=False).agg(
        amount_cents=("_amount", "sum"), tax_cents=("_tax", "sum"), fee_type=("fee_type", "first"),
        report_date=("report_date", "first"))
    summed = summed[(summed["amount_cents"] != 0) | (summed["tax_cents"] != 0)]

    g = summed["_group"]
    fee_type = summed["fee_type"]
    spec = {  # group -> (category, account, description, order)
        "product": (LineCategory.PRODUCT.value, accounts.sales, "Walmart product sales", 0),
        "shipping": (LineCategory.SHIPPING.value, accounts.shipping, "Walmart shipping income", 1),
        "refund": (LineCategory.REFUND.value, accounts.refunds, "Walmart refunds to customers", 2),
        "fac_collected": (LineCategory.FACILITATOR_TAX.value, accounts.facilitator_tax,
                          "Marketplace facilitator tax collected", 3),
        "fac_refunded": (LineCategory.FACILITATOR_TAX.value, accounts.facilitator_tax,
                         "Marketplace facilitator tax refunded", 4),
        "adjustment": (LineCategory.ADJUSTMENT.value, accounts.adjustments, "Walmart adjustments and dispute settlements", 30),
        "reserve": (LineCategory.RESERVE.value, accounts.reserve, "Walmart reserve held / released", 31),
        # the lines a per_order fee bill carries too: the same category, account and words, in this order
        **{kind: (*bill_line_specs(ledger_cfg)[kind][:3], order)
           for kind, order in (("withheld", 5), ("promotion", 2.5), ("funded_savings", 2.6), ("reimbursement", 29),
                               ("suspense", 32))},
    }
    is_fee = g.str.startswith("fee:")
    category = g.map({k: v[0] for k, v in spec.items()}).where(~is_fee, LineCategory.FEE.value)
    account = g.map({k: v[1] for k, v in spec.items()}).where(~is_fee, fee_type.map(accounts.fees))
    account = summed["_account"].where(summed["_account"] != "", account)
    description = g.map({k: v[2] for k, v in spec.items()}).where(~is_fee, fee_type.map(FEE_LABELS))
    seller_line = summed["_code"] != codes.no_tax
    description = description.where(~seller_line, description + " (seller-remitted tax " + summed["_code"] + ")")
    line_order = g.map({k: v[3] for k, v in spec.items()}).where(
        ~is_fee, 10 + fee_type.map(_FEE_ORDER).fillna(9)).astype(float)
    tax_code = summed["_code"].where(~g.isin(["fac_collected", "fac_refunded", "withheld"]), codes.facilitator)
    sales = g.isin(["product", "shipping", "refund"])
    tracking_category, tracking_option = _tracking(config)
    header = detail.groupby("document_key").agg(
        document_date=("_day", "max"), report_date=("report_date", "first"))
    header = header.join(report[["settlement_key", "currency", "payable_id"]], on="report_date")
    invoice_lines = pd.DataFrame({
        "document_key": summed["document_key"], "document_kind": DocumentKind.SALES_INVOICE.value,
        "category": category, "description": description, "quantity": 1, "account": account, "tax_code": tax_code,
        "amount_cents": summed["amount_cents"].astype("int64"), "tax_cents": summed["tax_cents"].astype("int64"),
        "cost_center": summed["_center"].where(sales & (summed["_center"] != ""), None),
        "tracking_category": np.where(sales, tracking_category, None),
        "tracking_option": np.where(sales, tracking_option, None),
        "_o1": line_order, "_o2": summed["_code"], "_o3": summed["_account"] + "|" + summed["_center"],
    }).merge(header[["document_date", "settlement_key", "currency", "payable_id"]], left_on="document_key",
             right_index=True).reset_index(drop=True)
    invoice_lines = invoice_lines.assign(contact_key=config.contacts.marketplace_number,
                                         contact_name=config.contacts.marketplace_name,
                                         source_ids=invoice_lines["payable_id"]).drop(columns=["payable_id"])

    # payments of the summary invoices from the clearing account
    totals = invoice_lines.assign(total=invoice_lines["amount_cents"] + invoice_lines["tax_cents"]).groupby(
        "document_key").agg(total=("total", "sum")).join(header)
    totals = totals[totals["total"] != 0]  # nothing to pay on an invoice that nets to zero
    month = pd.Series(totals.index.str.extract(r"-S(\d{6})$", expand=False), index=totals.index)
    pay_keys, pay_errors = _keys_for(keys.payment_key, totals["report_date"].map(report["period_end"]).dt.date,
                                     totals["payable_id"], "S" + month, fallback="WM-SET-?")
    problems.append(_key_problems(pay_keys, pay_errors))
    payment_lines = pd.DataFrame({
        "document_key": pay_keys, "document_kind": DocumentKind.PAYMENT.value,
        "document_date": totals["document_date"], "currency": totals["currency"],
        "contact_key": config.contacts.marketplace_number, "contact_name": config.contacts.marketplace_name,
        "related_key": totals.index, "settlement_key": totals["settlement_key"], "source_ids": totals["payable_id"],
        "category": LineCategory.PAYMENT.value,
        "description": "Walmart settlement " + totals["payable_id"] + " payment of " + totals.index,
        "quantity": 1, "account": accounts.clearing, "tax_code": codes.no_tax, "amount_cents": totals["total"],
        "tax_cents": 0, "_o1": 0,
    }).reset_index(drop=True)
    # a rejected summary invoice takes its payment with it
    rejected = pay_keys.index.isin(pd.concat(problems, ignore_index=True)["record_key"])
    if rejected.any():
        problems.append(_problems(pay_keys[rejected],
                                  "its summary invoice " + pay_keys.index[rejected] + " was rejected"))

    xfer, xfer_problems = _transfers(report, ledger_cfg)
    problems.append(xfer_problems)
    lines = pd.concat([p for p in (invoice_lines, payment_lines, xfer) if len(p)], ignore_index=True) \
        if len(invoice_lines) or len(xfer) else pd.DataFrame(columns=["document_key"])
    sources = detail.drop(columns=["_day", "_month", "period_end", "payable_id", "_group", "_code", "_amount", "_tax",
                                   "_account", "_center"],
                          errors="ignore")
    return _assemble(lines, problems, sources, ledger)


def _settlement_tax_treatment(detail: pd.DataFrame, ledger_cfg, ledger: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per row: treatment ('facilitator' | 'seller' | None) as the settlement shows it, the seller tax code, a problem."""
    judged = withheld_treatment(detail)
    state = _text(detail["ship_to_state"]).str.upper()
    codes = ledger_cfg.tax_codes.seller_remitted
    code = state.map(codes) if codes else pd.Series(None, index=detail.index, dtype=object)
    if "default" in codes:
        code = code.where(code.notna(), codes["default"])
    seller = (judged == "seller").to_numpy()
    code = code.where(seller, None)
    problem = pd.Series(pd.NA, index=detail.index, dtype=object)
    has_tax = (detail["amount_cents"] != 0).to_numpy()
    no_code = seller & code.isna().to_numpy() & has_tax
    if no_code.any():
        amounts = _money_text(detail.loc[no_code, "amount_cents"], detail.loc[no_code, "currency"])
        problem[no_code] = [
            f"tax of {a} on PO {p} ({'ship-to state ' + st if isinstance(st, str) else 'no ship-to state: missing shipping information'}) "
            f"was paid out by Walmart, not withheld: it is the seller's to remit, but ledger {ledger} has no "
            f"seller-remitted tax code for {st if isinstance(st, str) else 'it'} (tax_codes.seller_remitted)"
            for a, p, st in zip(amounts, detail.loc[no_code, "purchase_order_id"], state[no_code].astype(object).where(
                state[no_code].notna(), None), strict=True)]
    partial = (judged == "partial").to_numpy() & has_tax
    if partial.any():
        problem[partial] = [f"Walmart withheld only part of the tax on PO {p} line {n}: neither facilitator nor "
                            "seller-remitted in full" for p, n in zip(detail.loc[partial, "purchase_order_id"],
                                                                    detail.loc[partial, "purchase_order_line"], strict=True)]
    treatment = judged.where(judged.isin(["facilitator", "seller"]), None)
    # The price a seller-remitted tax was charged on rides on the same line with that tax code.
    base = detail["money"].astype(object).where(detail["money"].notna(), "").astype(str).str.replace("_tax", "")
    line = (detail["report_date"].astype(str) + "|" + _text(detail["purchase_order_id"]).fillna("") + "|"
            + _text(detail["purchase_order_line"]).fillna("") + "|" + detail["transaction_type"].astype(str) + "|" + base)
    taxed = pd.DataFrame({"line": line, "treatment": treatment, "code": code})[treatment.notna().to_numpy()]
    taxed = taxed.drop_duplicates("line").set_index("line")
    price = (detail["kind"] == "order").to_numpy() & treatment.isna().to_numpy()
    treatment = treatment.where(~price, line.map(taxed["treatment"]))
    code = code.where(~price, line.map(taxed["code"]))
    return treatment, code, problem

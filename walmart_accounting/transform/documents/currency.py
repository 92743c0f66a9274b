"""Currency conversion of document frames into the ledger's base currency, converting each line once."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from walmart_accounting.domain.config import MappingConfig, RateSource
from walmart_accounting.domain.money import Money, convert_by_quote, to_decimal, xero_quote
from walmart_accounting.schemas.documents import DocumentLine
from walmart_accounting.transform.documents.common import (
    DocumentResult,
    _empty_result,
    _obj,
    _problems,
    _records,
    empty_documents,
)
from walmart_accounting.transform.validation import REJECT_COLUMNS, empty_rejects


def convert_currency(documents: pd.DataFrame, config: MappingConfig, ledger: str,
                     rates: dict[str, Decimal] | None) -> DocumentResult:
    """Fill exchange_rate, rate_source and base_amount_cents where the document currency is not the
    ledger's base currency (null where they are equal).

    The rate is in ledger base units per document unit: with rates.source 'fixed' it is
    config.rates.fixed[<base currency>] (which applies to documents in the seller's currency); with
    'ledger' it is rates[<document currency>] when the caller fetched the ledger's rates, else none at all:
    the document goes in its own currency, the ledger applies its daily rate, and the adapter reports the
    rate it used (recorded in the audit trail). Each line's
    amount + tax is converted once, with round_to_minor (ROUND_HALF_UP); converting again gives the same
    result. Without a rate, every document of that currency is rejected.
    """
    ledger_cfg = config.ledger(ledger)
    base = ledger_cfg.base_currency
    if documents is None or documents.empty:
        return _empty_result()
    docs = documents.copy()
    foreign = (docs["currency"] != base).to_numpy()
    docs["exchange_rate"] = None
    docs["rate_source"] = None
    docs["base_amount_cents"] = pd.array([pd.NA] * len(docs), dtype="Int64")
    problems = []
    if foreign.any():
        source = config.rates.source
        rate_of: dict[str, Decimal] = {}
        missing: dict[str, str] = {}
        for currency in pd.unique(docs.loc[foreign, "currency"]):
            rate = None
            if source is RateSource.FIXED:
                rate = config.rates.fixed.get(base) if currency == config.seller.currency else None
                where = f"rates.fixed has no rate for {currency} -> {base}"
            elif source is RateSource.LEDGER and rates is None:
                continue  # the ledger applies its own daily rate when it books; the rate it used is recorded then
            elif source is RateSource.LEDGER:
                rate = rates.get(currency)
                where = f"ledger {ledger} gave no {currency} -> {base} rate"
            else:
                where = f"rates.source is 'none' but the document is in {currency} and ledger {ledger} in {base}"
            try:
                rate = to_decimal(rate) if rate is not None else None
            except ValueError:
                rate = None
            if rate is None or rate <= 0:
                missing[currency] = f"no exchange rate {currency} -> {base} for ledger {ledger}: {where}"
            else:
                rate_of[currency] = rate
        bad = docs["currency"].isin(list(missing)).to_numpy()
        if bad.any():
            per_doc = docs.loc[bad].drop_duplicates("document_key")
            problems.append(_problems(per_doc["document_key"], per_doc["currency"].map(missing)))
        convert = foreign & ~bad & docs["currency"].isin(list(rate_of)).to_numpy()
        left_to_ledger = foreign & ~bad & ~convert
        docs.loc[left_to_ledger, "rate_source"] = RateSource.LEDGER.value
        if convert.any():
            gross = (docs.loc[convert, "amount_cents"].astype("int64") + docs.loc[convert, "tax_cents"].astype("int64"))
            pairs = pd.DataFrame({"g": gross.to_numpy(), "c": docs.loc[convert, "currency"].to_numpy()})
            unique = pairs.drop_duplicates()
            # once per distinct gross amount, ROUND_HALF_UP; for Xero through the 6-decimal reciprocal it is
            # sent (CurrencyRate), so the recorded base amount is the one Xero books
            if ledger == "xero":
                quotes = {c: xero_quote(r) for c, r in rate_of.items()}
                unique = unique.assign(b=[convert_by_quote(int(g), c, quotes[c], base)
                                          for g, c in unique.itertuples(index=False, name=None)])
            else:
                unique = unique.assign(b=[Money(int(g), c).convert(rate_of[c], base).minor
                                          for g, c in unique.itertuples(index=False, name=None)])
            converted = pairs.merge(unique, how="left", on=["g", "c"])["b"]
            docs.loc[convert, "base_amount_cents"] = pd.array(converted.to_numpy(), dtype="Int64")
            docs.loc[convert, "exchange_rate"] = docs.loc[convert, "currency"].map(
                {c: format(r, "f") for c, r in rate_of.items()})
            docs.loc[convert, "rate_source"] = source.value
    rejects = empty_rejects()
    if problems:
        problem = pd.concat(problems, ignore_index=True)
        rejected = docs[docs["document_key"].isin(problem["record_key"])]
        by_key = {k: _records(g) for k, g in rejected.groupby("document_key", sort=False)}
        rejects = pd.DataFrame({
            "record_key": problem["record_key"].to_numpy(), "reason": problem["reason"].to_numpy(),
            "record": [{"document_key": k, "ledger": ledger, "rows": by_key.get(k, [])} for k in problem["record_key"]],
        })[REJECT_COLUMNS]
        docs = docs[~docs["document_key"].isin(problem["record_key"])]
    for column in ("exchange_rate", "rate_source"):
        docs[column] = _obj(docs[column])
    docs["base_amount_cents"] = docs["base_amount_cents"].astype("Int64")
    return DocumentResult(DocumentLine.validate(docs.reset_index(drop=True)) if len(docs) else empty_documents(),
                          rejects)

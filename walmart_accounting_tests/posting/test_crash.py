"""A posting process killed between the ledger's answer and the record: the next run completes the set, no duplicate."""

import multiprocessing
import os
import time
from datetime import timedelta

import requests
from cryptography.fernet import Fernet

from walmart_accounting.cli.connect import connect_flow, xero_client_from_env
from walmart_accounting.posting.documents import LedgerDocument
from walmart_accounting.posting.engine import PostingEngine
from walmart_accounting.posting.xero import XeroAdapter
from walmart_accounting.sandbox.server import SandboxServer
from walmart_accounting.store.models import PostingStatus
from walmart_accounting.store.store import Store


def invoice(key: str, cents: int) -> LedgerDocument:
    header = {"ledger": "xero", "document_key": key, "document_kind": "sales_invoice", "document_date": "2026-10-15",
              "currency": "USD", "contact_key": None, "contact_name": None, "contact_email": None,
              "related_key": None, "settlement_key": None, "source_ids": key[3:], "exchange_rate": None}
    lines = ({"line_no": 1, "category": "product", "description": "Widget", "sku": "WM-SKU-0001", "item_code": None,
              "quantity": 1, "account": "4000", "counter_account": None, "tax_code": "NONE", "amount_cents": cents,
              "tax_cents": 0, "cost_center": None, "tracking_category": None, "tracking_option": None},)
    return LedgerDocument(key=key, kind="sales_invoice", ledger="xero", header=header, lines=lines)


def _post_then_die(env: dict, documents: list[LedgerDocument]) -> None:
    os.environ.update(env)
    from walmart_accounting.domain.config import load_default_config

    store = Store.open()

    def killed(*args, **kwargs):
        os._exit(3)  # the ledger has the documents; the store never hears of it

    store.record_posted = killed
    PostingEngine(store, XeroAdapter(xero_client_from_env(store), load_default_config()),
                  lease=timedelta(seconds=1)).post(documents)


def test_a_process_killed_after_posting_leaves_nothing_to_duplicate(tmp_path, monkeypatch):
    from walmart_accounting.domain.config import load_default_config

    documents = [invoice(f"WM-90{i}", 1000 + i) for i in range(3)]
    with SandboxServer() as sandbox:
        env = {**sandbox.env(), "WALMART_ACCOUNTING_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
               "WALMART_ACCOUNTING_SECRET_KEY": Fernet.generate_key().decode()}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        store = Store.open(migrate=True)
        connect_flow(xero_client_from_env(store), 0, lambda url: requests.get(url, timeout=10), timeout_s=10)

        child = multiprocessing.get_context("spawn").Process(target=_post_then_die, args=(env, documents))
        child.start()
        child.join(60)
        assert child.exitcode == 3
        xero = sandbox.app.state.xero
        assert [xero.count_by_reference("invoices", d.key) for d in documents] == [1, 1, 1]
        assert {store.posting(d.key, "xero").status for d in documents} == {PostingStatus.IN_FLIGHT}

        time.sleep(1.2)  # the dead worker's claims expire
        report = PostingEngine(store, XeroAdapter(xero_client_from_env(store), load_default_config())).post(documents)
        assert set(report.found_in_ledger) == {d.key for d in documents} and report.posted == {}
        assert [xero.count_by_reference("invoices", d.key) for d in documents] == [1, 1, 1]
        assert {store.posting(d.key, "xero").status for d in documents} == {PostingStatus.POSTED}

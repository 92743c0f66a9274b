"""Webhook subscriptions and their signed deliveries on a background thread (FACTS §6)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from walmart_accounting.domain.jsonmoney import dumps
from walmart_accounting.sandbox.exact.model import Division, _bad

# Webhook topics named by sources (FACTS §6); no complete official list exists.
WEBHOOK_TOPICS = frozenset(
    "Accounts Contacts Items StockPositions FinancialTransactions SalesOrders SalesInvoices "
    "PurchaseOrders GoodsDeliveries CostTransactions TimeTransactions Documents Quotations BankAccounts "
    "SalesEntries PurchaseEntries BankEntries CashEntries GeneralJournalEntries Subscriptions GLAccounts".split()
)


@dataclass
class _Job:
    url: str
    body: bytes
    kind: str  # "validation" | "event"
    meta: dict


class WebhooksMixin:
    """webhooks/WebhookSubscriptions of :class:`ExactState`, the validation call and event deliveries."""

    # Webhook subscriptions (FACTS §6)
    def _create_webhooks_webhooksubscriptions(self, div: Division, data: dict) -> dict:
        url, topic = data.get("CallbackURL"), data.get("Topic")
        if not url:
            raise _bad("Mandatory: CallbackURL")
        if not topic:
            raise _bad("Mandatory: Topic")
        if topic not in WEBHOOK_TOPICS:
            raise _bad(f"Topic: '{topic}' is not a valid webhook topic.")
        if data.get("IsInstant") and topic != "GoodsDeliveries":
            # CHOICE: IsInstant is "only for topic GoodsDeliveries" (FACTS §6); set on another topic it is a 400.
            raise _bad("IsInstant: only available for topic GoodsDeliveries.")
        parts = urlsplit(url)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        # Exact only calls HTTPS callbacks; the sandbox also calls plain HTTP on loopback for local receivers.
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise _bad("CallbackURL: the callback must use HTTPS.")
        for other in div.table("webhooks/WebhookSubscriptions").values():
            if other["CallbackURL"] == url and other["Topic"] == topic:
                raise _bad(f"A subscription for topic {topic} on this callback URL already exists.")
        rec = self._insert(div, "webhooks/WebhookSubscriptions", {
            "CallbackURL": url, "Topic": topic, "Description": data.get("Description"),
            "IsInstant": bool(data.get("IsInstant")),
            "ClientID": next(iter(self.clients)), "UserID": self.user_id})
        # Roughly a second after the subscription, Exact sends an empty POST to validate the callback.
        self._enqueue(_Job(url, b"", "validation", {"subscription": rec["ID"], "topic": topic}))
        return rec

    def _delete_webhooks_webhooksubscriptions(self, div: Division, rec: dict) -> None:
        del div.table("webhooks/WebhookSubscriptions")[rec["ID"]]

    # ---- webhook delivery ------------------------------------------------------------------------
    def _emit(self, division: int, topic: str, action: str, key: str, endpoint: str) -> None:
        with self.lock:
            subs = [s for s in self.divisions[division].table("webhooks/WebhookSubscriptions").values()
                    if s["Topic"] == topic]
        for sub in subs:
            content = dumps({"Topic": topic, "ClientId": sub["ClientID"], "Division": division, "Action": action,
                             "Key": key, "ExactOnlineEndpoint": endpoint,
                             "EventCreatedOn": self.now().isoformat(timespec="milliseconds")}).encode()
            body = b'{"Content":' + content + b',"HashCode":"' + self.sign(content).encode() + b'"}'
            self._enqueue(_Job(sub["CallbackURL"], body, "event",
                               {"subscription": sub["ID"], "topic": topic, "action": action, "key": key}))

    def sign(self, content: bytes) -> str:
        """Exact's HashCode: uppercase hex HMAC-SHA256 of the raw Content JSON with the webhook secret."""
        return hmac.new(self.webhook_secret.encode(), content, hashlib.sha256).hexdigest().upper()

    def _enqueue(self, job: _Job) -> None:
        with self.lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._deliver_loop, name="exact-webhooks", daemon=True)
                self._worker.start()
        self._jobs.put(job)

    def _deliver_loop(self) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            job = self._jobs.get()
            if job.kind == "validation" and self.webhook_validation_delay_s > 0:
                threading.Event().wait(self.webhook_validation_delay_s)
            record = {"url": job.url, "kind": job.kind, "body": job.body, "status": None, "error": None, **job.meta}
            try:
                headers = {"Content-Type": "application/json"} if job.body else {}
                request = urllib.request.Request(job.url, data=job.body, method="POST", headers=headers)
                with opener.open(request, timeout=self.options.webhook_timeout_s) as response:
                    record["status"] = response.status
            except urllib.error.HTTPError as exc:
                record["status"] = exc.code
                record["error"] = f"HTTP {exc.code}"
            except Exception as exc:  # a dead receiver must not take the emulator down
                record["error"] = f"{type(exc).__name__}: {exc}"
            with self._delivered:
                self.deliveries.append(record)
                self._delivered.notify_all()

    def wait_for_deliveries(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Block (real time) until at least `count` delivery attempts finished; returns them all."""
        with self._delivered:
            self._delivered.wait_for(lambda: len(self.deliveries) >= count, timeout=timeout)
            return list(self.deliveries)

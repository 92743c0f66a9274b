"""`webhooks serve` and `webhooks subscribe`: run the receiver, and register it with Walmart and Exact Online."""

from __future__ import annotations

import os
from typing import Callable

from walmart_accounting.connectors import exact, walmart
from walmart_accounting.connectors.errors import ApiError
from walmart_accounting.store.store import Store
from walmart_accounting.webhooks.app import serve
from walmart_accounting.webhooks.settings import EXACT_PATH, WALMART_PATH, SettingsError, WebhookSettings

# The events that change what gets booked: new and updated orders, and returns (eventType, resourceName).
WALMART_EVENTS = (("PO_CREATED", "ORDER"), ("ORDER_UPDATES", "ORDER"), ("RETURN_CREATED", "RETURNS"))
# The Exact topics of the documents the posting layer writes (posting/exact.py): a change there is news.
EXACT_TOPICS = ("SalesEntries", "SalesInvoices", "PurchaseEntries", "BankEntries")
EXACT_SUBSCRIPTIONS = "webhooks/WebhookSubscriptions"


def serve_from_env(store: Store, host: str, port: int, echo: Callable[..., None]) -> int:
    """Run the receiver with the environment's settings; exit status 2 when they are wrong."""
    try:
        settings = WebhookSettings.from_env()
    except SettingsError as exc:
        echo(f"webhook settings refused: {exc}", err=True)
        return 2
    if settings.walmart_auth is None and not settings.exact_secret:
        echo("neither WALMART_WEBHOOK_AUTH nor EXACT_WEBHOOK_SECRET is set: nothing could be verified", err=True)
        return 2
    walmart_state = f"on ({settings.walmart_auth})" if settings.walmart_auth else "off (WALMART_WEBHOOK_AUTH unset)"
    exact_state = "on" if settings.exact_secret else "off (EXACT_WEBHOOK_SECRET unset)"
    echo(f"webhook receiver on http://{host}:{port}: Walmart {walmart_state} at {WALMART_PATH}, "
         f"Exact {exact_state} at {EXACT_PATH}", err=True)
    serve(settings, store, host=host, port=port)
    return 0


def subscribe_walmart(client: walmart.WalmartClient, base_url: str, settings: WebhookSettings,
                      echo: Callable[[str], None]) -> bool:
    """Subscribe the receiver's Walmart path to the order and return events; True when all are in place."""
    event_url = base_url.rstrip("/") + WALMART_PATH
    auth = settings.walmart_auth_details(base_url)
    existing = {s.get("eventType"): s for s in client.webhook_subscriptions()}
    ok = True
    for event_type, resource in WALMART_EVENTS:
        current = existing.get(event_type)
        if current and current.get("eventUrl") == event_url:
            echo(f"walmart {event_type}: already subscribed ({current.get('subscriptionId')}, {current.get('status')})")
            continue
        if current:
            # Walmart keeps one subscription per event type here; replacing another receiver's is for a human.
            echo(f"walmart {event_type}: subscribed to {current.get('eventUrl')} already "
                 f"({current.get('subscriptionId')}); delete that subscription first to move it here")
            ok = False
            continue
        created = client.subscribe_webhook(event_type, resource, event_url, auth_details=auth)
        echo(f"walmart {event_type}: subscribed {event_url} ({auth['authMethod']}), id {created.get('subscriptionId')}")
    return ok


def subscribe_exact(client: exact.ExactClient, base_url: str, echo: Callable[[str], None]) -> bool:
    """Subscribe the receiver's Exact path to the topics of posted documents; True when all are in place."""
    callback = base_url.rstrip("/") + EXACT_PATH
    existing = {(s.get("CallbackURL"), s.get("Topic")) for s in
                client.query(EXACT_SUBSCRIPTIONS, select=["ID", "CallbackURL", "Topic"])}
    for topic in EXACT_TOPICS:
        if (callback, topic) in existing:
            echo(f"exact {topic}: already subscribed")
            continue
        created = client.create(EXACT_SUBSCRIPTIONS, {"CallbackURL": callback, "Topic": topic})
        echo(f"exact {topic}: subscribed {callback}, id {created.get('ID')}")
    return True


def subscribe_all(store: Store, base_url: str, echo: Callable[[str], None]) -> bool:
    """Register the receiver at `base_url` with each configured API (as `ping` decides); True when all succeeded."""
    # The clients come from the code location's resources (Dagster): imported here, so `serve` stays light.
    from walmart_accounting.cli.connect import exact_client_from_env, walmart_client_from_env

    try:
        settings = WebhookSettings.from_env()
    except SettingsError as exc:
        echo(f"webhook settings refused: {exc}")
        return False
    if not base_url.startswith(("https://", "http://")):
        echo(f"URL must be the receiver's public http(s) root, e.g. https://hooks.example.com (got {base_url!r})")
        return False
    ok, attempted = True, 0
    if os.environ.get("WALMART_CLIENT_ID"):
        attempted += 1
        if settings.walmart_auth is None:
            echo("walmart: not subscribed: set WALMART_WEBHOOK_AUTH (HMAC, BASIC_AUTH or OAUTH) and its secrets first")
            ok = False
        else:
            ok = _attempt("walmart", lambda: subscribe_walmart(walmart_client_from_env(), base_url, settings, echo), echo) and ok
    if os.environ.get("EXACT_CLIENT_ID"):
        attempted += 1
        if not settings.exact_secret:
            echo("exact: not subscribed: set EXACT_WEBHOOK_SECRET (the app's Webhook secret) so deliveries can be verified")
            ok = False
        else:
            ok = _attempt("exact", lambda: subscribe_exact(exact_client_from_env(store), base_url, echo), echo) and ok
    if not attempted:
        echo("nothing to subscribe: neither WALMART_CLIENT_ID nor EXACT_CLIENT_ID is set")
        return False
    return ok


def _attempt(api: str, action: Callable[[], bool], echo: Callable[[str], None]) -> bool:
    from walmart_accounting.defs.resources import MissingSetting

    try:
        return action()
    except (ApiError, MissingSetting) as exc:
        echo(f"{api}: subscribing failed: {exc}")
        return False

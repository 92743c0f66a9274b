"""What the emulators hold and how they misbehave: options shared by the server and every emulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from walmart_accounting.domain.config import MappingConfig, load_config, load_default_config
from walmart_accounting.sandbox.common import Clock, FaultInjector, RequestLog


@dataclass
class SandboxCredentials:
    """Sandbox client ids and secrets: public by design, they open nothing but the emulators."""

    walmart_client_id: str = "sandbox-walmart-client"
    walmart_client_secret: str = "sandbox-walmart-secret"
    xero_client_id: str = "sandbox-xero-client"
    xero_client_secret: str = "sandbox-xero-secret"
    exact_client_id: str = "sandbox-exact-client"
    exact_client_secret: str = "sandbox-exact-secret"
    exact_webhook_secret: str = "sandbox-exact-webhook-secret"


def recent_monday(days_ago: int) -> date:
    """The Monday on or before `days_ago` days ago (UTC)."""
    day = datetime.now(UTC).date() - timedelta(days=days_ago)
    return day - timedelta(days=day.weekday())


@dataclass
class SandboxOptions:
    """What the emulators hold and how they misbehave; tests turn faults on per case."""

    seed: int = 7
    # The synthetic seller's trading window: orders from seller_start for seller_days days. By default it
    # ends two weeks before today, so it stays inside Walmart's 180-day order window whenever this runs
    # and its settlements have closed; tests that need fixed dates pass seller_start.
    seller_days: int = 28
    seller_start: date | None = None
    # A folder of the seller's own recorded Walmart data (sandbox/seller/recorded.py), served instead of the
    # synthetic seller; its days come from the data, so seed, seller_start and seller_days do not apply.
    seller_data: Path | None = None
    credentials: SandboxCredentials = field(default_factory=SandboxCredentials)
    clock: Clock = field(default_factory=Clock)
    faults: FaultInjector = field(default_factory=FaultInjector)
    requests: RequestLog = field(default_factory=RequestLog)
    # Where webhook deliveries from the emulators go; None until a subscription names one.
    webhook_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.seller_start is None:
            self.seller_start = recent_monday(days_ago=self.seller_days + 14)


def ledger_mapping(ledger: str) -> MappingConfig:
    """The mapping an emulated ledger is stocked from: the active one (a dry run of the seller's own), if it has the ledger.

    Its accounts, tax codes, items and tracking are what the emulator opens with, so a seller's own mapping
    posts to emulated ledgers that hold its codes; without that ledger in it, the packaged default's.
    """
    active = load_config()
    return active if ledger in active.enabled_ledgers() else load_default_config()

"""The Dagster pools of the steps that call an API, and the limits set on the instance before the first run."""

from __future__ import annotations

import dagster as dg

from walmart_accounting.defs.ledgers.resources import LEDGERS

WALMART_POOL = "walmart_api"


def ledger_pool(ledger: str) -> str:
    """The pool of the steps that call one ledger's API."""
    return f"{ledger}_api"


API_POOLS = (WALMART_POOL, *(ledger_pool(name) for name in LEDGERS))


def set_pool_limits(instance: dg.DagsterInstance) -> dict[str, int]:
    """Give every API pool an explicit limit, so no run has to create it from the default.

    A pool left to the instance's `concurrency.pools.default_limit` is created by the first step that
    claims it; on PostgreSQL two runs doing so at once fail with a unique violation (dagster-io/dagster#33552).
    The limit is that default (one call at a time per API when unset); a limit set explicitly before is kept.
    """
    storage = instance.event_log_storage
    existing = {pool.name: pool for pool in storage.get_pool_limits()}
    default = instance.global_op_concurrency_default_limit or 1
    limits: dict[str, int] = {}
    for pool in API_POOLS:
        current = existing.get(pool)
        if current is not None and not current.from_default:
            limits[pool] = current.limit
            continue
        storage.set_concurrency_slots(pool, default)
        limits[pool] = default
    return limits

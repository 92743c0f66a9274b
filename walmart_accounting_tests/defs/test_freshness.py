"""Dagster's freshness daemon marks a posting asset stale when posting stops, and the health report when its schedule does."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.freshness import FreshnessDaemon

POSTED = datetime(2026, 11, 20, 9, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def daemon_world():
    """The real code location (the default mapping: xero per order, exact per settlement) loaded like the daemon does."""
    with pytest.MonkeyPatch.context() as env, dg.instance_for_test() as instance:
        env.setenv("WALMART_ACCOUNTING_START_DATE", "2026-10-19")
        origin = InProcessCodeLocationOrigin(LoadableTargetOrigin(
            executable_path=sys.executable, module_name="walmart_accounting.definitions", attribute="defs"))
        with create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget(origin), instance) as context:
            yield instance, context


def _state_after(world, key: str, since_posted: timedelta) -> FreshnessState:
    instance, context = world
    with freeze_time(POSTED + since_posted):
        list(FreshnessDaemon().run_iteration(context))
    record = instance.get_freshness_state_records([dg.AssetKey(key)]).get(dg.AssetKey(key))
    assert record is not None, f"the daemon evaluated no freshness for {key}"
    return record.freshness_state


@pytest.mark.parametrize(("key", "partition", "ages"), [
    # hourly invoices: fresh, then warns after 6 hours without a posting run, fails after 26
    ("xero_posted_invoices", "2026-11-20-08:00", [(1, "PASS"), (7, "WARN"), (27, "FAIL")]),
    # daily credit notes: warns after 26 hours, fails after 50
    ("xero_posted_credit_notes", "2026-11-19", [(25, "PASS"), (27, "WARN"), (51, "FAIL")]),
    # a settlement: Walmart pays bi-weekly, so 15 days without one warns and 17 fails
    ("exact_posted_settlement", "11142026", [(14 * 24, "PASS"), (16 * 24, "WARN"), (18 * 24, "FAIL")]),
    # the health report itself is hourly: two hours old warns that its schedule stopped, three fails
    ("integration_health", None, [(1, "PASS"), (2.5, "WARN"), (3.5, "FAIL")]),
])
def test_an_asset_goes_stale_when_its_runs_stop(daemon_world, key, partition, ages):
    instance, _ = daemon_world
    with freeze_time(POSTED):
        instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=partition))
    states = [_state_after(daemon_world, key, timedelta(hours=hours)).value for hours, _ in ages]
    assert states == [state for _, state in ages]


def test_an_asset_never_materialized_is_not_called_stale(daemon_world):
    assert _state_after(daemon_world, "xero_posted_settlement", timedelta(days=30)) is FreshnessState.UNKNOWN

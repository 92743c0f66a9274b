"""The prices domain's definitions: the price push, its job and a daily schedule (stopped, like every other)."""

import dagster as dg

from walmart_accounting.defs.prices.assets import prices_asset


def price_definitions(ledger: str | None) -> dg.Definitions:
    """`walmart_prices` (from `ledger`'s items, or a file when None) with `walmart_prices_job`, daily at 06:00 UTC."""
    walmart_prices = prices_asset(ledger)
    job = dg.define_asset_job("walmart_prices_job", selection=[walmart_prices],
                              description="Send the prices that differ from Walmart's as bulk price feeds.")
    schedule = dg.ScheduleDefinition(name="walmart_prices_daily", job=job, cron_schedule="0 6 * * *",
                                     execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED)
    return dg.Definitions(assets=[walmart_prices], jobs=[job], schedules=[schedule])

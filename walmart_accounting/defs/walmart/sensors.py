"""A sensor that notices new Walmart reconciliation reports and builds their settlement documents."""

import dagster as dg

from walmart_accounting.defs.resources import WalmartResource
from walmart_accounting.defs.walmart.partitions import settlement_reports


def settlement_sensor(settlements_job) -> dg.SensorDefinition:
    """Hourly: a partition for each new reconciliation report, and a run of `settlements_job` for it."""

    @dg.sensor(job=settlements_job, minimum_interval_seconds=3600, default_status=dg.DefaultSensorStatus.STOPPED,
               description="Hourly: add a partition for each new reconciliation report and run it.")
    def new_settlement_reports(context: dg.SensorEvaluationContext, walmart: WalmartResource):
        available = walmart.client().available_recon_dates()
        known = set(context.instance.get_dynamic_partitions(settlement_reports.name))
        new = [d for d in available if d not in known]
        if not new:
            return dg.SkipReason(f"{len(available)} report(s), none new")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=d, run_key=f"settlement-{d}") for d in new],
            dynamic_partitions_requests=[settlement_reports.build_add_request(new)],
        )

    return new_settlement_reports

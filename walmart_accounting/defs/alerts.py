"""Where incidents go: always the log, and a chat webhook URL and Slack (dagster-slack) where configured."""

from __future__ import annotations

import logging
from typing import ClassVar

import dagster as dg
import requests

from walmart_accounting.defs.resources import EnvResource, StoreResource
from walmart_accounting.defs.walmart.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG

log = logging.getLogger("walmart_accounting.alerts")


class AlertResource(EnvResource):
    """One incident, one message: the sensors that raise them remember what they already sent."""

    ENV: ClassVar[dict[str, str]] = {"webhook_url": "WALMART_ACCOUNTING_ALERT_WEBHOOK_URL",
                                     "slack_channel": "WALMART_ACCOUNTING_ALERT_SLACK_CHANNEL",
                                     "slack_token": "SLACK_BOT_TOKEN",
                                     "max_wait_hours": "WALMART_ACCOUNTING_MAX_WAIT_HOURS"}

    webhook_url: str | None = None  # a chat's incoming webhook (Slack, Teams, Mattermost): POST {"text": ...}
    slack_channel: str | None = None
    slack_token: str | None = None
    # A document waiting longer than this is an incident: what it waits for is probably not coming by itself.
    max_wait_hours: int = 72

    def send(self, incident: str, text: str) -> None:
        """Log the incident, then tell each configured sink; a sink that fails is logged, never raised."""
        message = f"walmart_accounting: {incident}: {text}"
        log.error("ALERT %s: %s", incident, text)
        if self.webhook_url:
            try:
                requests.post(self.webhook_url, json={"text": message}, timeout=10).raise_for_status()
            except requests.RequestException as exc:
                log.warning("alert %s not delivered to the webhook URL: %s", incident, type(exc).__name__)
        if self.slack_token and self.slack_channel:
            from dagster_slack import SlackResource

            try:
                SlackResource(token=self.slack_token).get_client().chat_postMessage(channel=self.slack_channel,
                                                                                    text=message)
            except Exception as exc:  # slack_sdk raises its own errors; an alert must not fail the sensor
                log.warning("alert %s not delivered to Slack: %s", incident, type(exc).__name__)


def alert_sensors() -> list[dg.SensorDefinition]:
    """Failed runs and new dead letters, each told to the alert sinks once."""

    @dg.run_failure_sensor(name="alert_on_run_failure", default_status=dg.DefaultSensorStatus.RUNNING,
                           description="Tells the alert sinks about each failed run, once (with its partition).")
    def alert_on_run_failure(context: dg.RunFailureSensorContext, alerts: AlertResource):
        run = context.dagster_run
        where = run.tags.get("dagster/partition") or "..".join(
            filter(None, (run.tags.get(PARTITION_RANGE_START_TAG), run.tags.get(PARTITION_RANGE_END_TAG))))
        retry = " (Dagster retries it)" if run.tags.get("dagster/will_retry") == "true" else ""
        alerts.send(f"run {run.run_id} failed", f"{run.job_name} {where or ''}{retry}: {context.failure_event.message}")

    @dg.sensor(name="alert_on_dead_letters", minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING,
               description="Every 5 minutes: tells the alert sinks about records dead-lettered since the last tick.")
    def alert_on_dead_letters(context: dg.SensorEvaluationContext, alerts: AlertResource, store: StoreResource):
        after = int(context.cursor or 0)
        letters = store.get().dead_letters(status=None, after_id=after)
        if not letters:
            return dg.SensorResult(skip_reason=f"no dead letter after id {after}", cursor=str(after))
        listed = "; ".join(f"#{d.id} {d.source} {d.record_key}: {d.reason[:120]}" for d in letters[:10])
        more = f" (and {len(letters) - 10} more)" if len(letters) > 10 else ""
        alerts.send(f"{len(letters)} new dead letter(s)",
                    f"{listed}{more}; see `walmart-accounting dead-letters list`")
        return dg.SensorResult(skip_reason=f"{len(letters)} dead letter(s) alerted", cursor=str(letters[-1].id))

    return [alert_on_run_failure, alert_on_dead_letters]

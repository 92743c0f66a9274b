"""`walmart-accounting simulate`: weeks of production on the sandboxes, hour by hour, through the real sensors and schedules."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

Echo = Callable[[str], None]
WEBHOOK_SECRET = "simulated-walmart-webhook-secret"


@dataclass
class Tally:
    """What the simulation did: runs by job and trigger, and the invariants that failed."""

    runs: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)  # wall time per job, and in the sensors and schedules
    failed_runs: list[str] = field(default_factory=list)
    events: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class Deployment:
    """A deployment on the sandboxes with the clock under control: what a simulation or a benchmark drives."""

    home: Path
    server: object
    walmart: object  # the Walmart emulator's state
    seller: object
    timeline: object
    store: object
    defs: object
    instance: object
    now: Callable[[], datetime]
    webhooks: bool
    first: datetime


@contextmanager
def deployment(days: int = 28, webhooks: bool = True, modes: dict[str, str] | None = None, seed: int = 7,
               workdir: Path | None = None, start: date | None = None) -> Iterator[Deployment]:
    """The sandboxes, a store, connected ledgers, the webhook receiver (subscribed) and the code location's definitions."""
    import dagster as dg
    import requests
    import yaml
    from cryptography.fernet import Fernet

    from walmart_accounting.cli.connect import connect_flow, exact_client_from_env, xero_client_from_env
    from walmart_accounting.definitions import build_defs
    from walmart_accounting.domain.config import load_default_config
    from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer, ThreadedServer
    from walmart_accounting.sandbox.walmart.timeline import Timeline
    from walmart_accounting.store.store import Store

    home = Path(workdir or tempfile.mkdtemp(prefix="walmart_accounting_simulate_")).resolve()
    shutil.rmtree(home, ignore_errors=True)
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    server = SandboxServer(SandboxOptions(seed=seed, seller_days=days, seller_start=start)).start()
    receiver = store = None
    saved = dict(os.environ)
    try:
        clock = server.options.clock
        now = lambda: datetime.fromtimestamp(clock.now(), UTC)  # noqa: E731  (the sensors' clock is the sandboxes')
        config = load_default_config().model_dump(mode="json")
        for ledger, mode in (modes or {}).items():
            config["ledgers"][ledger]["posting_mode"] = mode
        (home / "mapping.yaml").write_text(yaml.safe_dump(config))
        # Hours pass in seconds here, so the per-minute limits would throttle a day's posting into real minutes;
        # they are lifted (client pace and emulators alike). The daily limits stay, counted in simulated days.
        server.app.state.exact.minutely_limit = server.app.state.xero.minute_limit = 100_000
        os.environ.update({**server.env(), "DAGSTER_HOME": str(home / "dagster"),
                           "XERO_CALLS_PER_MINUTE": "100000", "EXACT_CALLS_PER_MINUTE": "100000",
                           "WALMART_ACCOUNTING_DB_URL": f"sqlite:///{home / 'store.sqlite'}",
                           "WALMART_ACCOUNTING_SECRET_KEY": Fernet.generate_key().decode(),
                           "WALMART_ACCOUNTING_CONFIG": str(home / "mapping.yaml")})
        walmart = server.app.state.walmart
        seller = walmart.seller
        timeline = Timeline(walmart)
        first = datetime.combine(seller.start, datetime.min.time(), UTC)
        timeline.travel_to(first)
        store = Store.open(migrate=True)
        for client in (xero_client_from_env(store), exact_client_from_env(store)):
            connect_flow(client, 0, lambda url: requests.get(url, timeout=30).raise_for_status(), timeout_s=30)
        if webhooks:
            receiver = _start_receiver(store, clock, ThreadedServer)
            _subscribe(receiver.url)
        yield Deployment(home=home, server=server, walmart=walmart, seller=seller, timeline=timeline, store=store,
                         defs=build_defs(start=seller.start, now=now),
                         instance=dg.DagsterInstance.ephemeral(),  # in memory, like the demo's: thousands of runs
                         now=now, webhooks=webhooks, first=first)
    finally:
        if store is not None:
            store.dispose()
        if receiver is not None:
            receiver.stop()
        server.stop()
        os.environ.clear()
        os.environ.update(saved)


def run_simulation(echo: Echo, days: int = 28, step_hours: int = 1, webhooks: bool = True,
                   modes: dict[str, str] | None = None, seed: int = 7, workdir: Path | None = None,
                   start: date | None = None) -> int:
    """Run the seller's window hour by hour (sensors and schedules as the daemon would), then check the books; 0 if they tie out."""
    with deployment(days, webhooks, modes, seed, workdir, start) as live:
        reports = [datetime.strptime(s.report_date, "%m%d%Y").replace(tzinfo=UTC) for s in live.seller.settlements]
        until = max([live.first + timedelta(days=days), *reports]) + timedelta(days=2)
        echo(f"simulating {live.seller.start} to {until.date()} in steps of {step_hours} h, webhooks "
             f"{'on' if webhooks else 'off (polling only)'}, modes {_modes(live.defs)}, "
             f"{len(reports)} settlement report(s) on the way")
        tally = Tally()
        ticker = Ticker(live)
        started = time.monotonic()
        moment, steps = live.first, 0
        while moment < until:
            moment += timedelta(hours=step_hours)
            ticker.advance_to(moment, tally)
            steps += 1
            if steps % 24 == 0:
                echo(f"    {moment:%Y-%m-%d %H:%M}: {sum(tally.runs.values())} runs so far "
                     f"({time.monotonic() - started:.0f} s)")
        return _report(echo, live.server, live.seller, tally, live.home, modes)


class Ticker:
    """The daemon's part: move the clock, deliver what Walmart sends, evaluate sensors and schedules, run what they ask."""

    def __init__(self, live: Deployment) -> None:
        self.live = live
        self.cursors: dict[str, str | None] = {}
        self.seen_keys: set[str] = set()
        self.moment = live.first

    def advance_to(self, moment: datetime, tally: Tally) -> None:
        live = self.live
        previous, self.moment = self.moment, moment
        live.timeline.travel_to(moment, notify=live.webhooks)
        if live.webhooks:
            tally.events, tally.duplicates = _deliver_twice(live.walmart, tally.events, tally.duplicates)
        self.tick(previous, moment, tally)

    def tick(self, previous: datetime, moment: datetime, tally: Tally, names: list[str] | None = None) -> None:
        """Evaluate the sensors (`names`, or all) and the schedules due in (previous, moment], and execute their runs."""
        live = self.live
        ticked = time.monotonic()
        due = _evaluate(live.defs, live.instance, self.cursors, previous, moment, live.webhooks, names)
        tally.seconds["(sensors and schedules)"] += time.monotonic() - ticked
        for request in due:
            if request.run_key and request.run_key in self.seen_keys:
                continue  # the daemon starts one run per run key
            self.seen_keys.add(request.run_key)
            _execute(live.defs, live.instance, request, tally)


def _modes(defs) -> str:
    names = {spec.key.to_user_string() for spec in defs.resolve_all_asset_specs()}
    return ", ".join(f"{ledger} {'settlement_summary' if f'{ledger}_settlement_summary' in names else 'per_order'}"
                     for ledger in ("xero", "exact") if any(n.startswith(f"{ledger}_") for n in names))


def _start_receiver(store, clock, server_class):
    """The webhook receiver on a real port, checking signatures against the sandboxes' clock."""
    from walmart_accounting.webhooks.app import build_app
    from walmart_accounting.webhooks.settings import WebhookSettings

    settings = WebhookSettings(walmart_auth="HMAC", walmart_secret=WEBHOOK_SECRET)
    return server_class(build_app(settings, store, clock=clock.now)).start()


def _subscribe(url: str) -> None:
    from walmart_accounting.cli.connect import walmart_client_from_env
    from walmart_accounting.cli.webhooks import subscribe_walmart
    from walmart_accounting.webhooks.settings import WebhookSettings

    settings = WebhookSettings(walmart_auth="HMAC", walmart_secret=WEBHOOK_SECRET)
    if not subscribe_walmart(walmart_client_from_env(), url, settings, lambda _: None):
        raise RuntimeError("the Walmart sandbox refused the webhook subscriptions")


def _deliver_twice(walmart, delivered: int, duplicates: int) -> tuple[int, int]:
    """Let the sandbox deliver what happened in the step, then deliver each new event again (a duplicate)."""
    walmart.wait_for_deliveries(timeout=60)
    with walmart.lock:
        new = walmart.events[delivered:]
        subscriptions = [s for s in walmart.subscriptions.values() if s["status"] == "ACTIVE"]
    for envelope in new:
        for sub in subscriptions:
            if sub["eventType"] == envelope["source"]["eventType"]:
                walmart._enqueue(dict(sub), envelope)
                duplicates += 1
    walmart.wait_for_deliveries(timeout=60)
    return delivered + len(new), duplicates


def _evaluate(defs, instance, cursors: dict, previous: datetime, moment: datetime, webhooks: bool,
              only: list[str] | None = None):
    """The run requests of every sensor due and every schedule that fired in (previous, moment], in the daemon's way.

    With `only`, just those sensors and no schedule.
    """
    import dagster as dg

    from walmart_accounting.defs.alerts import AlertResource
    from walmart_accounting.defs.resources import StoreResource, WalmartResource

    resources = {"walmart": WalmartResource.from_env(), "store": StoreResource(), "alerts": AlertResource()}
    names = ["walmart_webhook_events"] if webhooks else []
    names += ["walmart_changes", "new_settlement_reports", *(s.name for s in defs.sensors if s.name.endswith("_waiting_documents"))]
    names = names if only is None else only
    requests: list[dg.RunRequest] = []
    for name in names:
        sensor = defs.resolve_sensor_def(name)
        with dg.build_sensor_context(instance=instance, cursor=cursors.get(name), resources=resources) as context:
            result = sensor(context)
        if isinstance(result, dg.SensorResult):
            cursors[name] = result.cursor if result.cursor is not None else cursors.get(name)
            for request in result.dynamic_partitions_requests or []:
                instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            requests += [r.with_replaced_attrs(job_name=r.job_name or sensor.job_name) for r in result.run_requests or []]
    for schedule in defs.schedules if only is None else []:
        times = _cron_times(schedule.cron_schedule, previous, moment)
        if defs.resolve_job_def(schedule.job_name).partitions_def is None:
            times = times[-1:]  # a report of the present: its ticks within one step are the same run
        for when in times:
            with dg.build_schedule_context(instance=instance, scheduled_execution_time=when) as context:
                data = schedule.evaluate_tick(context)
            requests += [r.with_replaced_attrs(job_name=r.job_name or schedule.job_name) for r in data.run_requests or []]
    return requests


def _cron_times(cron: str, after: datetime, until: datetime) -> list[datetime]:
    from dagster._utils.schedules import cron_string_iterator  # Dagster's own cron arithmetic

    times = []
    for when in cron_string_iterator(after.timestamp(), cron, "UTC"):
        if when > until:
            break
        if when > after:
            times.append(when.astimezone(UTC))
    return times


def _execute(defs, instance, request, tally: Tally) -> None:
    job = defs.resolve_job_def(request.job_name)
    started = time.monotonic()
    result = job.execute_in_process(instance=instance, tags=dict(request.tags), partition_key=request.partition_key,
                                    raise_on_error=False,
                                    run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
    trigger = request.tags.get("walmart_accounting/trigger") or ("schedule" if "dagster/schedule_name" in request.tags
                                                               else "sensor")
    tally.runs[(request.job_name, trigger)] += 1
    tally.seconds[request.job_name] += time.monotonic() - started
    if not result.success:
        tally.failed_runs.append(f"{request.job_name} {request.partition_key or request.tags}")


def _report(echo: Echo, server, seller, tally: Tally, home: Path, modes: dict[str, str] | None) -> int:
    """Print what it took and check the books in both ledgers; 0 only when every invariant holds."""
    import pandas as pd

    from walmart_accounting.cli.demo import _posting_summary
    from walmart_accounting.domain.config import load_config
    from walmart_accounting.store.store import Store

    echo(f"runs: {sum(tally.runs.values())} "
         f"({', '.join(f'{job} by {trigger}: {n}' for (job, trigger), n in sorted(tally.runs.items()))})")
    echo("time: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in tally.seconds.most_common()))
    late_ships = sum(1 for po in seller._pos if po.ship_at is not None and po.ship_at - po.created > timedelta(hours=72))
    late_refunds = sum(1 for r in seller._returns if r.refunded_at <= seller.as_of
                       and r.refunded_at - r.created > timedelta(days=7))
    echo(f"the seller shipped {late_ships} order(s) more than 72 h after they were placed and refunded "
         f"{late_refunds} return(s) more than 7 days after they were opened")
    if tally.events:
        echo(f"webhook events: {tally.events} delivered, and {tally.duplicates} duplicates delivered again")
    for failed in tally.failed_runs:
        echo(f"    FAILED run: {failed}")
    cfg = load_config()
    store = Store.open()
    problems = _exactly_once(server, seller, cfg)
    frames = [pd.read_parquet(p) for asset in _document_assets(home) for p in sorted(asset.glob("*.parquet"))]
    documents = pd.concat([f for f in frames if len(f)], ignore_index=True) if frames else pd.DataFrame()
    tied = _posting_summary(store, server, seller, echo, cfg, documents)
    store.dispose()
    for problem in problems:
        echo(f"    FAILED: {problem}")
    ok = tied and not problems and not tally.failed_runs
    echo("==> EVERY INVARIANT HOLDS: each shipped order invoiced once, each refund credited once, nothing posted "
         "twice, clearing at zero after the payouts" if ok else "==> NOT RECONCILED: see the lines marked FAILED above")
    return 0 if ok else 1


def _document_assets(home: Path) -> list[Path]:
    frames = home / "dagster" / "storage" / "frames"
    return [p for p in frames.iterdir() if p.is_dir() and any(p.name.endswith(s) for s in
                                                             ("_sales_invoices", "_credit_notes", "_settlement_documents",
                                                              "_settlement_summary"))] if frames.exists() else []


def _exactly_once(server, seller, cfg) -> list[str]:
    """Every shipped order invoiced once and every refunded return credited once in a per_order ledger; no reference twice."""
    from walmart_accounting.domain.config import PostingMode

    problems: list[str] = []
    as_of = seller.as_of
    shipped = [po.po_id for po in seller._pos
               if all(line.cancelled_by(as_of) or (po.ship_at is not None and po.ship_at <= as_of) for line in po.lines)
               and any(not line.cancelled_by(as_of) for line in po.lines)]
    refunded = [r.return_id for r in seller._returns if r.refunded_at <= as_of]
    for name, ledger in cfg.enabled_ledgers().items():
        if ledger.posting_mode is not PostingMode.PER_ORDER:
            continue
        count = _counter(server, name)
        twice = [po for po in shipped if count("invoice", f"WM-{po}") > 1]
        missing = [po for po in shipped if count("invoice", f"WM-{po}") == 0]
        if twice:
            problems.append(f"{name}: {len(twice)} order(s) invoiced more than once: {', '.join(twice[:5])}")
        if missing:
            problems.append(f"{name}: {len(missing)} shipped order(s) never invoiced: {', '.join(missing[:5])}")
        credited = [r for r in refunded if count("credit_note", f"WM-RET-{r}") != 1]
        if credited:
            problems.append(f"{name}: {len(credited)} refunded return(s) not credited exactly once: {', '.join(credited[:5])}")
    return problems


def _counter(server, ledger: str) -> Callable[[str, str], int]:
    if ledger == "xero":
        xero = server.app.state.xero
        return lambda kind, ref: xero.count_by_reference("invoice" if kind == "invoice" else "credit_note", ref)
    exact = server.app.state.exact
    return lambda kind, ref: exact.count_by_your_ref("salesentries", ref)

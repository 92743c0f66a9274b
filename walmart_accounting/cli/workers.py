"""Celery workers for the distributed executor: started as separate processes on the broker, found, and stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from walmart_accounting.defs.executors import backend_url, broker_url

QUEUE = "dagster"  # dagster-celery's default queue (a step's `dagster-celery/queue` tag can name another)


@dataclass
class Worker:
    """One Celery worker process: its node name (what Dagster's events name as the step's worker) and log."""

    name: str
    process: subprocess.Popen
    log: Path


def _ping(names: list[str], timeout: float) -> set[str]:
    from celery import Celery

    app = Celery(broker=broker_url(), backend=backend_url())
    try:
        replies = app.control.ping(destination=names, timeout=timeout) or []
    finally:
        app.close()
    return {name for reply in replies for name in reply}


@contextmanager
def celery_workers(count: int = 2, log_dir: Path | None = None, start_timeout: float = 90) -> Iterator[list[Worker]]:
    """`count` workers, each a process running one step at a time, on the configured broker; stopped on exit.

    They inherit this process's environment (the code location's settings, DAGSTER_HOME), as workers on other
    machines would get theirs from their own deployment.
    """
    run = uuid.uuid4().hex[:6]
    folder = Path(log_dir or os.environ.get("DAGSTER_HOME") or ".").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    workers: list[Worker] = []
    try:
        for i in range(1, count + 1):
            name = f"walmart{i}-{run}@{os.uname().nodename}"
            log = folder / f"celery-worker-{i}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "dagster_celery.app", "-b", broker_url(), "--result-backend",
                 backend_url(), "worker", "-Q", QUEUE, "-n", name, "--concurrency", "1", "--prefetch-multiplier", "1",
                 "--without-gossip", "--without-mingle", "-l", "INFO"],
                stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
            workers.append(Worker(name, process, log))
        deadline = time.monotonic() + start_timeout
        names = [w.name for w in workers]
        while _ping(names, timeout=1.0) != set(names):
            dead = [w for w in workers if w.process.poll() is not None]
            if dead or time.monotonic() > deadline:
                tail = dead[0].log.read_text(errors="replace")[-2000:] if dead else ""
                raise RuntimeError(f"Celery workers did not answer on {broker_url()} within {start_timeout:.0f} s "
                                   f"(is the broker up?) {tail}")
            time.sleep(0.5)
        yield workers
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                os.killpg(worker.process.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait(timeout=10)


def step_workers(instance, run_id: str) -> dict[str, str]:
    """Step key -> the Celery worker that ran it, from the run's engine events."""
    found = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or not event.is_engine_event or not event.step_key:
            continue
        data = event.engine_event_data
        worker = (data.metadata or {}).get("Celery worker") if data else None
        if worker is not None:
            found[event.step_key] = getattr(worker, "value", worker)
    return found

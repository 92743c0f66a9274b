"""Where the steps of a run execute: in the run's process (Dagster's default) or on Celery workers across machines."""

import os

import dagster as dg

EXECUTOR_ENV_VAR = "WALMART_ACCOUNTING_EXECUTOR"  # unset: Dagster's default; "celery": the workers
BROKER_ENV_VAR = "WALMART_ACCOUNTING_CELERY_BROKER"
BACKEND_ENV_VAR = "WALMART_ACCOUNTING_CELERY_BACKEND"
DEFAULT_BROKER = "pyamqp://guest@localhost:5672//"  # RabbitMQ; Redis is redis://localhost:6379/0


def broker_url() -> str:
    return os.environ.get(BROKER_ENV_VAR) or DEFAULT_BROKER


def backend_url() -> str:
    return os.environ.get(BACKEND_ENV_VAR) or "rpc://"


def executor_from_env() -> dg.ExecutorDefinition | None:
    """The executor `WALMART_ACCOUNTING_EXECUTOR` names; None leaves Dagster's default (a process per step)."""
    chosen = (os.environ.get(EXECUTOR_ENV_VAR) or "").strip().lower()
    if chosen in ("", "default", "multiprocess"):
        return None
    if chosen == "in_process":
        return dg.in_process_executor
    if chosen != "celery":
        raise ValueError(f"{EXECUTOR_ENV_VAR}={chosen!r}: expected celery, in_process or multiprocess")
    from dagster_celery import celery_executor

    # The workers must listen on the same broker: `walmart-accounting workers` starts them with these settings.
    return celery_executor.configured({"broker": broker_url(), "backend": backend_url(),
                                       "include": ["walmart_accounting.definitions"]}, name="celery")

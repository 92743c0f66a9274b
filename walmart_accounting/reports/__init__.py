"""Reconciliation reports an analyst reads: pure functions of the project's frames (no I/O but the render targets given)."""

from walmart_accounting.reports.daily_sales import DAILY_SALES_COLUMNS, daily_sales
from walmart_accounting.reports.settlement import CATEGORY_LABELS, REPORT_COLUMNS, SettlementReport, settlement_report

__all__ = ["CATEGORY_LABELS", "DAILY_SALES_COLUMNS", "REPORT_COLUMNS", "SettlementReport", "daily_sales", "settlement_report"]

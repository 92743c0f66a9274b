"""Where report files go: a folder an analyst can open, linked from each report's metadata."""

from pathlib import Path
from typing import ClassVar

from walmart_accounting.defs.resources import EnvResource
from walmart_accounting.store.db import state_dir


class ReportsResource(EnvResource):
    """The reports folder: $WALMART_ACCOUNTING_REPORTS_DIR, else `reports/` beside the integration's state."""

    ENV: ClassVar[dict[str, str]] = {"folder": "WALMART_ACCOUNTING_REPORTS_DIR"}

    folder: str | None = None

    def path(self, *parts: str) -> Path:
        """A folder under the reports folder, created if needed."""
        target = (Path(self.folder) if self.folder else state_dir() / "reports").joinpath(*parts)
        target.mkdir(parents=True, exist_ok=True)
        return target

"""The export job: one per dossier, ids only, its own session (services do the work)."""

from __future__ import annotations

from portal.bookkeeping import export
from portal.jobs.context import app_job


@app_job
def export_dossier(account_id: int) -> str:
    """Export the dossier's items waiting for it; returns how the run ended."""
    return export.run_export(account_id).status

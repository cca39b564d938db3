"""What a build's checks found, read from its Dagster run, and the report's preview for the UI."""

import dagster as dg

from orchestration.lib.report import CHARTS, CheckStatus


def check_status(instance: dg.DagsterInstance, run_id: str) -> CheckStatus:
    """What the checks of a run found: dbt tests and metric checks alike."""
    status = CheckStatus()
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        name = f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}"
        if evaluation.passed:
            status.passed += 1
        elif evaluation.severity == dg.AssetCheckSeverity.WARN:
            status.warned.append(name)
        else:
            status.failed.append(name)
    return status


def preview_markdown(summary: dict, checks: CheckStatus) -> str:
    lines = [
        f"**Snapshot {summary['snapshot_date']}** - source `{summary['source']}`"
        + (" - **synthetic sample**" if summary["synthetic"] else ""),
        "",
        "| models | with a parent | with a country label | checks passed |",
        "|---:|---:|---:|---:|",
        f"| {summary['models']:,} | {summary['derivatives']:,} | {summary['labelled']:,} | {checks.passed} of {checks.total} |",
        "",
        "Charts: " + "; ".join(CHARTS.values()),
    ]
    return "\n".join(lines)

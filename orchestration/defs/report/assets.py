"""The report asset: the blog's charts for one snapshot, as one offline HTML page."""

import shutil

import dagster as dg

from orchestration.defs.catalog import OWNERS
from orchestration.defs.partitions import snapshot_partitions
from orchestration.defs.report.status import check_status, preview_markdown
from orchestration.lib.report import render
from orchestration.defs.resources import ObservatorySettings

PUBLISHED_KEY = dg.AssetKey(["warehouse", "published"])


@dg.asset(
    key=["reports", "snapshot_report"],
    deps=[PUBLISHED_KEY],
    partitions_def=snapshot_partitions,
    backfill_policy=dg.BackfillPolicy.multi_run(1),
    group_name="reports",
    kinds={"html", "plotly"},
    owners=OWNERS,
    tags={"layer": "reports"},
    description="One offline HTML page with a chart per analysis (A1-A6, trends, breadth) of the snapshot, read from the "
    "published warehouse: `data/reports/report-<date>.html`, and `latest.html` for the newest build. No automation "
    "condition: the page shows the checks of the run that built the snapshot, so it is written by that run "
    "(the job `refresh_snapshot` selects it), not by a later run of its own.",
)
def snapshot_report(context: dg.AssetExecutionContext, observatory: ObservatorySettings) -> dg.MaterializeResult:
    settings = observatory.get()
    checks = check_status(context.instance, context.run.run_id)
    out = settings.report_path(context.partition_key)
    summary = render(settings.duckdb_path, context.partition_key, out, checks)
    shutil.copyfile(out, settings.reports_dir / "latest.html")
    context.log.info(f"report written to {out}")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(out)),
        "preview": dg.MetadataValue.md(preview_markdown(summary, checks)),
        "charts": summary["charts"],
        "bytes": out.stat().st_size,
    })

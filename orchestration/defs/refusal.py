"""Refusing a run: it ends canceled, nothing written, and the date's assets keep their status."""

import dagster as dg

REFUSED_TAG = "observatory/refused"


class Refused(dg.DagsterExecutionInterruptedError):
    """The run is refused: nothing was written and what is stored stays as it was."""


def refuse(context: dg.AssetExecutionContext, reason: str):
    """End the run as canceled, with `reason` on the step that refused and in the run's tag
    observatory/refused; every later step is skipped.

    Dagster marks a date's partition failed when a run that planned it ends in FAILURE without
    materializing it (partition_status_cache.build_failed_and_in_progress_partition_subset): a
    failed refusal would turn every built asset of the date red although nothing was harmed. A
    canceled run marks none of them failed, and the UI shows the run as canceled, the step as failed."""
    context.log.error(f"refused: {reason}")
    context.instance.add_run_tags(context.run.run_id, {REFUSED_TAG: reason[:1000]})
    context.instance.report_run_canceling(context.run, message=f"Refused: {reason}")
    raise Refused(reason) from None

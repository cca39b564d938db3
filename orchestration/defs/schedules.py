"""The refresh job, the sensor that runs it when the Hub has a new day of real data, and the job
that registers snapshot dates (partitions) from the UI."""

import datetime as dt
from typing import Literal

import dagster as dg
from pydantic import Field

from orchestration.defs.partitions import dates_between, register_dates, snapshot_partitions
from orchestration.defs.resources import ObservatorySettings
from orchestration.settings import Settings

# Everything for one snapshot date: the raw snapshot, every dbt model, test and check, the report.
refresh_job = dg.define_asset_job(
    name="refresh_snapshot",
    selection=dg.AssetSelection.all(),
    description="Ingest one snapshot date and build every model, test and check on it.",
    # One process per run: the snapshot date's lock is held from the dbt step to the publish step.
    executor_def=dg.in_process_executor,
)


class RegisterDatesConfig(dg.Config):
    """Snapshot dates to add as partitions; nothing is built: then backfill them from the job refresh_snapshot."""

    start: str = Field(alias="from", description="First date, YYYY-MM-DD.")
    end: str = Field(alias="to", description="Last date, YYYY-MM-DD (included).")
    every: Literal["day", "week"] = Field(default="day", description=(
        "day: every date of the range; week: the first date and every seventh day after it (start on a "
        "Wednesday for hub_weekly's weekly copies, e.g. 2024-07-24)."))


@dg.op(name="add_snapshot_dates", description="Add the dates from..to as snapshot_date partitions (no build).")
def register_snapshot_dates_op(context: dg.OpExecutionContext, config: RegisterDatesConfig) -> None:
    try:
        dates = dates_between(config.start, config.end, config.every)
    except ValueError as exc:
        raise dg.Failure(f"cannot register these dates: {exc}") from None
    added = register_dates(context.instance, dates)
    context.log.info(f"{len(dates)} dates from {config.start} to {config.end} (every {config.every}): "
                     f"{len(added)} added, {len(dates) - len(added)} already partitions")


@dg.job(
    name="register_snapshot_dates",
    description="Register a range of snapshot dates as partitions, so that a backfill in the UI builds exactly "
    "them. Nothing is fetched or built; the command line registers its dates itself.",
    executor_def=dg.in_process_executor,
)
def register_snapshot_dates_job():
    register_snapshot_dates_op()


def refresh_request(settings: Settings, today: str) -> dg.RunRequest | dg.SkipReason:
    """What the sensor asks for: today's snapshot from the configured source (SCHEDULE_SOURCE,
    default hub_stats), or a reason to skip and look again at the next poll."""
    from orchestration.defs.ingest.hub import HubError
    from orchestration.lib.sources import SnapshotRequest, get_source

    try:
        source = get_source(settings.schedule_source)
    except ValueError as exc:
        return dg.SkipReason(f"SCHEDULE_SOURCE: {exc}")
    request = SnapshotRequest(source=source.name, snapshot_date=today, repo_id=settings.hub_stats_repo,
                              weekly_repo=settings.hub_weekly_repo, dir=settings.hub_dir, file=settings.hub_file,
                              sample_rows=settings.sample_rows)
    config = {"source": source.name}
    try:
        if source.name == "hub_stats":
            revision = source.resolve(request)  # the last commit dated today, or LookupError
            snapshot_date, config["revision"] = today, revision.sha
        elif source.name == "api":
            snapshot_date = today
        else:  # the newest date the source offers (the week of hub_weekly, a folder's newest file)
            snapshot_date = source.default_date(request)
    except (LookupError, ValueError, FileNotFoundError) as exc:
        return dg.SkipReason(f"{source.name}: nothing for {today} yet ({exc}); checking again in {settings.hub_poll_minutes} min")
    except HubError as exc:
        return dg.SkipReason(f"{source.name}: the Hub did not answer ({exc}); checking again in {settings.hub_poll_minutes} min")
    return dg.RunRequest(
        run_key=f"{source.name}:{snapshot_date}",  # one run per date: later polls of the day skip
        partition_key=snapshot_date,
        run_config={"ops": {"ingest_snapshot": {"config": config}}},
        tags={"observatory/source": source.name},
    )


def build_refresh_sensor(poll_minutes: int) -> dg.SensorDefinition:
    """hub-stats is updated daily around 13:00 UTC, sometimes hours late: poll instead of guessing the hour."""

    @dg.sensor(
        name="hub_refresh_sensor",
        job=refresh_job,
        minimum_interval_seconds=poll_minutes * 60,
        description=(
            f"Every {poll_minutes} min (HUB_POLL_MINUTES): when the configured source (SCHEDULE_SOURCE, default "
            "hub_stats) has today's revision, ingest it and rebuild its marts; until then skip, saying why."
        ),
    )
    def hub_refresh_sensor(context: dg.SensorEvaluationContext, observatory: ObservatorySettings):
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        request = refresh_request(observatory.get(), today)
        if isinstance(request, dg.SkipReason):
            return request
        # The date becomes a partition in the same tick, before its run is created.
        return dg.SensorResult(run_requests=[request], dynamic_partitions_requests=[
            snapshot_partitions.build_add_request([request.partition_key])])

    return hub_refresh_sensor

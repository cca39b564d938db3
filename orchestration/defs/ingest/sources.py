"""The ways a snapshot arrives live in orchestration/lib/sources.py (one class per source); the
ingest asset and the CLI import them from there or from here."""

from orchestration.lib.sources import (  # noqa: F401 (re-exported)
    SOURCE_NAMES,
    Fetched,
    SnapshotRequest,
    Source,
    check_request,
    get_source,
)

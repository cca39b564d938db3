"""The Dagster code location. Loading it is cheap: definitions are built when Dagster asks."""

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    from orchestration.defs import build_definitions

    return build_definitions()

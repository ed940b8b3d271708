"""`diasporahub alerts rebuild-people`: alerts reads every individual from the registry again (where they live,
their memberships), for the advisories' areas and safety checks."""

import sys

from contracts.advisories import PeopleRebuild
from contracts.errors import DiasporaHubError
from servicekit.rpc import call_service
from servicekit.settings import BusSettings

REBUILD_TIMEOUT_SECONDS = 600.0


def rebuild_people() -> int:
    try:
        answer = call_service(
            BusSettings(), "alerts", "rebuild_advisory_people", timeout_seconds=REBUILD_TIMEOUT_SECONDS
        )
    except DiasporaHubError as exc:
        print(f"diasporahub: alerts' people were not rebuilt: {exc.message}", file=sys.stderr)
        return 1
    rebuilt = PeopleRebuild.model_validate(answer)
    print(f"Alerts' people rebuilt from the registry: {rebuilt.people} individuals.")
    return 0

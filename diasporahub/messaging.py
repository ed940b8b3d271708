"""`diasporahub messaging rebuild-directory`: messaging reads the whole directory from the registry again."""

import sys

from contracts.errors import DiasporaHubError
from contracts.messaging import DirectoryRebuild
from servicekit.rpc import call_service
from servicekit.settings import BusSettings

REBUILD_TIMEOUT_SECONDS = 600.0


def rebuild_directory() -> int:
    try:
        answer = call_service(BusSettings(), "messaging", "rebuild_directory", timeout_seconds=REBUILD_TIMEOUT_SECONDS)
    except DiasporaHubError as exc:
        print(f"diasporahub: the directory was not rebuilt: {exc.message}", file=sys.stderr)
        return 1
    rebuilt = DirectoryRebuild.model_validate(answer)
    print(f"Messaging's directory rebuilt from the registry: {rebuilt.associations} associations.")
    return 0

"""A service whose RPC takes as long as asked, to stop it while it works (tests/integration/test_graceful_shutdown)."""

import eventlet

from servicekit.rpc import rpc


class SlowService:
    name = "slow"

    @rpc
    def work(self, seconds: float) -> str:
        eventlet.sleep(seconds)
        return f"worked {seconds:g} s"

"""The ping every service answers, so the gateway's /readyz can tell who is up."""

from servicekit.rpc import rpc


class Pingable:
    name: str

    @rpc
    def ping(self) -> str:
        return self.name

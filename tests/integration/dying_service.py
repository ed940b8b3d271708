"""A service whose container dies when asked (a managed thread raises, as one of nameko's own may when the broker
goes away), to see its process end (tests/integration/test_runner_container_death.py)."""

from nameko.extensions import DependencyProvider

from servicekit.rpc import rpc


class Fuse(DependencyProvider):
    """Lit, it raises in a managed thread of the container, which nameko answers by killing the container."""

    def get_dependency(self, worker_ctx):
        return lambda: self.container.spawn_managed_thread(self._blow, identifier="fuse")

    @staticmethod
    def _blow() -> None:
        raise RuntimeError("a managed thread failed")


class DyingService:
    name = "dying"
    fuse = Fuse()

    @rpc
    def die(self) -> str:
        self.fuse()
        return "dying"

"""A dependency built once per service process and handed to every worker (a gazetteer, a client)."""

from collections.abc import Callable

from nameko.extensions import DependencyProvider


class Shared(DependencyProvider):
    def __init__(self, factory: Callable[[], object]):
        self.factory = factory

    def setup(self) -> None:
        self.instance = self.factory()

    def get_dependency(self, worker_ctx) -> object:
        return self.instance

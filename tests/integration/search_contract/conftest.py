"""The search port's contract suite runs on every engine: the embedded one always, Elasticsearch when
SEARCH_ELASTICSEARCH_URL is set (otherwise its cases are not collected at all, and the run says so).

Against Elasticsearch it connects as the service does, with the other SEARCH_ELASTICSEARCH_* settings
(API key or user and password, CA certificate or fingerprint): services/search/README.md has the recipe.
"""

import os
import shutil
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from servicekit.migrations import upgrade
from services.search.elastic.engine import ElasticsearchEngine
from services.search.embedded.engine import EmbeddedEngine
from services.search.settings import SearchSettings
from tests.integration.search_contract.elasticsearch_indices import delete_indices

ELASTICSEARCH_URL = os.environ.get("SEARCH_ELASTICSEARCH_URL")
ENGINES = ["embedded"] + (["elasticsearch"] if ELASTICSEARCH_URL else [])


def pytest_terminal_summary(terminalreporter):
    if ELASTICSEARCH_URL:
        terminalreporter.write_line(f"search contract suite: ran on the embedded engine and on {ELASTICSEARCH_URL}")
    else:
        terminalreporter.write_line(
            "search contract suite: ran on the embedded engine only; not on Elasticsearch "
            "(set SEARCH_ELASTICSEARCH_URL to run it there too)"
        )


@pytest.fixture(scope="session")
def migrated_search_database(tmp_path_factory):
    """Migrated once; each test gets a copy, which is much faster than migrating again."""
    path = tmp_path_factory.mktemp("search-template") / "search.sqlite3"
    upgrade("services.search", f"sqlite:///{path}")
    return path


class StoppedClock:
    """Time moves only when a test moves it."""

    def __init__(self):
        self.now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, duration: timedelta) -> None:
        self.now += duration


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock()


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path, clock):
    if request.param == "embedded":
        path = tmp_path / "search.sqlite3"
        shutil.copy(request.getfixturevalue("migrated_search_database"), path)
        engine = EmbeddedEngine(f"sqlite:///{path}", clock=clock)
        yield engine
        engine.close()
        return
    prefix = f"diasporahub-test-{uuid.uuid4().hex[:10]}-"
    engine = ElasticsearchEngine.connect(SearchSettings(elasticsearch_index_prefix=prefix), refresh=True, clock=clock)
    engine.warm_up()
    yield engine
    delete_indices(engine.maintenance, prefix)
    engine.close()


class IndexInTest:
    """Each call in its own unit of work, as the service does."""

    def __init__(self, engine):
        self.engine = engine

    def __getattr__(self, name):
        def call(*args, **kwargs):
            with self.engine.unit_of_work() as work:
                result = getattr(work.index, name)(*args, **kwargs)
                return list(result) if name in ("stored_associations", "stored_individuals") else result

        return call


@pytest.fixture
def index(engine) -> IndexInTest:
    return IndexInTest(engine)

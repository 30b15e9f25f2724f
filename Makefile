# Two entry points: `make run` (set up, launch the app on the embedded sandbox)
# and `make test` (set up, run the whole suite). Everything lives in .venv here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup serve lint clean mutate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(STAMP)-test: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)-test

setup: $(STAMP)-test

run: $(STAMP)
	$(BIN)/tasktui $(ARGS)

serve: $(STAMP)
	$(BIN)/tasktui serve $(ARGS)

test: $(STAMP)-test
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache

# Mutation testing of the modules that carry the promises (mutmut 3, installed on demand;
# configuration in pyproject.toml [tool.mutmut], scope and report in bench/mutate.py).
# Writes the scores to RELIABILITY.md. The whole scope takes about an hour on 2 cores: 51.5 min
# for the 2,610 mutants before the store's stale-answer handling and the export's resume were
# added, and those 944 took 17.8 min more with two workers. One part at a time, e.g.:
#   make mutate ARGS="--groups store export --modules store.store export.exporter --max-children 1"
# (the groups and modules are bench/mutate.py's SCOPE; the other rows of RELIABILITY.md stay).
mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutate]'
	$(BIN)/python bench/mutate.py --max-children 2 --write $(ARGS)

# make demo: set up and run the main job on the bundled Almaty - Bishkek corridor.
# make test: set up and run lint and the test suite (what .ci/run calls).
# Both install the package with every optional extra and the test tools.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean messages schemas docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/corridor-planner demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# PYTEST_ARGS: e.g. a few test files (default: the whole suite); PYTEST_WORKERS: processes
# (pytest-xdist; default one per core, 0 to run in this process)
PYTEST_WORKERS ?= auto
test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info build dist

# make messages: re-extract the report's messages and merge them into each catalogue.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --omit-header --width 100 \
		-o corridor_planner/render/locale/messages.pot .
	$(BIN)/pybabel update -i corridor_planner/render/locale/messages.pot -d corridor_planner/render/locale \
		--ignore-obsolete --no-fuzzy-matching --width 100

# make schemas: regenerate schemas/*.schema.json from the models in corridor_planner/schema/
# (tests/test_schema.py fails when a committed schema is stale).
schemas: $(STAMP)
	$(BIN)/python tools/make_schemas.py

# make docs: the API reference from the numpydoc docstrings, into docs/api/ (not committed).
docs: $(STAMP)
	$(BIN)/pdoc --docformat numpy -o docs/api corridor_planner corridor_planner.errors \
		corridor_planner.settings corridor_planner.units corridor_planner.outputs \
		corridor_planner.schema corridor_planner.bundle corridor_planner.importer \
		corridor_planner.network corridor_planner.routing corridor_planner.analysis \
		corridor_planner.render corridor_planner.cli

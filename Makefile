# Baton: `make run` starts Baton, `make test` runs every test. Both set themselves up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test lint bench bench-slack bench-tracker install clean

$(VENV)/.installed: pyproject.toml scripts/install
	PY=$(PY) bash scripts/install --dev $(VENV)
	touch $@

# axe-core (npm) for the browser tests' accessibility check, pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Microsoft's Adaptive Cards renderer (the sandbox's Teams mode) and Teams manifest schemas (tests)
WEB := sandbox/teams/web
$(WEB)/node_modules/.installed: $(WEB)/package.json
	npm install --prefix $(WEB) --no-audit --no-fund --silent
	touch $@

install: $(VENV)/.installed node_modules/.installed $(WEB)/node_modules/.installed

run: $(VENV)/.installed
	@bash scripts/run

test: install  # the browser tests need node_modules (axe-core) too
	@bash scripts/test

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy bot handlers scheduler store sandbox tests bench

bench: install
	$(BIN)/python -m bench.core

bench-tracker: install
	$(BIN)/python -m bench.tracker

bench-slack: install
	$(BIN)/python -m bench.slack

.PHONY: bench-teams
bench-teams: install
	$(BIN)/python -m bench.teams

clean:
	rm -rf $(VENV) baton.db

.PHONY: bench-scheduler
bench-scheduler: install
	$(BIN)/python -m bench.scheduler

.PHONY: bench-writes
bench-writes: install
	$(BIN)/python -m bench.writes

.PHONY: bench-raises
bench-raises: install
	$(BIN)/python -m bench.raises

# issue 24: national size (250 teams, 15,000 people, 250,000 open) beside the demo org;
# BENCH_SMOKE=1 (or --smoke) runs tiny sizes
.PHONY: bench-scale
bench-scale: install
	$(BIN)/python -m bench.scale

# The exploration (tests/integration/test_explore.py) run long: BATON_EXPLORE_EXAMPLES journeys
# of up to 25 steps, not derandomized (a new seed each run). `make test` runs it bounded.
.PHONY: explore
explore: install
	BATON_EXPLORE_EXAMPLES=$${BATON_EXPLORE_EXAMPLES:-500} $(BIN)/pytest tests/integration/test_explore.py -x -q -s -p no:cacheprovider

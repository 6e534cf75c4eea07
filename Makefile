# Baton: `make run` starts Baton, `make test` runs every test. Both set themselves up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export PG_TEST_URL  # scripts/test's PostgreSQL run; the benches' database is its name + _bench
BENCHES := core tracker scheduler slack teams writes raises scale

.PHONY: run test lint bench bench-smoke install clean $(addprefix bench-,$(BENCHES))

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

run: $(VENV)/.installed $(WEB)/node_modules/.installed  # the sandbox's Teams page needs the renderer
	@bash scripts/run

test: install  # the browser tests need node_modules (axe-core) too
	@bash scripts/test

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy bot handlers scheduler store sandbox tests bench

# every bench, then one table of their headlines (full sizes: tens of minutes); BENCH_SMOKE=1
# (or `make bench-smoke`, as CI) runs each at a size that takes seconds
bench: install
	$(BIN)/python -m bench.all

bench-smoke: install
	$(BIN)/python -m bench.all --smoke

# one bench at full size (BENCH_SMOKE=1: smoke size)
$(addprefix bench-,$(BENCHES)): bench-%: install
	$(BIN)/python -m bench.$*

clean:
	rm -rf $(VENV) baton.db

# The exploration (tests/integration/test_explore.py) run long: BATON_EXPLORE_EXAMPLES journeys
# of up to 25 steps, not derandomized (a new seed each run). `make test` runs it bounded.
.PHONY: explore
explore: install
	BATON_EXPLORE_EXAMPLES=$${BATON_EXPLORE_EXAMPLES:-500} $(BIN)/pytest tests/integration/test_explore.py -x -q -s -p no:cacheprovider

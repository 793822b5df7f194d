# liqmap: two commands for a new user, `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
WARM   := $(VENV)/.warm-stamp

.PHONY: demo test lint bench scorecard install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# numba's kernel cache and the ahead-of-time level book, rebuilt when the kernel source changes
$(WARM): $(STAMP) src/liqmap/core/_book_nb.py src/liqmap/core/choices.py src/liqmap/core/aot.py
	$(PY) -m liqmap.cli.warm
	touch $(WARM)

install: $(WARM)

## The main job on bundled real Binance data: heatmap + map PNG/HTML into out/
demo: $(WARM)
	$(VENV)/bin/liqmap demo --out out

## Lint, then the whole test suite (no network)
test: $(WARM) lint
	$(PY) -m pytest -q -n 2 --dist loadgroup -p no:cacheprovider

## Lint and type-check: ruff ([tool.ruff]) and mypy ([tool.mypy]: core strict, the outer layers checked too, 0 errors)
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

## Speed benchmarks (whole commands vs python -c "import numpy, pandas"; engine vs its
## reference twin; each measured in the same run)
bench: $(WARM)
	$(PY) benchmarks/bench_commands.py
	$(PY) benchmarks/bench_plots.py
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_cascade.py
	$(PY) benchmarks/bench_live.py
	$(PY) benchmarks/bench_scaleout.py
	$(PY) benchmarks/bench_scan.py
	$(PY) benchmarks/bench_store.py
	$(PY) benchmarks/bench_service_load.py --seconds 20

## The whole scorecard from ../shared/data: window A and C CSVs + metrics JSON, the level test
## of window A (the map measured as a map), the calibration re-fit with walk-forward, the
## level-reaction study, and scorecard/report.html
scorecard: $(WARM)
	$(VENV)/bin/liqmap backtest --window A --out scorecard
	$(VENV)/bin/liqmap backtest --window C --out scorecard
	$(VENV)/bin/liqmap backtest --levels --window A --out scorecard
	$(VENV)/bin/liqmap calibrate --window A --out scorecard --walk-forward
	$(VENV)/bin/liqmap study-levels --window A --out scorecard
	$(VENV)/bin/liqmap study-predictors --window A --out scorecard
	$(VENV)/bin/liqmap report-scorecard --out scorecard

clean:
	rm -rf $(VENV) out build dist src/*.egg-info src/liqmap/core/_book_aot.*

# libtask9 — every target creates/updates the local virtual environment itself.
# Main entry points (see README.md):  make check   and   make test

PYTHON   ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed
DURATION ?= 120
SEED     ?=

.PHONY: all venv check check-full spec check-trace test test-all lint fuzz stress stress-lifecycle \
        bench bench-quick bench-plot clean compiled test-compiled test-wheel docs

all: check test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## check: lint + TLC on the CI-sized models + the mutants + TLC trace validation
check: $(STAMP) lint spec check-trace

spec: $(STAMP)
	$(PY) spec/tlc.py check

check-full: $(STAMP)
	$(PY) spec/tlc.py full

check-trace: $(STAMP)
	$(PY) -m stress check-trace --count 2

lint: $(STAMP)
	$(PY) -m ruff check libtask9 tests examples bench stress spec tools docs/site setup.py
	$(PY) -m mypy --strict libtask9 stress

## test: the whole pytest suite (unit, Hypothesis stateful with the CI budget, oracle vs TLC)
test: $(STAMP)
	$(PY) -m pytest -q

## test-all: the suite on every installed CPython 3.10–3.13 (PATH, then pyenv's versions)
test-all:
	@for v in 3.10 3.11 3.12 3.13; do \
	  py=""; \
	  if python$$v -c pass >/dev/null 2>&1; then py=python$$v; \
	  else py=$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$v.*/bin/python$$v 2>/dev/null | tail -1); fi; \
	  if [ -n "$$py" ]; then \
	    echo "== $$py"; $(MAKE) --no-print-directory test PYTHON=$$py VENV=.venv-$$v || exit 1; \
	  else echo "== python$$v not installed, skipped"; fi; \
	done

fuzz: $(STAMP)
	LIBTASK9_HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q tests/test_stateful.py --timeout=0

stress: $(STAMP)
	$(PY) -m stress run --duration $(DURATION) $(if $(SEED),--seed $(SEED))

## stress-lifecycle: runs of procs, joins, timers, iocalls, kills and interrupts, back to
## back and several at once, every outcome checked (stress/README.md, "Lifecycle programs")
stress-lifecycle: $(STAMP)
	$(PY) -m stress lifecycle --duration $(DURATION) $(if $(SEED),--seed $(SEED))

## bench: builds the compiled core first (its rows read "skipped" if that build fails)
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) tools/build_mypyc.py || echo "make bench: compiled core not built; libtask9-mypyc rows will be skipped"
	$(PY) -m bench run

bench-quick: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m bench quick

bench-plot: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m bench plot

## docs: the HTML docs site in build/docs (Sphinx + MyST, sources in docs/site; see
## docs/README-docs.md): API reference from the docstrings, README, CONTRACT, spec
## README and the cookbook.  Always a clean build; any warning fails it.
$(VENV)/.docs-installed: $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $@

docs: $(VENV)/.docs-installed
	rm -rf build/docs
	$(PY) -m sphinx -W --keep-going -q -b html docs/site build/docs
	@echo "docs: build/docs/index.html"

## compiled: the optional compiled core (mypyc) in build/mypyc, for working on it (the wheel
## builds the same core through setup.py: pip install ., python -m build); use it with
## PYTHONSAFEPATH=1 PYTHONPATH=build/mypyc:.
compiled: $(STAMP)
	$(PY) tools/build_mypyc.py

## test-compiled: the suite against the compiled core.  PYTHONSAFEPATH keeps `-m` from
## putting the repo root (the pure-Python libtask9/) ahead of PYTHONPATH; the TLA+ spec
## is found relative to the package, so point the trace-validation tests at spec/.
test-compiled: compiled
	PYTHONSAFEPATH=1 PYTHONPATH=build/mypyc:. LIBTASK9_SPEC_DIR=$(CURDIR)/spec \
	  LIBTASK9_EXPECT_COMPILED=1 $(PY) -m pytest -q $(PYTEST_ARGS)

## test-wheel: what users install (tools/test_wheel.sh): from a clean export of HEAD, the
## sdist and the wheel (python -m build, compiled core required), the pure/fallback build
## switches (QUICK=1 skips them), then the whole suite against the wheel installed in a
## fresh venv, with the compiled core and with LIBTASK9_PURE=1, and the wheel installed
## where no source tree is.  Needs a C compiler; PYTHON=python3.12 tests that version.
test-wheel:
	PYTHON=$(PYTHON) PYTEST_ARGS='$(PYTEST_ARGS)' QUICK='$(QUICK)' PURE_SUITE='$(PURE_SUITE)' \
	  bash tools/test_wheel.sh

clean:
	rm -rf $(VENV) .venv-3.* spec/_work .pytest_cache .mypy_cache .ruff_cache .hypothesis

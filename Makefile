# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test bench lab dot venv clean

demo: $(STAMP) dot
	$(PY) demo.py

test: $(STAMP) dot
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy autograd nn viz benchmarks
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]'
	mkdir -p out
	$(PY) benchmarks/run.py --markdown out/bench.md

# JupyterLab on notebooks/, its kernel the .venv's Python. Installed on first use only: make test
# runs the notebooks with nbclient and needs no server. LAB_ARGS passes options through, e.g.
# make lab LAB_ARGS="--no-browser --port 8890".
lab: $(STAMP) dot
	$(PY) -c "import jupyterlab" 2>/dev/null || $(PY) -m pip install -q jupyterlab
	@# Jupyter refuses to run as root unless told; containers often are root.
	exec $(VENV)/bin/jupyter lab --notebook-dir=notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

venv: $(STAMP)

# Re-install when the project's metadata changes; the stamp lives inside .venv.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

dot:
	@bash scripts/ensure-dot.sh

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis

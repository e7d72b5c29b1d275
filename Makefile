# mmfs_plugin: the README's two commands.
#   make demo   set up .venv if needed, then the few-shot demo on synthetic data (CPU)
#   make test   set up .venv if needed, then the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
export OMP_NUM_THREADS ?= 2

.PHONY: setup demo test clean

setup:
	@VENV=$(VENV) bash tools/setup_env.sh

demo: setup
	$(PY) tools/misc/demo.py --work-dir work_dirs/demo

test: setup
	$(PY) -m pytest -q tests

clean:
	rm -rf work_dirs data/demo_mvtec_fs .pytest_cache

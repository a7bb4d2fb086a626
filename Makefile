# The two commands of the README:  `make demo` (run the example suite on the embedded model)
# and `make test` (the tests). Both set up everything on a fresh machine first, once.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install

# llama-cpp-python compiles llama.cpp from source (about 7 minutes on 2 cores); pip caches the wheel,
# so a second fresh virtualenv on the same machine installs it in seconds.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/pip install --disable-pip-version-check -q -e '.[local,server,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mendoza run examples/support_tickets/suite.yaml

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

# The two commands of the README:  `make demo` (run the example suite on the embedded model)
# and `make test` (the tests). Both set up everything on a fresh machine first, once.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install

# llama-cpp-python compiles llama.cpp from source (about 7 minutes on 2 cores); pip caches the wheel,
# so a second fresh virtualenv on the same machine installs it in seconds.
# The viewer's browser tests drive Debian's Chromium (never a browser that Playwright downloads).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	if ! test -x /usr/bin/chromium && command -v apt-get >/dev/null; then \
		{ apt-get update -q && apt-get install -y -q --no-install-recommends chromium; } || \
		echo "warning: could not install chromium; the browser tests will be skipped (and fail in CI)"; fi
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

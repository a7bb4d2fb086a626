# The two commands of the README:  `make demo` (run the example suite on the embedded model)
# and `make test` (the tests). Both set up everything on a fresh machine first, once.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install

# llama-cpp-python compiles llama.cpp from source (about 7 minutes on 2 cores), once per machine: the wheel
# is kept in a folder of its own and installed from there by every later virtualenv. It is built portable
# (GGML_NATIVE off: x86-64 with AVX2, no AVX-512 or AMX): a build for "this CPU" uses instructions a virtual
# machine may report but not allow (AMX: "Illegal instruction" on the first token), and pip's own wheel cache
# ignores CMAKE_ARGS, so it would hand such a build to the next machine image too.
# The viewer's browser tests drive Debian's Chromium (never a browser that Playwright downloads); the code
# grader sandboxes programs with bubblewrap (Debian's bubblewrap) where it works. The Ray executor's tests start a
# local Ray instance (the `ray` extra: a 79 MB wheel, about 240 MB installed). The store's tests start a
# PostgreSQL server of their own from Debian's postgresql package (run as the postgres user when root).
LLAMA_VERSION := 0.3.36
LLAMA_WHEELS := $(HOME)/.cache/mendoza/wheels/llama-$(LLAMA_VERSION)-portable

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	if ! test -x /usr/bin/chromium && command -v apt-get >/dev/null; then \
		{ apt-get update -q && apt-get install -y -q --no-install-recommends chromium; } || \
		echo "warning: could not install chromium; the browser tests will be skipped (and fail in CI)"; fi
	if ! command -v bwrap >/dev/null && command -v apt-get >/dev/null; then \
		{ apt-get update -q && apt-get install -y -q --no-install-recommends bubblewrap; } || \
		echo "warning: could not install bubblewrap; the code grader falls back to process limits alone and its sandbox tests are skipped"; fi
	if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v apt-get >/dev/null; then \
		{ apt-get update -q && apt-get install -y -q --no-install-recommends postgresql; } || \
		echo "warning: could not install postgresql; the store's PostgreSQL tests will be skipped (and fail in CI, MENDOZA_REQUIRE_POSTGRES=1)"; fi
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/pip wheel \
		--disable-pip-version-check -q --no-deps --no-cache-dir -w $(LLAMA_WHEELS) 'llama-cpp-python==$(LLAMA_VERSION)'
	$(BIN)/pip install --disable-pip-version-check -q --no-deps --force-reinstall \
		$(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(BIN)/pip install --disable-pip-version-check -q -e '.[local,server,dev,ray,postgres]'
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

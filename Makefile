# The two commands a newcomer runs: `make build` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: build test check bench bench-quick system-check screenshot catalogs lint clean

build: $(VENV)/.installed
	$(BIN)/publisher build

test: $(VENV)/.installed
	$(BIN)/pytest -n auto

# The CI gate on the sample project: every layout in every language.
check: $(VENV)/.installed
	$(BIN)/publisher check --junit build/check.xml

# Build speed as ratios (build/bench.json); bench-quick finishes in under two minutes.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py

bench-quick: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py --quick

# WeasyPrint draws text with Pango; say what is missing instead of failing obscurely.
system-check:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "publisher needs Python 3.10 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || \
	  { echo "Python's venv module is missing: sudo apt-get install python3-venv"; exit 1; }
	@for lib in libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz.so.0 libharfbuzz-subset.so.0 libfontconfig.so.1; do \
	  $(PYTHON) -c "import ctypes, sys; ctypes.CDLL('$$lib')" 2>/dev/null || { \
	    echo "WeasyPrint needs $$lib, which is not installed."; \
	    echo "On Debian/Ubuntu: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1"; \
	    exit 1; }; \
	done

$(VENV)/.installed: pyproject.toml | system-check
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# The README's pictures, made from the built sample.
screenshot: build
	$(BIN)/publisher preview build/releases/2018-06-15-cnes-roscosmos.fr.pdf \
	  --page 1 --width 900 --output docs/release-page1.png
	$(BIN)/publisher preview build/kits/cnes-roscosmos-2018.fr.pdf \
	  --page 2 --width 700 --output docs/kit-contents.png
	$(BIN)/publisher preview build/newsletters/2018-06.en.pdf \
	  --page 1 --width 700 --output docs/newsletter-page1.png

# Re-extract layout strings into layouts/locale/*/LC_MESSAGES/messages.po.
catalogs: $(VENV)/.installed
	$(BIN)/publisher catalogs

lint: $(VENV)/.installed
	$(BIN)/ruff check publisher tests

clean:
	rm -rf build

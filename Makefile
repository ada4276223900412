# The two commands a newcomer runs: `make build` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: build test fuzz check bench bench-quick system system-test screenshot email-screenshot serve-screenshot help-text icc catalogs codes lint clean

build: system $(VENV)/.installed
	$(BIN)/publisher build

test: system-test $(VENV)/.installed
	$(BIN)/pytest -n auto

# The property-based fuzzer over release sources (tests/test_fuzz.py).
FUZZ_PROFILE ?= ci
fuzz: system-test $(VENV)/.installed
	FUZZ_PROFILE=$(FUZZ_PROFILE) $(BIN)/pytest -n auto -m fuzz -p no:randomly

# The CI gate on the sample project: every layout in every language.
check: $(VENV)/.installed
	$(BIN)/publisher check --junit build/check.xml

# Build speed as ratios (build/bench.json); bench-quick finishes in under two minutes.
bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py

bench-quick: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py --quick

# The system packages, in one place. RUNTIME: what WeasyPrint draws text with
# (Pango, HarfBuzz, fontconfig). TEST: what the test suite adds (a browser for
# the e-mail edition's tests).
RUNTIME_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1
TEST_PACKAGES    := chromium chromium-driver

# Installs the missing ones: with apt-get as root, with `sudo -n` when that
# works without a password; otherwise prints the one command to run and stops.
define ensure_packages
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "publisher needs Python 3.10 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@wanted="$(1)"; \
	$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || wanted="$$wanted python3-venv"; \
	command -v dpkg-query >/dev/null || exit 0; \
	missing=""; \
	for package in $$wanted; do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q 'install ok installed' || \
	    missing="$$missing $$package"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "publisher needs these system packages:$$missing"; \
	  echo "Install them with: sudo apt-get update && sudo apt-get install -y$$missing"; \
	  exit 1; fi; \
	echo "installing system packages:$$missing"; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends$$missing >/dev/null
	@for lib in libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz.so.0 libharfbuzz-subset.so.0 libfontconfig.so.1; do \
	  $(PYTHON) -c "import ctypes; ctypes.CDLL('$$lib')" 2>/dev/null || { \
	    echo "WeasyPrint needs $$lib, which is not installed (Debian and Ubuntu: $(RUNTIME_PACKAGES))."; \
	    exit 1; }; \
	done
endef

system:
	$(call ensure_packages,$(RUNTIME_PACKAGES))

system-test:
	$(call ensure_packages,$(RUNTIME_PACKAGES) $(TEST_PACKAGES))

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# The README's pictures, made from the built sample and a release of the corpus.
CORPUS_RELEASE = 2018-06-01-satellite-nappes-phreatiques.fr
SCRIPT_RELEASE = 2018-06-20-satellite-ocean
screenshot: build
	$(BIN)/publisher preview build/releases/2018-06-15-cnes-roscosmos.fr.pdf \
	  --page 1 --width 900 --output docs/release-page1.png
	$(BIN)/publisher preview build/kits/cnes-roscosmos-2018.fr.pdf \
	  --page 2 --width 700 --output docs/kit-contents.png
	$(BIN)/publisher preview build/newsletters/2018-06.en.pdf \
	  --page 1 --width 700 --output docs/newsletter-page1.png
	scratch=$$(mktemp -d) && cp -r sources $$scratch/ && \
	  cp tests/fixtures/corpus/$(CORPUS_RELEASE).md $$scratch/sources/releases/2018/ && \
	  $(BIN)/publisher build --project $$scratch \
	    $$scratch/sources/releases/2018/$(CORPUS_RELEASE).md && \
	  for page in 1 2; do $(BIN)/publisher preview --project $$scratch \
	    build/releases/$(CORPUS_RELEASE).pdf --page $$page --width 700 \
	    --output docs/corpus-page$$page.png; done; rm -rf $$scratch
	scratch=$$(mktemp -d) && cp -r sources $$scratch/ && \
	  printf 'addressee: {ja: 報道関係者各位}\n' >> $$scratch/sources/site.yaml && \
	  for lang in ja ar; do cp tests/fixtures/scripts/$(SCRIPT_RELEASE).$$lang.md \
	    $$scratch/sources/releases/2018/; done && \
	  $(BIN)/publisher build --project $$scratch \
	    $$scratch/sources/releases/2018/$(SCRIPT_RELEASE).ja.md \
	    $$scratch/sources/releases/2018/$(SCRIPT_RELEASE).ar.md && \
	  for lang in ja ar; do $(BIN)/publisher preview --project $$scratch \
	    build/releases/$(SCRIPT_RELEASE).$$lang.pdf --width 700 \
	    --output docs/$$lang-page1.png; done; rm -rf $$scratch

# The e-mail edition as a phone and a desktop client show it (Debian's chromium).
email-screenshot: build
	for size in 375,1100 600,1600; do chromium --headless --no-sandbox --disable-gpu \
	  --hide-scrollbars --window-size=$$size --screenshot=docs/email-$${size%,*}.png \
	  file://$(CURDIR)/build/newsletters/2018-06.fr.html; done

# publisher serve beside the source it shows (Debian's chromium, Selenium).
serve-screenshot: system-test $(VENV)/.installed
	$(BIN)/python docs/serve_screenshot.py docs/serve.png

# The print edition's output profiles, from Debian's icc-profiles-free data
# (needs the argyll and icc-profiles-free packages); see publisher/icc/README.md.
icc:
	cd publisher/icc && cp /usr/share/color/icc/FOGRA39L.ti3 /usr/share/color/icc/TR006.ti3 . && \
	  colprof -qm -bl -kr -l330 -L100 \
	    -D "FOGRA39L coated (made with ArgyllCMS colprof from FOGRA39L.ti3)" \
	    -C "Zlib licence, data by Kai-Uwe Behrmann" FOGRA39L && \
	  colprof -qm -bl -kr -l320 -L100 \
	    -D "TR006 GRACoL 2006 coated (made with ArgyllCMS colprof from TR006.ti3)" \
	    -C "Zlib licence, data by Kai-Uwe Behrmann" TR006 && rm -f *.ti3

# Re-extract layout strings into layouts/locale/*/LC_MESSAGES/messages.po.
catalogs: $(VENV)/.installed
	$(BIN)/publisher catalogs

# The README's table of problem codes, written again from publisher/codes.py.
codes: $(VENV)/.installed
	$(BIN)/python -m publisher.codes README.md

# publisher --help answers from publisher/commands/help.txt without importing
# click; after changing a command's name or summary, write it again.
help-text: $(VENV)/.installed
	$(BIN)/python -m publisher.commands.entry

lint: system $(VENV)/.installed
	$(BIN)/ruff check publisher tests
	$(BIN)/mypy

# Everything built goes, but not build/sent: the ledgers of what was mailed to
# whom, without which a send would go out a second time.
clean:
	[ ! -d build ] || find build -mindepth 1 -maxdepth 1 ! -name sent -exec rm -rf {} +

# winmem — the targets a newcomer uses.  CMake does the building; this file
# only names the jobs.  Every target installs what it needs (scripts/deps.sh).
#
#   make              library, tool and tests into build/
#   make demo         the narrated tour of the memory as it changes
#   make check        all tests (SANITIZE=address,undefined for a sanitizer build)
#   make bench        side-by-side ratios against raw system calls and other allocators
#   make conformance-wine   the conformance tests under Wine, as real Win32 programs
#   make install      headers, libraries, winmem.pc, CMake package (PREFIX=/usr/local)

SANITIZE ?=
PREFIX   ?= /usr/local
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)

ifeq ($(SANITIZE),)
BUILD    ?= build
CMAKE_ARGS ?=
else
BUILD    ?= build-$(subst $(comma),-,$(SANITIZE))
CMAKE_ARGS ?= -DCMAKE_C_COMPILER=clang -DWINMEM_SANITIZE=$(SANITIZE) -DWINMEM_DEBUG=2
endif
comma := ,
MAKEFLAGS += --no-print-directory
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: all deps demo check bench conformance-wine install clean

all: deps
	@cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) | { grep -v -e "^\[ *[0-9]*%\] Built target" -e "^Consolidate compiler" || true; }

deps:
	@scripts/deps.sh build $(if $(SANITIZE),sanitize)

demo: all
	@./$(BUILD)/winmem demo

check: all
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: all
	@scripts/deps.sh bench
	@cmake --build $(BUILD) --target benches -j $(JOBS)
	@for b in $(BUILD)/bench_*; do echo "== $$b"; ./$$b; done

conformance-wine:
	@scripts/deps.sh wine
	@scripts/conformance-wine.sh

install: all
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf build build-*

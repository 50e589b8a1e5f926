# winmem — the targets a newcomer uses.  CMake does the building; this file
# only names the jobs.  Every target installs what it needs (scripts/deps.sh).
#
#   make              library, tool and tests into build/
#   make demo         the narrated tour of the memory as it changes
#   make check        all tests (SANITIZE=address,undefined for a sanitizer build)
#   make bench        side-by-side ratios against raw system calls and other allocators
#   make conformance-wine   the conformance tests under Wine, as real Win32 programs
#   make check-aarch64      all tests built for AArch64 and run under qemu-user
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

.PHONY: all deps demo check check-aarch64 check-heap-tsan bench conformance-wine install clean

all: deps
	@cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) | { grep -v -e "^\[ *[0-9]*%\] Built target" -e "^Consolidate compiler" || true; }

deps:
	@scripts/deps.sh build $(if $(SANITIZE),sanitize)

demo: all
	@./$(BUILD)/winmem demo

# check installs the programs its test programs/preload runs under the
# LD_PRELOAD library (python3's own test suite, git, sqlite3, gcc) here and
# not in deps, so that a plain make installs no more than a build needs.  A
# sanitized build has no such test (cmake/tests.cmake) and installs nothing.
check: all
	$(if $(SANITIZE),,@scripts/deps.sh programs)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# bench: the bench binaries (bench/*.c), then malloc under LD_PRELOAD and
# whole programs (bench/malloc_bench.sh: bench/malloc/*.c, python3, git,
# sqlite3 and gcc, each with glibc, mimalloc, jemalloc, tcmalloc and winmem),
# whose programs the programs group installs.
bench: all
	@scripts/deps.sh bench programs
	@cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null    # finds the allocators deps.sh just installed
	@cmake --build $(BUILD) --target benches -j $(JOBS)
	@for b in $(BUILD)/bench_*; do echo "== $$b"; $$b; done
	@echo "== bench/malloc_bench.sh $(BUILD)"; bench/malloc_bench.sh $(BUILD)

# AArch64: the CONTEXT conversion, fault decoding and everything else, built
# with Debian's cross compiler and run under qemu-user.  qemu gives no fault
# syndrome and no userfaultfd, so this also runs the fallbacks for both.
# Left out: the stress tests (emulated, their final checks alone take
# minutes) and vm_map_limit (under qemu the mapping limit it drives is
# qemu's own, and 65,000 emulated protection changes can take many minutes);
# neither checks anything specific to the processor.  WINMEM_EMULATED tells
# tests to leave out what qemu-user itself cannot do (a fork while another
# guest thread runs).
check-aarch64:
	@scripts/deps.sh build aarch64
	@cmake -S . -B build-aarch64 -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
	  -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_LINKER=aarch64-linux-gnu-ld \
	  "-DCMAKE_CROSSCOMPILING_EMULATOR=qemu-aarch64;-L;/usr/aarch64-linux-gnu" >/dev/null
	@cmake --build build-aarch64 -j $(JOBS) | { grep -v -e "^\[ *[0-9]*%\] Built target" -e "^Consolidate compiler" || true; }
	@cd build-aarch64 && WINMEM_EMULATED=1 ctest --output-on-failure -j $(JOBS) -E '^stress/|^unit/vm_map_limit$$'

# ThreadSanitizer over the heap's tests (issue 4), the 8-thread stress test
# included.  The whole suite is not clean under it yet (issue 8): tests that
# leave signal handlers by longjmp, and TOP_DOWN placement, which TSan's
# mmap interceptor takes over.
check-heap-tsan:
	@$(MAKE) --no-print-directory all SANITIZE=thread
	@cd build-thread && WINMEM_HEAP_STRESS_OPS=$${WINMEM_HEAP_STRESS_OPS:-20000} \
	  ctest --output-on-failure -j $(JOBS) -R '^(unit|conformance|stress)/heap_'

conformance-wine:
	@scripts/deps.sh wine
	@scripts/conformance-wine.sh

install: all
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf build build-*

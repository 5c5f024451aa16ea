# SPDX-License-Identifier: GPL-2.0
#
# cowstat: module, tool, selftests, lint and the QEMU test run.
#
#   make                      module for the running kernel + the cowstat tool
#   make KERNEL=7.x           module for a target kernel of scripts/kernels.conf (6.1, 6.12, 7.x,
#                             6.12-bpo); Debian 13's are built in a Debian 13 root (root.sh)
#   make KDIR=/path/to/build  module for any kernel build tree
#   make setup                install what building and testing need (Debian 12 or 13, root)
#   make test                 the full test run (README: set-up, host tests, lint, every kernel;
#                             the debug kernel too when its build is cached)
#   make test-debug           the same, on the debug kernel only, building it first if needed
#                             (scripts/debug-kernel.sh: KASAN, lockdep, kmemleak, fault injection)
#   make style / make check   checkpatch --strict / sparse (C=2) for the selected kernel
#   make bench                COW fault overhead in QEMU: no module, cowstat, bpftrace (not a test)
#   make bench-file           the same for file faults (read, MAP_SHARED first write)
#   make demo                 the README main job: cowstat run on a pre-fork workload, in QEMU
#   make install              cowstat, its man page and bash completion under PREFIX
#   make bench-snapshot       time the sharing snapshot against smem and a pagemap scan (guest)
#   make deb                  the Debian packages cowstat-dkms and cowstat, in build/deb/ (debian/)
#   make test-deb             install them in Debian 12 and 13 roots, DKMS, boot, purge (deb-test.sh)
#   make bench-snapshot-sweep the snapshot's scaling sweep (members, resident, reserved; guest)
#
# Selftests are built with -Wall like the kernel's own (the kselftest harness is not -Wextra
# clean); the tool with -Wall -Wextra.
#
# Modules are built out of the source tree, in build/<kernel release>/, so that one checkout
# holds builds for several kernels at once.

KERNEL ?=
ifneq ($(KERNEL),)
KREL := $(shell scripts/kernels.sh $(KERNEL))
ifeq ($(KREL),)
$(error kernel '$(KERNEL)' is not installed: run 'make setup' (names: $(shell awk '!/^#/ && NF {printf "%s ", $$1}' scripts/kernels.conf)))
endif
# A kernel of another Debian release is built in that release's root (scripts/root.sh), with
# its compiler and libc: KROOT is the root, KBUILD_RUN what runs kbuild there.
KROOT := $(shell scripts/kernels.sh -r $(KERNEL))
ifneq ($(KROOT),/)
KBUILD_RUN := scripts/root.sh run $(notdir $(KROOT))
endif
KDIR := /usr/src/linux-headers-$(KREL)
KDIR_HOST := $(patsubst //%,/%,$(KROOT)$(KDIR))
endif
KDIR ?= /lib/modules/$(shell uname -r)/build
KDIR_HOST ?= $(KDIR)
KREL ?= $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
BUILD := build/$(KREL)
SHARE := build/share
SHARE_FILES := $(SHARE)/cowstat-flamegraph.js $(SHARE)/flamegraph.js $(SHARE)/d3-flamegraph.css

# A kernel without a build tree (no module support, or no headers installed) gets one line.
ifneq ($(filter all module test-module check,$(or $(MAKECMDGOALS),all)),)
ifeq ($(wildcard $(KDIR_HOST)/Makefile),)
$(error no kernel build tree at $(KDIR): build for a target kernel with 'make KERNEL=6.1', '6.12' or '7.x' (after 'make setup'), or set KDIR=)
endif
endif

CFLAGS ?= -O2 -g
TOOL_CFLAGS := -Wall -Wextra -Werror=implicit-function-declaration -Iinclude \
	'-D__printf(a, b)=__attribute__((format(printf, a, b)))'
# elfutils' libdw (libdw-dev) names code addresses for "cowstat trace".
TOOL_LIBS := -ldw -lelf
PREFIX ?= /usr/local

MODULE_SRCS := Kbuild $(wildcard module/*.c module/*.h include/*.h)
LINT_SRCS := $(wildcard module/*.c module/*.h include/*.h tools/*.c tools/*.h bench/*.c workloads/cowfamily.c selftests/delay/*.c)
KSFT := .cache/linux-tools
# Benchmark programs (make bench, make bench-snapshot); not part of the tool.
BENCH_TOOLS := bench/cowbench bench/pagemap-scan bench/snaptime
SELFTESTS := $(patsubst %.c,%,$(wildcard selftests/*_test.c host-tests/*_test.c))

.PHONY: all module test-module tool selftests setup test test-debug style check clean install bench bench-snapshot bench-snapshot-sweep bench-snapshot-plot bench-trace bench-file demo

all: module tool

module: $(BUILD)/cowstat.ko

$(BUILD)/cowstat.ko: $(MODULE_SRCS)
	@mkdir -p $(BUILD)/module $(BUILD)/include
	@cp -p Kbuild $(BUILD)/ && cp -p module/*.c module/*.h $(BUILD)/module/ && cp -p include/*.h $(BUILD)/include/
	$(KBUILD_RUN) $(MAKE) -C $(KDIR) M=$(CURDIR)/$(BUILD) $(if $(W),W=$(W)) $(if $(C),C=$(C)) modules

# The selftests' helper module (selftests/delay/cowstat_delay.c), built beside cowstat.ko for
# the same kernel; not installed.
test-module: $(BUILD)/delay/cowstat_delay.ko

$(BUILD)/delay/cowstat_delay.ko: selftests/delay/Kbuild selftests/delay/cowstat_delay.c
	@mkdir -p $(BUILD)/delay && cp -p selftests/delay/Kbuild selftests/delay/*.c $(BUILD)/delay/
	$(KBUILD_RUN) $(MAKE) -C $(KDIR) M=$(CURDIR)/$(BUILD)/delay $(if $(W),W=$(W)) $(if $(C),C=$(C)) modules

TOOL_SRCS := $(wildcard tools/*.c)
# Programs with known COW answers (workloads/): the demo's pre-fork server, the tests' family
# and trace target, the snapshot benchmark's family. pyfork.py is there too.
WORKLOADS := workloads/prefork workloads/family workloads/cowfamily workloads/trace_target

tool: tools/cowstat $(WORKLOADS) $(SHARE_FILES)

# The flame graph renderer that trace --svg embeds (tools/flamegraph.c finds it here, or in
# PREFIX/share/cowstat once installed): d3-flame-graph and the d3 modules it needs, which
# make setup installs from the npm registry as tools/js/package-lock.json pins them.
NODE_MODULES := .cache/node_modules
$(SHARE)/cowstat-flamegraph.js: tools/js/bundle.sh tools/js/package-lock.json
	@mkdir -p $(SHARE)
	tools/js/bundle.sh $(NODE_MODULES) $@

$(SHARE)/d3-flamegraph.css: tools/js/package-lock.json
	@mkdir -p $(SHARE)
	@test -e $(NODE_MODULES)/d3-flame-graph/dist/d3-flamegraph.css || \
		{ echo "make: no d3-flame-graph in $(NODE_MODULES): run make setup" >&2; exit 1; }
	cp $(NODE_MODULES)/d3-flame-graph/dist/d3-flamegraph.css $@

$(SHARE)/flamegraph.js: tools/js/flamegraph.js
	@mkdir -p $(SHARE)
	cp $< $@

tools/cowstat: $(TOOL_SRCS) $(wildcard tools/*.h) include/cowstat.h
	$(CC) $(CFLAGS) $(TOOL_CFLAGS) -o $@ $(TOOL_SRCS) $(LDFLAGS) $(TOOL_LIBS)

workloads/%: workloads/%.c
	$(CC) $(CFLAGS) $(TOOL_CFLAGS) -o $@ $< $(LDFLAGS)

# The workload of trace_test, with debug information and a frame in every function: the report
# must name its functions, and --folded their callers. -O0, because gcc 12 at -O1 and above
# gives a leaf function that needs no stack no frame even with -fno-omit-frame-pointer, and a
# frame-pointer walk then skips the leaf's caller (seen: writer_a's stack lacked main).
workloads/trace_target: workloads/trace_target.c
	$(CC) -O0 -g -Wall -Wextra -o $@ $<

# The parser and formatting unit tests link the tool's own parse.c and format.c.
host-tests/parse_test: host-tests/parse_test.c tools/parse.c tools/format.c tools/*.h include/cowstat.h
	@[ -e $(KSFT)/kselftest_harness.h ] || { echo "kselftest headers missing: run 'make setup'" >&2; exit 1; }
	$(CC) $(CFLAGS) -Wall -Iinclude -Itools -I$(KSFT) '-D__printf(a, b)=__attribute__((format(printf, a, b)))' \
		-o $@ $< tools/parse.c tools/format.c

# cowbench times COW faults; pagemap-scan is the snapshot benchmark's pagemap + kpagecount
# baseline and snaptime times one snapshot (its family: workloads/cowfamily).
$(BENCH_TOOLS): bench/%: bench/%.c
	$(CC) $(CFLAGS) $(TOOL_CFLAGS) -o $@ $< $(LDFLAGS)

# The trace event's cost per fault, disabled and with "cowstat trace" reading (not a test).
bench-trace:
	@CONFIGS="none cowstat trace folded" REPS=$${REPS:-5} scripts/bench.sh

# What the probes cost file faults (a read fault, a MAP_SHARED first write), against no module
# and a bpftrace kprobe + kretprobe on finish_fault (not a test).
bench-file:
	@MODES="file-read shared-first-write anon" scripts/bench.sh

# Times the sharing snapshot against smem and bench/pagemap-scan in a guest (not a test).
bench-snapshot: tool $(BENCH_TOOLS)
	@scripts/bench-snapshot.sh

# The scaling sweep of issue 11 in one guest: members, resident pages, reserved space.
bench-snapshot-sweep: tool $(BENCH_TOOLS)
	@SWEEP=1 scripts/bench-snapshot.sh
	@$(MAKE) -s bench-snapshot-plot

# The picture of the last sweep: build/bench/sweep.svg (gnuplot, from make setup).
bench-snapshot-plot:
	@command -v gnuplot > /dev/null || { echo "gnuplot missing: make setup" >&2; exit 1; }
	gnuplot -e "data='build/bench/sweep.tsv'; out='build/bench/sweep.svg'; title='cowstat snapshot scaling: $$(sed -n 's/^# kernel //p' build/bench/kernel 2>/dev/null)'" scripts/plot-sweep.gp
	@echo "build/bench/sweep.svg"

selftests: $(SELFTESTS) workloads/trace_target

%_test: %_test.c selftests/*.h include/cowstat.h
	@[ -e $(KSFT)/kselftest_harness.h ] || { echo "kselftest headers missing: run 'make setup'" >&2; exit 1; }
	$(CC) $(CFLAGS) -Wall -Iinclude -Iselftests -I$(KSFT) -o $@ $< -lpthread

setup:
	@scripts/setup.sh

test:
	@scripts/run-tests.sh

test-debug:
	@COWSTAT_DEBUG_KERNEL=build KERNELS=debug scripts/run-tests.sh

# A benchmark, not a test: KERNELS="6.1 6.12" (default: every target kernel) chooses the guests.
bench:
	@scripts/bench.sh

style:
	@[ -e $(KSFT)/checkpatch.pl ] || { echo "checkpatch.pl missing: run 'make setup'" >&2; exit 1; }
	perl $(KSFT)/checkpatch.pl --strict --no-tree --terse --show-types -f $(filter-out module/compat.h tools/symbols.c,$(LINT_SRCS))
	@# symbols.c calls elfutils, whose types are CamelCase (Dwfl, GElf_Addr): theirs, not ours.
	perl $(KSFT)/checkpatch.pl --strict --no-tree --terse --show-types --ignore CAMELCASE -f tools/symbols.c
	@# compat.h is the one place allowed to test the kernel version (house rule 8).
	perl $(KSFT)/checkpatch.pl --strict --no-tree --terse --show-types \
		--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f module/compat.h

# Sparse over every module source; kbuild is always entered so that C=2 checks all of them.
# The sparse is the one scripts/sparse.sh gives for the kernel's Debian release (a newer one
# where the release's own cannot read 7.x headers). KBUILD_CHECKSRC on the command line keeps
# kbuild from turning sparse off where Debian's headers lack scripts/checker-valid.sh (7.3):
# its make warning about that is then wrong, and sparse's own errors show if it is too old.
# The debug kernel is built with the machine's own compiler, so its sparse is the machine's.
KRELEASE_DEB := $(if $(KERNEL),$(shell awk -v k='$(KERNEL)' '$$1 == k {print $$4}' scripts/kernels.conf))
SPARSE := $(if $(KRELEASE_DEB),$(shell scripts/sparse.sh path $(KRELEASE_DEB)),sparse)

check: $(BUILD)/cowstat.ko $(BUILD)/delay/cowstat_delay.ko
	$(KBUILD_RUN) $(MAKE) -C $(KDIR) M=$(CURDIR)/$(BUILD) C=2 KBUILD_CHECKSRC=2 CHECK=$(SPARSE) modules
	$(KBUILD_RUN) $(MAKE) -C $(KDIR) M=$(CURDIR)/$(BUILD)/delay C=2 KBUILD_CHECKSRC=2 CHECK=$(SPARSE) modules

BASHCOMPDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/share/bash-completion/completions,$(PREFIX)/share/bash-completion/completions)

install: tools/cowstat $(SHARE_FILES)
	install -D -m 0755 tools/cowstat $(DESTDIR)$(PREFIX)/sbin/cowstat
	install -d $(DESTDIR)$(PREFIX)/share/cowstat
	install -m 0644 $(SHARE_FILES) $(DESTDIR)$(PREFIX)/share/cowstat/
	install -D -m 0644 tools/cowstat.8 $(DESTDIR)$(PREFIX)/share/man/man8/cowstat.8
	install -D -m 0644 tools/cowstat.bash-completion $(DESTDIR)$(BASHCOMPDIR)/cowstat

# The README's main-job command: set-up, build, boot 6.1 with the module, cowstat run on the
# bundled pre-fork workload.
demo:
	@scripts/demo.sh

clean:
	rm -rf build tools/cowstat $(BENCH_TOOLS) $(WORKLOADS) $(SELFTESTS)

# ---- Debian packages (debian/, Documentation/install.rst) ----
# make deb builds them with dpkg-buildpackage from a copy of the tree's files (tracked and new,
# not ignored ones) in build/deb/, so that the package build never touches build/ of the
# checkout; the .deb files and lintian's report land in build/deb/.
DEB_VERSION := $(shell sed -n 's/^\#define COWSTAT_VERSION[[:space:]]*"\(.*\)"/\1/p' include/cowstat.h)
DEB_OUT := build/deb

.PHONY: deb test-deb
deb: $(SHARE_FILES)
	@rm -rf $(DEB_OUT) && mkdir -p $(DEB_OUT)/cowstat-$(DEB_VERSION)
	@git ls-files -z -co --exclude-standard -- . ':!.cache' | xargs -0 cp --parents -d -t $(DEB_OUT)/cowstat-$(DEB_VERSION)
	@# The flame graph renderer, built from make setup's npm install, which the copy has not.
	@mkdir -p $(DEB_OUT)/cowstat-$(DEB_VERSION)/$(SHARE) && cp $(SHARE_FILES) $(DEB_OUT)/cowstat-$(DEB_VERSION)/$(SHARE)/
	cd $(DEB_OUT)/cowstat-$(DEB_VERSION) && dpkg-buildpackage -us -uc -b > ../build.log 2>&1 || \
		{ tail -n 20 ../build.log; echo "make deb: dpkg-buildpackage failed (details: $(DEB_OUT)/build.log)" >&2; exit 1; }
	lintian --fail-on warning,error --info $(DEB_OUT)/*.changes > $(DEB_OUT)/lintian.log 2>&1 || \
		{ cat $(DEB_OUT)/lintian.log; echo "make deb: lintian is not clean (details: $(DEB_OUT)/lintian.log)" >&2; exit 1; }
	@ls $(DEB_OUT)/*.deb

test-deb:
	@scripts/deb-test.sh


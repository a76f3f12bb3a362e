# acceptd: build, run, test, bench.  Read top to bottom.  GNU make only
# (gmake on the BSDs; BSDmakefile says so to BSD make).
#
#   make            build server/acceptd, tools/acceptctl, tools/acceptload,
#                   tools/scenlog (the scenarios' event log reader)
#   make run        install what is missing, build, run on conf/acceptd.conf
#   make check      install what tests need, build, run every test; the
#                   integration tests again on the kqueue backend (.kqueue/)
#                   and on kqueue with the portable fallbacks (.portable/);
#                   each fuzz target for 10 s, then every test again built
#                   with ASan+UBSan (into .san/): prove's summary comes last
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (60), into .fuzz/
#   make bench      acceptd against nginx on this machine (tools/bench)
#   make install    PREFIX=/usr/local DESTDIR=
#
# One variable away: O=DIR builds into DIR, SAN=1 adds the sanitizers,
# OPT='-O3 -march=native' changes optimisation, EV=kqueue the kqueue event
# backend (on Linux through the kqueue-over-epoll shim in tests/kqueue),
# PORTABLE=1 the portable fallbacks of common/os.h (what the BSDs and macOS
# build) instead of the Linux calls.

# BSD make (which defines .MAKE) says this first, then stops at ifeq.
BSD_MAKE_SAYS != test -z "$(.MAKE)" || echo "acceptd's Makefile needs GNU make: run gmake" >&2

PREFIX	?= /usr/local
DESTDIR	?=
O	?= .
OPT	?= -O2 -g
SAN	?=
EV	?=
PORTABLE ?=

BSD_CFLAGS != pkg-config --cflags libbsd-overlay 2>/dev/null || true
BSD_LIBS   != pkg-config --libs libbsd-overlay 2>/dev/null || echo -lbsd

CFLAGS	+= -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra -Werror \
	   -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	   -Icommon -Iserver -Itools $(BSD_CFLAGS)
LDLIBS	+= $(BSD_LIBS)
ifneq ($(SAN),)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS	+= -fsanitize=address,undefined
endif

# Per-OS files end in _linux.c or _bsd.c; the event backends (ev_*.c) are
# included by common/ev.c, which picks one.  The system calls of common/os.h
# come from os_linux.c on Linux, else (or with PORTABLE=1) os_portable.c.
ifeq ($(shell uname -s),Linux)
PLATFORM := linux
else
PLATFORM := bsd
endif
per_os	= $(filter-out $(1)/ev_%.c $(1)/%_linux.c $(1)/%_bsd.c,$(wildcard $(1)/*.c)) \
	  $(wildcard $(1)/*_$(PLATFORM).c)
ifeq ($(PLATFORM)$(PORTABLE),linux)
OS_SRC	:= common/os_linux.c
else
OS_SRC	:= common/os_portable.c
endif

# EV=kqueue on Linux: every file sees the shim's <sys/event.h>, and the
# shim joins the library.  The BSDs and macOS use kqueue anyway.
ifeq ($(EV),kqueue)
CFLAGS	+= -DEV_BACKEND_KQUEUE
ifeq ($(PLATFORM),linux)
CFLAGS	+= -Itests/kqueue
EV_SRCS	:= tests/kqueue/kqueue_shim.c
endif
else ifneq ($(EV),)
$(error EV=$(EV): the event backends are epoll (the default on Linux) and kqueue)
endif

COMMON_SRCS	:= $(filter-out common/os_%.c,$(call per_os,common)) $(OS_SRC)
SERVER_SRCS	:= $(filter-out server/acceptd.c,$(call per_os,server))
TOOL_MAINS	:= tools/acceptctl.c tools/acceptload.c tools/scenlog.c
TOOLS_SRCS	:= $(filter-out $(TOOL_MAINS),$(wildcard tools/*.c))
LIB_SRCS	:= $(COMMON_SRCS) $(SERVER_SRCS) $(TOOLS_SRCS) $(EV_SRCS)
LIB		:= $(O)/libacceptd.a

PROGS	:= $(O)/server/acceptd $(TOOL_MAINS:%.c=$(O)/%)
UNITS	:= $(patsubst tests/unit/%_test.c,$(O)/tests/unit/%.t,$(wildcard tests/unit/*_test.c))
ifeq ($(PLATFORM),linux)
UNITS	+= $(O)/tests/unit/ev-kqueue.t $(O)/tests/unit/kqueue-shim.t
endif
MANS	:= server/acceptd.8 server/acceptd.conf.5 tools/acceptctl.8 tools/acceptload.1
# Every shell file: scripts, the files they source, the shell tests.  The
# checks shellcheck leaves out are listed, with the reason, in .shellcheckrc.
SHELLS	:= $(wildcard .ci/run tools/scenario tools/bench tools/install-deps \
	   tools/*.sh tools/scenarios/*.sh tests/*.sh tests/integration/*.t)

all: $(PROGS) $(UNITS)

# Objects built with other EV, PORTABLE or SAN values are rebuilt, not
# mixed: the stamp is rewritten only when they change.
BUILD_VARS	:= EV=$(EV) PORTABLE=$(PORTABLE) SAN=$(SAN)
$(O)/%.o: %.c $(O)/build.stamp
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@
$(O)/build.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(BUILD_VARS)' | cmp -s - $@ || echo '$(BUILD_VARS)' >$@

# The default config file is compiled into acceptd.o, which is rebuilt
# when PREFIX changes: the stamp is rewritten only then.
$(O)/server/acceptd.o: CFLAGS += -DACCEPTD_CONF='"$(PREFIX)/etc/acceptd.conf"'
$(O)/server/acceptd.o: $(O)/server/prefix.stamp
$(O)/server/prefix.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' >$@

$(LIB): $(LIB_SRCS:%.c=$(O)/%.o)
	rm -f $@ && $(AR) rcs $@ $^

$(PROGS): $(O)/%: $(O)/%.o $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(O)/tests/%.o: CFLAGS += -Itests

$(O)/tests/unit/%.t: $(O)/tests/unit/%_test.o $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The kqueue backend, compiled against the kqueue-over-epoll shim in
# tests/kqueue and run through the same event-layer tests as epoll.
KQ_CFLAGS = $(CFLAGS) -Itests/kqueue -DEV_BACKEND_KQUEUE
$(O)/tests/kqueue/ev.o: common/ev.c common/ev_kqueue.c common/ev.h \
    $(O)/build.stamp
	@mkdir -p $(@D)
	$(CC) $(KQ_CFLAGS) -c $< -o $@
$(O)/tests/kqueue/kqueue_shim.o: tests/kqueue/kqueue_shim.c $(O)/build.stamp
	@mkdir -p $(@D)
	$(CC) $(KQ_CFLAGS) -MMD -MP -c $< -o $@
$(O)/tests/unit/ev-kqueue.t: $(O)/tests/unit/ev_test.o $(O)/tests/kqueue/ev.o \
    $(O)/tests/kqueue/kqueue_shim.o
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
# The shim itself against kqueue(2).
$(O)/tests/kqueue/shim_test.o: tests/kqueue/shim_test.c $(O)/build.stamp
	@mkdir -p $(@D)
	$(CC) $(KQ_CFLAGS) -Itests -MMD -MP -c $< -o $@
$(O)/tests/unit/kqueue-shim.t: $(O)/tests/kqueue/shim_test.o \
    $(O)/tests/kqueue/kqueue_shim.o
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

-include $(shell find $(O) -name '*.d' -not -path '*/.git/*' 2>/dev/null)

# Tests: unit binaries and integration scripts, all TAP, all through prove.
# TEST_BUILD tells the scripts which build's binaries to run.
# The kqueue passes run the integration tests (and every unit test)
# without the sanitizers: what they add is the other backend's code path.
# They leave out the scenarios (90-scenarios.t, 91-scenario-runner.t): those
# are about the kernel, whatever loop the daemon runs, and take a minute a
# pass; the default and sanitizer passes run them.  The kqueue pass with
# Linux's own calls (a mix no platform ships: BSD and macOS are the
# PORTABLE one) also leaves out the monitor's and the listeners' tests,
# the two longest, which the PORTABLE pass runs: make check stays within
# its 10 minutes.
PROVE	= prove --exec '' $(PROVEFLAGS)
INTEGRATION = $(sort $(wildcard tests/integration/*.t))
BACKEND_INTEGRATION = $(filter-out tests/integration/9%-scenario-runner.t \
	tests/integration/9%-scenarios.t,$(INTEGRATION))
KQUEUE_INTEGRATION = $(filter-out tests/integration/210-monitor.t \
	tests/integration/215-listeners.t,$(BACKEND_INTEGRATION))
TESTS	= $(UNITS) $(INTEGRATION)

# The builds go in parallel (one job per CPU); the tests do not, being
# about timing on a shared machine.
JOBS	:= -j$(shell nproc 2>/dev/null || echo 2)

check: deps-check
	$(MAKE) $(JOBS) all
	mandoc -Tlint -W warning $(wildcard $(MANS))
	shellcheck -x $(SHELLS)
	TEST_BUILD=. $(PROVE) $(TESTS)
	$(MAKE) $(JOBS) O=.kqueue EV=kqueue all
	TEST_BUILD=.kqueue $(PROVE) $(patsubst $(O)/%,.kqueue/%,$(UNITS)) \
	    $(KQUEUE_INTEGRATION)
	$(MAKE) $(JOBS) O=.portable EV=kqueue PORTABLE=1 all
	TEST_BUILD=.portable $(PROVE) $(patsubst $(O)/%,.portable/%,$(UNITS)) \
	    $(BACKEND_INTEGRATION)
	$(MAKE) $(JOBS) fuzz FUZZ_SECONDS=10
	$(MAKE) $(JOBS) O=.san SAN=1 all
	TEST_BUILD=.san ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 \
	    $(PROVE) $(patsubst $(O)/%,.san/%,$(UNITS)) $(sort $(wildcard tests/integration/*.t))

# Fuzzing: a libFuzzer target for each parser of what others write: the
# config file, an HTTP request, a control line, a channel message
# (tests/fuzz/NAME_fuzz.c).  clang builds each with ASan and UBSan from the
# sources it needs, not from the gcc-built library.  A run starts from the
# seeds in tests/fuzz/corpus/NAME (and NAME.dict's words); what it finds
# is kept in .fuzz/corpus/NAME, a crash as .fuzz/NAME-crash-*, to be kept
# as a seed once fixed.  Any crash, leak, hang (5 s) or failed check fails.
FUZZ		:= $(O)/.fuzz
FUZZ_SECONDS	?= 60
FUZZ_CC		?= clang
FUZZ_CFLAGS	= -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Wshadow \
		  -Wstrict-prototypes -Wmissing-prototypes -Icommon -Iserver \
		  $(BSD_CFLAGS) -fno-omit-frame-pointer \
		  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZERS		:= conf http ctlline chan
FUZZ_DICT	= $(addprefix -dict=,$(wildcard tests/fuzz/$*.dict))

$(FUZZ)/conf: common/conf.c
$(FUZZ)/http: server/http.c
$(FUZZ)/ctlline: common/ctlproto.c common/conf.c
$(FUZZ)/chan: server/channel.c $(OS_SRC)
$(FUZZ)/%: tests/fuzz/%_fuzz.c $(wildcard common/*.h server/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(filter %.c,$^) $(BSD_LIBS) -o $@

fuzz: deps-check $(FUZZERS:%=fuzz-%)

fuzz-%: $(FUZZ)/%
	@mkdir -p $(FUZZ)/corpus/$*
	@echo "fuzz $*: $(FUZZ_SECONDS) s, log in $(FUZZ)/$*.log"
	@$(FUZZ)/$* -max_total_time=$(FUZZ_SECONDS) -timeout=5 \
	    -artifact_prefix=$(FUZZ)/$*- $(FUZZ_DICT) \
	    $(FUZZ)/corpus/$* tests/fuzz/corpus/$* >$(FUZZ)/$*.log 2>&1 || \
	    { tail -n 40 $(FUZZ)/$*.log; echo "fuzz $*: FAILED"; exit 1; }
	@tail -n 1 $(FUZZ)/$*.log

# Job control (set -m) gives the daemon the terminal's foreground: Ctrl-C
# reaches it alone, it stops cleanly and make ends quietly with its status.
run: deps-build all
	@echo "$(O)/server/acceptd -d -f conf/acceptd.conf   (Ctrl-C stops it)"
	@bash -c 'set -m; "$$0" -d -f conf/acceptd.conf; s=$$?; exit $$s' $(O)/server/acceptd

bench: deps-bench
	tools/bench

deps-build deps-check deps-bench:
	@tools/install-deps $(@:deps-%=%)
deps: deps-check deps-bench

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/etc
	install -m 755 $(O)/server/acceptd $(O)/tools/acceptctl $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 $(O)/tools/acceptload $(DESTDIR)$(PREFIX)/bin/
	install -m 644 server/acceptd.8 tools/acceptctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 server/acceptd.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 tools/acceptload.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 conf/acceptd.conf $(DESTDIR)$(PREFIX)/etc/acceptd.conf.sample
	test -e $(DESTDIR)$(PREFIX)/etc/acceptd.conf || \
	    install -m 644 conf/acceptd.conf $(DESTDIR)$(PREFIX)/etc/acceptd.conf
	$(SERVICE_INSTALL)

# The service file where the system looks: systemd's unit on Linux, an
# rc.d script on FreeBSD, with PREFIX filled in.
ifeq ($(shell uname -s),Linux)
SERVICE_INSTALL = install -d $(DESTDIR)$(PREFIX)/lib/systemd/system && \
	sed 's|@PREFIX@|$(PREFIX)|g' conf/acceptd.service \
	    >$(DESTDIR)$(PREFIX)/lib/systemd/system/acceptd.service
else
SERVICE_INSTALL = install -d $(DESTDIR)$(PREFIX)/etc/rc.d && \
	sed 's|@PREFIX@|$(PREFIX)|g' conf/acceptd.rc \
	    >$(DESTDIR)$(PREFIX)/etc/rc.d/acceptd && \
	chmod 755 $(DESTDIR)$(PREFIX)/etc/rc.d/acceptd
endif

clean:
	rm -rf .san .kqueue .portable .bench .fuzz $(PROGS) $(LIB) $(UNITS) \
	    tests/kqueue/*.o server/prefix.stamp build.stamp
	find common server tools tests -name '*.[od]' -delete

FORCE:
.PHONY: all check fuzz run bench deps deps-build deps-check deps-bench install \
	clean FORCE

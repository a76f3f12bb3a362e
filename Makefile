# acceptd: build, run, test, bench.  Read top to bottom.
#
#   make            build server/acceptd, tools/acceptctl, tools/acceptload,
#                   tools/scenlog (the scenarios' event log reader)
#   make run        install what is missing, build, run on conf/acceptd.conf
#   make check      install what tests need, build, run every test, each
#                   fuzz target for 10 s, then every test again built with
#                   ASan+UBSan (into .san/): prove's summary comes last
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (60), into .fuzz/
#   make bench      acceptd against nginx on this machine (tools/bench)
#   make install    PREFIX=/usr/local DESTDIR=
#
# One variable away: O=DIR builds into DIR, SAN=1 adds the sanitizers,
# OPT='-O3 -march=native' changes optimisation.

PREFIX	?= /usr/local
DESTDIR	?=
O	?= .
OPT	?= -O2 -g
SAN	?=

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
# included by common/ev.c, which picks one.
ifeq ($(shell uname -s),Linux)
PLATFORM := linux
else
PLATFORM := bsd
endif
per_os	= $(filter-out $(1)/ev_%.c $(1)/%_linux.c $(1)/%_bsd.c,$(wildcard $(1)/*.c)) \
	  $(wildcard $(1)/*_$(PLATFORM).c)

COMMON_SRCS	:= $(call per_os,common)
SERVER_SRCS	:= $(filter-out server/acceptd.c,$(call per_os,server))
TOOL_MAINS	:= tools/acceptctl.c tools/acceptload.c tools/scenlog.c
TOOLS_SRCS	:= $(filter-out $(TOOL_MAINS),$(wildcard tools/*.c))
LIB_SRCS	:= $(COMMON_SRCS) $(SERVER_SRCS) $(TOOLS_SRCS)
LIB		:= $(O)/libacceptd.a

PROGS	:= $(O)/server/acceptd $(TOOL_MAINS:%.c=$(O)/%)
UNITS	:= $(patsubst tests/unit/%_test.c,$(O)/tests/unit/%.t,$(wildcard tests/unit/*_test.c)) \
	   $(O)/tests/unit/ev-kqueue.t
MANS	:= server/acceptd.8 server/acceptd.conf.5 tools/acceptctl.8 tools/acceptload.1
# Every shell file: scripts, the files they source, the shell tests.  The
# checks shellcheck leaves out are listed, with the reason, in .shellcheckrc.
SHELLS	:= $(wildcard .ci/run tools/scenario tools/bench tools/install-deps \
	   tools/*.sh tools/scenarios/*.sh tests/*.sh tests/integration/*.t)

all: $(PROGS) $(UNITS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

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
$(O)/tests/kqueue/ev.o: common/ev.c common/ev_kqueue.c common/ev.h
	@mkdir -p $(@D)
	$(CC) $(KQ_CFLAGS) -c $< -o $@
$(O)/tests/kqueue/kqueue_shim.o: tests/kqueue/kqueue_shim.c
	@mkdir -p $(@D)
	$(CC) $(KQ_CFLAGS) -MMD -MP -c $< -o $@
$(O)/tests/unit/ev-kqueue.t: $(O)/tests/unit/ev_test.o $(O)/tests/kqueue/ev.o \
    $(O)/tests/kqueue/kqueue_shim.o
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

-include $(shell find $(O) -name '*.d' -not -path '*/.git/*' 2>/dev/null)

# Tests: unit binaries and integration scripts, all TAP, all through prove.
# TEST_BUILD tells the scripts which build's binaries to run.
PROVE	= prove --exec '' $(PROVEFLAGS)
TESTS	= $(UNITS) $(sort $(wildcard tests/integration/*.t))

check: deps-check
	$(MAKE) all
	mandoc -Tlint -W warning $(wildcard $(MANS))
	shellcheck -x $(SHELLS)
	TEST_BUILD=. $(PROVE) $(TESTS)
	$(MAKE) fuzz FUZZ_SECONDS=10
	$(MAKE) O=.san SAN=1 all
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
$(FUZZ)/ctlline: common/ctlproto.c
$(FUZZ)/chan: server/channel.c
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

run: deps-build all
	$(O)/server/acceptd -d -f conf/acceptd.conf

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

clean:
	rm -rf .san .bench .fuzz $(PROGS) $(LIB) $(UNITS) tests/kqueue/*.o server/prefix.stamp
	find common server tools tests -name '*.[od]' -delete

FORCE:
.PHONY: all check fuzz run bench deps deps-build deps-check deps-bench install \
	clean FORCE

# SPDX-License-Identifier: GPL-2.0-only
# xdpsbc: `make deps`, `make` (build/), `make test`, `make demo`, `make bench`.

BUILD	?= build
CLANG	?= clang
CC	?= gcc
BPFTOOL	?= bpftool
ARCH	:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

CFLAGS	?= -O2 -g
CFLAGS	+= -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE
# The version is debian/changelog's, so the package, the man pages and --version agree.
XS_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
CPPFLAGS += -I$(BUILD)/include -I. -Isigd -Ibpf -DXDPSBC_VERSION='"$(XS_VERSION)"'
LDLIBS_BPF := -lxdp -lbpf -lelf -lz -lnftnl -lmnl
LDLIBS_SIGD := -losip2 -losipparser2 -lpthread -ljansson -lssl -lcrypto -lsystemd -lhiredis

BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-value \
	-I/usr/include/$(MULTIARCH) -Ibpf
# Each object records the headers it includes (build/**/*.d, read at the end).
DEPFLAGS := -MMD -MP
# WERROR=1 (what `make test`, and so CI, builds with): any warning fails the build.
ifeq ($(WERROR),1)
CFLAGS	   += -Werror
BPF_CFLAGS += -Werror
endif
# Quiet "CC file" lines; V=1 prints the full command lines.
ifneq ($(V),1)
say	= @printf '  %-8s%s\n' '$(1)' '$(2)';
endif

BPF_PROGS := xdpsbc xdp_trivial
BPF_OBJS  := $(BPF_PROGS:%=$(BUILD)/bpf/%.bpf.o)
SKELS     := $(BPF_PROGS:%=$(BUILD)/include/%.skel.h)

LOADER_SRCS := $(wildcard lib/*.c fw/*.c relay/*.c)
LOADER_OBJS := $(LOADER_SRCS:%.c=$(BUILD)/%.o)
LOADER_LIB  := $(BUILD)/libxdpsbc.a

CLI_SRCS := $(wildcard tools/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)

SIGD_SRCS := $(wildcard sigd/*.c sigd/*/*.c)
SIGD_OBJS := $(SIGD_SRCS:%.c=$(BUILD)/%.o)
SIGD_LIB_OBJS := $(filter-out $(BUILD)/sigd/main.o,$(SIGD_OBJS))

TEST_LIB_SRCS := $(wildcard tests/lib/*.c)
TEST_LIB_OBJS := $(TEST_LIB_SRCS:%.c=$(BUILD)/%.o)
TEST_BPF_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/%,$(wildcard tests/bpf/test_*.c))
TEST_SIP_BINS := $(patsubst tests/sip/%.c,$(BUILD)/tests/%,$(wildcard tests/sip/test_*.c))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRCS))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

BINS := $(BUILD)/bin/xdpsbc
ifneq ($(SIGD_SRCS),)
BINS += $(BUILD)/bin/xdpsbc-sigd
endif

.PHONY: all deps test demo bench bench-quick clean format tests-build
.DELETE_ON_ERROR:
# Keep intermediate files (skeletons, test objects): removing them rebuilds their users.
.SECONDARY:

all: $(BINS) $(BPF_OBJS)

deps:
	@sh tools/deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c
	@mkdir -p $(@D)
	$(call say,CLANG,$@)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/include/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@mkdir -p $(@D)
	$(call say,GEN,$@)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*) > $@

# The skeletons exist before any C file is compiled (order-only); which
# objects include one, and so are rebuilt with it, their .d files say.
$(BUILD)/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LOADER_LIB): $(LOADER_OBJS)
	@mkdir -p $(@D)
	$(call say,AR,$@)rm -f $@; $(AR) rcs $@ $^

$(BUILD)/bin/xdpsbc: $(CLI_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_BPF)

$(BUILD)/bin/xdpsbc-sigd: $(SIGD_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_SIGD) $(LDLIBS_BPF)

$(BUILD)/tests/test_%: $(BUILD)/tests/bpf/test_%.o $(TEST_LIB_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_BPF)

$(TEST_SIP_BINS): $(BUILD)/tests/%: $(BUILD)/tests/sip/%.o $(SIGD_LIB_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_SIGD) $(LDLIBS_BPF)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(TEST_LIB_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_BPF)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(TEST_LIB_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_BPF)

tests-build: all $(TEST_BPF_BINS) $(TEST_SIP_BINS) $(TOOL_BINS) $(BENCH_BINS)

# Tests that also run built with AddressSanitizer and UBSan (build/tests/NAME_asan):
# the transport's ownership of connections and buffers, checked by the run itself.
# The same optimisation as the normal build: its warnings (-Werror) are the same too.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_TESTS := test_proxy_tcp test_tcp_limits test_dns
ASAN_SIGD_OBJS := $(SIGD_LIB_OBJS:$(BUILD)/%=$(BUILD)/asan/%)
$(BUILD)/asan/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(call say,CC-ASAN,$<)$(CC) $(CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/tests/%_asan: $(BUILD)/asan/tests/sip/%.o $(ASAN_SIGD_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(ASAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_SIGD) $(LDLIBS_BPF)
tests-build: $(ASAN_TESTS:%=$(BUILD)/tests/%_asan)

# The bench's own BPF programs (bench/bpf/*.bpf.c, e.g. loadgen's generator),
# loaded by path at run time; and the packages only `make bench` needs.
BENCH_BPF_OBJS := $(patsubst bench/bpf/%.bpf.c,$(BUILD)/bench/%.bpf.o,$(wildcard bench/bpf/*.bpf.c))
$(BUILD)/bench/%.bpf.o: bench/bpf/%.bpf.c
	@mkdir -p $(@D)
	$(call say,CLANG,$@)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@
tests-build: $(BENCH_BPF_OBJS)
.PHONY: bench-deps
bench-deps:
	@sh bench/deps.sh

test: deps
	@$(MAKE) --no-print-directory -j$(shell nproc) WERROR=1 tests-build
	@BUILD=$(abspath $(BUILD)) bash tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory -j$(shell nproc) tests-build
	@BUILD=$(abspath $(BUILD)) bash tools/demo.sh

bench: deps
	@$(MAKE) --no-print-directory -j$(shell nproc) tests-build
	@BUILD=$(abspath $(BUILD)) bash bench/run.sh

bench-quick: deps
	@$(MAKE) --no-print-directory -j$(shell nproc) tests-build
	@BUILD=$(abspath $(BUILD)) QUICK=1 bash bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

# ---- fuzzing ----------------------------------------------------------------
# `make fuzz` builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang,
# ASan and UBSan into $(BUILD)/fuzz/, with their own sanitised objects of
# sigd/ and the library (lib/, fw/, relay/), and runs each for FUZZ_SECONDS on its corpus
# (tests/fuzz/<target>/); new inputs go to $(BUILD)/fuzz/corpus/<target>/,
# crashes to $(BUILD)/fuzz/artifacts/<target>/. `make test` runs every target
# briefly on its corpus (tests/fuzz/test_fuzz.sh).
FUZZ_SECONDS ?= 60
FUZZ_CC	     ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
		-Wall -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE
ifeq ($(WERROR),1)
FUZZ_CFLAGS  += -Werror
endif
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRCS))
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_DIR)/%.o,$(filter-out sigd/main.c,$(SIGD_SRCS)) \
		   $(LOADER_SRCS))

.PHONY: fuzz fuzz-build
$(FUZZ_DIR)/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(call say,FUZZCC,$<)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(DEPFLAGS) \
		-fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	$(call say,FUZZLD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(filter-out $(if $(filter rest,$*),$(FUZZ_DIR)/sigd/ctl/ctl.o),$(FUZZ_LIB_OBJS)) \
		$(LDLIBS_SIGD) $(LDLIBS_BPF)

fuzz-build: $(FUZZ_BINS)
tests-build: fuzz-build

# One target after the other, each FUZZ_SECONDS (a campaign: FUZZ_SECONDS=1800).
# FUZZ_TARGETS="sdp uri" narrows it.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t; \
		echo "== fuzz $$t: $(FUZZ_SECONDS) s"; \
		d=tests/fuzz/$${t%%_*}.dict; [ -e $$d ] && d=-dict=$$d || d=; \
		nice -n 10 $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 -timeout=10 $$d \
			-artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ \
			$(FUZZ_DIR)/corpus/$$t tests/fuzz/$$t \
			> $(FUZZ_DIR)/$$t.log 2>&1; rc=$$?; \
		grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE|ERROR: ' $(FUZZ_DIR)/$$t.log | \
			sed 's/^/   /'; \
		if [ $$rc = 0 ]; then echo "   $$t: no finding"; \
		else echo "   $$t: FINDING (exit $$rc), see $(FUZZ_DIR)/$$t.log"; fail=1; fi; \
	done; [ -z "$$fail" ]

# ---- install, uninstall, man pages -------------------------------------------
# `make install [DESTDIR=...] [PREFIX=/usr]`, `make uninstall`, `make man`.
# The binaries embed the XDP program through their skeletons and need nothing
# from the build tree; the BPF object is installed for inspection with
# bpftool and xdp-loader. Man pages are generated from the binaries' own
# --help (help2man), so they cannot disagree with it.
PREFIX	   ?= /usr
SBINDIR	   ?= $(PREFIX)/sbin
XS_LIBDIR  ?= $(PREFIX)/lib/xdpsbc
UNITDIR	   ?= $(PREFIX)/lib/systemd/system
MANDIR	   ?= $(PREFIX)/share/man
DOCDIR	   ?= $(PREFIX)/share/doc/xdpsbc
SYSCONFDIR ?= /etc
INSTALL	   ?= install
HELP2MAN   ?= help2man
# One version for the package and the man pages: debian/changelog's.

XS_INST_BPF   := $(filter-out $(BUILD)/bpf/xdp_trivial.bpf.o,$(BPF_OBJS))
XS_UNITS      := xdpsbc-sigd.service xdpsbc-firewall.service
XS_CONFS      := xdpsbc.conf policy
XS_DOCS       := $(wildcard docs/*.md)
XS_MAN8	      := xdpsbc.8
ifneq ($(SIGD_SRCS),)
XS_MAN8	      += xdpsbc-sigd.8
XS_MAN5	      := xdpsbc.conf.5
endif
XS_MAN_PAGES  := $(XS_MAN8:%=$(BUILD)/man/%) $(XS_MAN5:%=$(BUILD)/man/%)
# Paths in the shipped units and scripts follow PREFIX and SYSCONFDIR.
XS_SUBST      := sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/usr/lib/xdpsbc/|$(XS_LIBDIR)/|g' \
		     -e 's|/etc/xdpsbc|$(SYSCONFDIR)/xdpsbc|g'

.PHONY: install uninstall man

man: $(XS_MAN_PAGES)

$(BUILD)/man/xdpsbc.8: $(BUILD)/bin/xdpsbc dist/man/xdpsbc.h2m
	@mkdir -p $(@D)
	$(HELP2MAN) --no-info --no-discard-stderr --section=8 --version-string="$(XS_VERSION)" \
		--name="SIP carrier-edge XDP datapath: attach, blocklist, media policy, stats" \
		--include=dist/man/xdpsbc.h2m --output=$@ $<

# help2man runs the daemon through help-filter.sh (named xdpsbc-sigd, as
# help2man takes the program name from the file name), which only moves each
# option's argument next to the option.
$(BUILD)/man/xdpsbc-sigd.8: $(BUILD)/bin/xdpsbc-sigd dist/man/xdpsbc-sigd.h2m dist/man/help-filter.sh \
			    dist/man/opt-table.awk
	@mkdir -p $(@D)/bin
	printf '#!/bin/sh\nexec sh "%s" "%s" "$$@"\n' $(abspath dist/man/help-filter.sh) \
		$(abspath $<) > $(@D)/bin/xdpsbc-sigd
	chmod +x $(@D)/bin/xdpsbc-sigd
	$(HELP2MAN) --no-info --no-discard-stderr --section=8 --version-string="$(XS_VERSION)" \
		--name="SIP ALG for the xdpsbc edge, programming the in-driver media relay" \
		--include=dist/man/xdpsbc-sigd.h2m --output=$@ $(@D)/bin/xdpsbc-sigd

$(BUILD)/man/xdpsbc.conf.5: $(BUILD)/bin/xdpsbc-sigd dist/gen-conf-man.sh dist/man/opt-table.awk
	@mkdir -p $(@D)
	sh dist/gen-conf-man.sh $< "$(XS_VERSION)" > $@

install: all man
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(XS_LIBDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/xdpsbc
	$(INSTALL) -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 $(XS_INST_BPF) $(DESTDIR)$(XS_LIBDIR)/
	$(XS_SUBST) dist/xdpsbc-firewall > $(DESTDIR)$(XS_LIBDIR)/xdpsbc-firewall
	chmod 0755 $(DESTDIR)$(XS_LIBDIR)/xdpsbc-firewall
	for u in $(XS_UNITS); do \
		$(XS_SUBST) dist/$$u > $(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	$(INSTALL) -m 0644 $(XS_MAN8:%=$(BUILD)/man/%) $(DESTDIR)$(MANDIR)/man8/
	$(if $(XS_MAN5),$(INSTALL) -d $(DESTDIR)$(MANDIR)/man5 && \
		$(INSTALL) -m 0644 $(XS_MAN5:%=$(BUILD)/man/%) $(DESTDIR)$(MANDIR)/man5/)
	$(INSTALL) -m 0644 $(XS_DOCS) $(DESTDIR)$(DOCDIR)/
	@# An existing configuration is the operator's: never overwritten.
	@for f in $(XS_CONFS); do \
		if [ -e $(DESTDIR)$(SYSCONFDIR)/xdpsbc/$$f ]; then \
			echo "install: keeping existing $(DESTDIR)$(SYSCONFDIR)/xdpsbc/$$f"; \
		else \
			$(INSTALL) -m 0644 dist/$$f $(DESTDIR)$(SYSCONFDIR)/xdpsbc/$$f || exit 1; \
		fi; \
	done

uninstall:
	rm -f $(patsubst %,$(DESTDIR)$(SBINDIR)/%,$(notdir $(BINS)))
	rm -f $(patsubst %,$(DESTDIR)$(XS_LIBDIR)/%,$(notdir $(XS_INST_BPF))) \
		$(DESTDIR)$(XS_LIBDIR)/xdpsbc-firewall
	rm -f $(XS_UNITS:%=$(DESTDIR)$(UNITDIR)/%)
	rm -f $(XS_MAN8:%=$(DESTDIR)$(MANDIR)/man8/%) $(XS_MAN5:%=$(DESTDIR)$(MANDIR)/man5/%)
	rm -f $(patsubst docs/%,$(DESTDIR)$(DOCDIR)/%,$(XS_DOCS))
	@# A configuration file goes only if the operator never changed it.
	@for f in $(XS_CONFS); do \
		if cmp -s dist/$$f $(DESTDIR)$(SYSCONFDIR)/xdpsbc/$$f; then \
			rm -f $(DESTDIR)$(SYSCONFDIR)/xdpsbc/$$f; \
		elif [ -e $(DESTDIR)$(SYSCONFDIR)/xdpsbc/$$f ]; then \
			echo "uninstall: keeping modified $(DESTDIR)$(SYSCONFDIR)/xdpsbc/$$f"; \
		fi; \
	done
	@for d in $(DESTDIR)$(XS_LIBDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/xdpsbc; do \
		rmdir $$d 2>/dev/null || true; \
	done

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

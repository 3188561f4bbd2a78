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
CPPFLAGS += -I$(BUILD)/include -Ibpf -Iloader -Isigd
LDLIBS_BPF := -lxdp -lbpf -lelf -lz
LDLIBS_SIGD := -losip2 -losipparser2 -lpthread

BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-value \
	-I/usr/include/$(MULTIARCH) -Ibpf

BPF_PROGS := xdpsbc xdp_trivial
BPF_OBJS  := $(BPF_PROGS:%=$(BUILD)/bpf/%.bpf.o)
SKELS     := $(BPF_PROGS:%=$(BUILD)/include/%.skel.h)

LOADER_SRCS := $(wildcard loader/*.c)
LOADER_OBJS := $(LOADER_SRCS:%.c=$(BUILD)/%.o)
LOADER_LIB  := $(BUILD)/libxdpsbc.a

CLI_SRCS := $(wildcard tools/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)

SIGD_SRCS := $(wildcard sigd/*.c)
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

all: $(BINS) $(BPF_OBJS)

deps:
	@sh tools/deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/xdpsbc_common.h bpf/xdpsbc_reasons.inc $(wildcard bpf/lib/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/include/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@mkdir -p $(@D)
	$(BPFTOOL) gen skeleton $< name $(subst .,_,$*) > $@

$(BUILD)/%.o: %.c $(SKELS) $(wildcard bpf/*.h bpf/*.inc loader/*.h sigd/*.h tests/lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LOADER_LIB): $(LOADER_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BUILD)/bin/xdpsbc: $(CLI_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_BPF)

$(BUILD)/bin/xdpsbc-sigd: $(SIGD_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_SIGD) $(LDLIBS_BPF)

$(BUILD)/tests/test_%: $(BUILD)/tests/bpf/test_%.o $(TEST_LIB_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_BPF)

$(TEST_SIP_BINS): $(BUILD)/tests/%: $(BUILD)/tests/sip/%.o $(SIGD_LIB_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_SIGD) $(LDLIBS_BPF)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(TEST_LIB_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_BPF)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(TEST_LIB_OBJS) $(LOADER_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_BPF)

tests-build: all $(TEST_BPF_BINS) $(TEST_SIP_BINS) $(TOOL_BINS) $(BENCH_BINS)

test: deps
	@$(MAKE) --no-print-directory tests-build
	@BUILD=$(abspath $(BUILD)) bash tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory tests-build
	@BUILD=$(abspath $(BUILD)) bash tools/demo.sh

bench: deps
	@$(MAKE) --no-print-directory tests-build
	@BUILD=$(abspath $(BUILD)) bash bench/run.sh

bench-quick: deps
	@$(MAKE) --no-print-directory tests-build
	@BUILD=$(abspath $(BUILD)) QUICK=1 bash bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

# ckpt — one non-recursive GNU Makefile; each folder adds itself through module.mk.
#
#   make              build build/ckpt
#   make demo         run ckpt on a built-in workload
#   make check        every test (lint, unit, bats; later lanes as they land)
#   make check-vm     only the soft-dirty lane (Debian 6.1 kernel under qemu)
#   make fuzz         libFuzzer harnesses, FUZZ_SECONDS each (tests/fuzz/)
#   make reliability  fault, kill, fuzz and bad-input figures in one table
#   make bench        benchmarks (figures and ratios, never pass/fail)
#   make install PREFIX=/usr/local
#
# Knobs: V=1 (verbose), WERROR=0, SANITIZE=1 (ASan+UBSan), CC=clang.

# SANITIZE=1 builds in its own directory (objects never mix with the plain build).
ifeq ($(SANITIZE),1)
BUILD   ?= build-asan
endif
BUILD   ?= build
PREFIX  ?= /usr/local
V       ?= 0
WERROR  ?= 1
SANITIZE ?= 0

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Dependencies are installed by tests/install-deps.sh before the first compile, so
# pkg-config is asked lazily (first use) rather than while the Makefile is parsed.
PKGS := yajl libprotobuf-c libseccomp
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wmissing-declarations -Wformat=2 -Wformat-security -Wformat-nonliteral \
	-Wimplicit-fallthrough -Wundef -Wpointer-arith -Wvla -Wswitch-enum \
	-Wno-unused-parameter -Wno-missing-field-initializers \
	-Werror=implicit-function-declaration -Werror=incompatible-pointer-types \
	-Werror=int-conversion -Werror=return-type
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

HOST_CPPFLAGS := -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I. -I$(BUILD)
HOST_CFLAGS := -std=gnu11 -O2 -g -fstack-protector-strong -fno-strict-aliasing
HOST_LDFLAGS :=
ifeq ($(SANITIZE),1)
HOST_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
HOST_LDFLAGS += -fsanitize=address,undefined
else
HOST_CPPFLAGS += -D_FORTIFY_SOURCE=2
endif

DEPS_STAMP := $(BUILD)/.deps-ok
# Objects that include generated headers wait for them (order-only).
GEN_HDRS :=

all: $(BUILD)/ckpt $(BUILD)/criu

# Link order: callers before callees.  Defined before the module.mk files use it.
CKPT_LIBS := $(BUILD)/runtime-glue/libruntime-glue.a $(BUILD)/parasite/libparasite.a \
	$(BUILD)/proto/libproto.a $(BUILD)/oci-spec/liboci-spec.a $(BUILD)/common/libcommon.a

include common/module.mk
include proto/module.mk
include oci-spec/module.mk
include parasite/module.mk
include runtime-glue/module.mk
include hook/module.mk
include tests/module.mk
include tests/fuzz/module.mk
include tests/vm/module.mk

$(DEPS_STAMP): tests/install-deps.sh
	$(Q)tests/install-deps.sh
	@mkdir -p $(@D) && touch $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP) $(GEN_HDRS)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(HOST_CPPFLAGS) $(HOST_CFLAGS) $(WARNINGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

%.a:
	@mkdir -p $(@D)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/ckpt: $(hook_OBJS) $(CKPT_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $(hook_OBJS) $(CKPT_LIBS) $(PKG_LIBS) -lpthread

# The criu front-end is ckpt under another name (hook/criu.c).
$(BUILD)/criu: $(BUILD)/ckpt
	$(Q)ln -sfn ckpt $@

deps: $(DEPS_STAMP)

demo: all test-bins
	$(Q)tests/demo.sh

check: all test-bins
	$(Q)BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run-check.sh

reliability: all test-bins fuzz-bins
	$(Q)BUILD=$(BUILD) tests/reliability.sh

bench: all test-bins
	$(Q)tests/bench/run.sh
	$(Q)tests/bench/compare.sh
	$(Q)tests/bench/merge.sh
	$(Q)tests/bench/container.sh

lint:
	$(Q)tests/lint.sh

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

analyze: $(DEPS_STAMP)
	$(Q)cppcheck --quiet --enable=warning,portability --inline-suppr --error-exitcode=1 \
		-DPROTOBUF_C_VERSION_NUMBER=1004001 -D_GNU_SOURCE -I. -I$(BUILD) $$(git ls-files 'common/*.c' 'proto/*.c' 'oci-spec/*.c' \
		'runtime-glue/*.c' 'runtime-glue/*/*.c' 'hook/*.c' 'parasite/host/*.c')

install: all
	install -D -m 0755 $(BUILD)/ckpt $(DESTDIR)$(PREFIX)/bin/ckpt
	install -D -m 0644 docs/ckpt.1 $(DESTDIR)$(PREFIX)/share/man/man1/ckpt.1
	install -d $(DESTDIR)$(PREFIX)/lib/ckpt
	ln -sfn ../../bin/ckpt $(DESTDIR)$(PREFIX)/lib/ckpt/criu

clean:
	rm -rf $(BUILD)

.PHONY: all deps demo check reliability bench lint format analyze install clean test-bins

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# tests/fuzz/: libFuzzer harnesses (clang, ASan+UBSan), built in their own directory
# (FUZZ_BUILD) by a recursive make with CC=clang SANITIZE=1 FUZZ=1.
#   make fuzz-bins             build $(FUZZ_BUILD)/tests/fuzz/fuzz-*
#   make fuzz FUZZ_SECONDS=N   run each harness N seconds (default 60) on its corpus
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/fuzz-%.c=%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%)

ifeq ($(FUZZ),1)
HOST_CFLAGS += -fsanitize=fuzzer-no-link
$(BUILD)/tests/fuzz/%: $(BUILD)/tests/fuzz/%.o $(CKPT_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(CKPT_LIBS) $(PKG_LIBS) -lpthread
fuzz-harnesses: $(FUZZ_BINS)
.SECONDARY: $(FUZZ_BINS:%=%.o)
endif

fuzz-bins:
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang SANITIZE=1 FUZZ=1 fuzz-harnesses

fuzz: fuzz-bins
	$(Q)FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

.PHONY: fuzz fuzz-bins fuzz-harnesses

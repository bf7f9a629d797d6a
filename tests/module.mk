# tests/: C unit tests (TAP) and victim programs used by the bats suites.
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
# The objects are real build products (kept for incremental builds), not
# intermediates make would delete (and print "rm ..." for) after linking.
.SECONDARY: $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%.o)
VICTIM_SRCS := $(wildcard tests/victims/*.c)
VICTIM_BINS := $(VICTIM_SRCS:tests/victims/%.c=$(BUILD)/tests/victims/%)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/unit/tap.o $(CKPT_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $< $(BUILD)/tests/unit/tap.o $(CKPT_LIBS) $(PKG_LIBS) -lpthread

# Victims are plain programs: no project libraries, no sanitizers (they are ptrace targets).
$(BUILD)/tests/victims/%: tests/victims/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) -D_GNU_SOURCE -std=gnu11 -O1 -g -Wall -Wextra -Werror -o $@ $< -lpthread

test-bins: $(UNIT_BINS) $(VICTIM_BINS)

# Image tests and the sample-image writer (tests/unit/img-sample) share the
# sample builders in img-sample-lib.c.
# They need only proto/ and common/.
IMG_SAMPLE_LIB := $(BUILD)/tests/unit/img-sample-lib.o
IMG_TEST_LIBS := $(BUILD)/proto/libproto.a $(BUILD)/common/libcommon.a
$(BUILD)/tests/unit/test-img: $(BUILD)/tests/unit/test-img.o $(BUILD)/tests/unit/tap.o \
		$(IMG_SAMPLE_LIB) $(IMG_TEST_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $< $(BUILD)/tests/unit/tap.o $(IMG_SAMPLE_LIB) $(IMG_TEST_LIBS) $(PKG_LIBS) -lpthread
$(BUILD)/tests/unit/img-sample: $(BUILD)/tests/unit/img-sample.o $(IMG_SAMPLE_LIB) $(IMG_TEST_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $< $(IMG_SAMPLE_LIB) $(IMG_TEST_LIBS) $(PKG_LIBS) -lpthread
test-bins: $(BUILD)/tests/unit/img-sample

# The libcriu-style RPC client (hand-encoded wire, no project code) for rpc.bats.
$(BUILD)/tests/tools/rpc-client: tests/tools/rpc-client.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) -D_GNU_SOURCE -std=gnu11 -O1 -g -Wall -Wextra -Werror -o $@ $<
test-bins: $(BUILD)/tests/tools/rpc-client

# The driver of runtime-glue/dump/dump-mnt.c for container-mnt.bats.
$(BUILD)/tests/tools/mnt-dump: $(BUILD)/tests/tools/mnt-dump.o $(CKPT_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $< $(CKPT_LIBS) $(PKG_LIBS) -lpthread
test-bins: $(BUILD)/tests/tools/mnt-dump

# The same victims linked static, to run inside a busybox container's rootfs.
$(BUILD)/tests/victims/static/%: tests/victims/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $< (static)"
	$(Q)$(CC) -D_GNU_SOURCE -std=gnu11 -O1 -g -Wall -Wextra -Werror -static -o $@ $<

test-bins: $(BUILD)/tests/victims/static/ctr-mem

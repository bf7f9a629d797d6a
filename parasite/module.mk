# parasite/: host-side injector (host/) and the freestanding blob run inside targets (blob/).
parasite_SRCS := $(wildcard parasite/host/*.c)
parasite_OBJS := $(parasite_SRCS:%.c=$(BUILD)/%.o)
$(BUILD)/parasite/libparasite.a: $(parasite_OBJS)

# The blob: its own flags (never the host's sanitizer, coverage, fortify or
# stack-protector flags), linked flat at 0 with blob.lds, checked for undefined
# symbols and relocations, then turned into a C array by xxd -i.
BLOB_DIR := $(BUILD)/parasite/blob
BLOB_SRCS := $(wildcard parasite/blob/*.c) $(wildcard parasite/blob/*.S)
BLOB_OBJS := $(patsubst parasite/blob/%,$(BLOB_DIR)/%.o,$(BLOB_SRCS))
BLOB_HDR := $(BUILD)/parasite/parasite-blob.h
BLOB_CFLAGS := -std=gnu11 -O2 -ffreestanding -nostdlib -fpie -fno-stack-protector \
	-fomit-frame-pointer -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-jump-tables -fvisibility=hidden -fno-plt -fno-common -mno-red-zone \
	-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=0 -I. \
	$(filter-out -fsanitize% -fno-sanitize% -pg --coverage -fprofile% -ftest-coverage \
		-fstack-protector% -D_FORTIFY_SOURCE%,$(CFLAGS))
BLOB_WARNINGS := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wundef -Wvla
ifeq ($(WERROR),1)
BLOB_WARNINGS += -Werror
endif

$(BLOB_DIR)/%.c.o: parasite/blob/%.c parasite/parasite-abi.h $(wildcard parasite/blob/*.h) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $< (blob)"
	$(Q)$(CC) $(BLOB_CFLAGS) $(BLOB_WARNINGS) -c $< -o $@

$(BLOB_DIR)/%.S.o: parasite/blob/%.S | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  AS      $< (blob)"
	$(Q)$(CC) $(BLOB_CFLAGS) -c $< -o $@

$(BLOB_DIR)/parasite.elf: $(BLOB_OBJS) parasite/blob/blob.lds
	@echo "  LD      $@"
	$(Q)$(CC) -nostdlib -static -Wl,-T,parasite/blob/blob.lds -Wl,--build-id=none \
		-Wl,-z,noexecstack -Wl,--no-dynamic-linker -o $@ $(BLOB_OBJS)
	$(Q)undef=$$(nm -u $@); if [ -n "$$undef" ]; then \
		echo "parasite blob has undefined symbols:" >&2; echo "$$undef" >&2; rm -f $@; exit 1; fi
	$(Q)if readelf -SW $@ | grep -qE '\.(rela?|got|plt|dynamic)'; then \
		echo "parasite blob needs relocations (GOT/PLT/rela sections): keep it position independent" >&2; \
		readelf -SW $@ >&2; rm -f $@; exit 1; fi

$(BLOB_DIR)/parasite.bin: $(BLOB_DIR)/parasite.elf
	$(Q)objcopy -O binary $< $@

# Symbol offsets the host needs (entry, trap, data start, end incl. bss).
$(BLOB_HDR): $(BLOB_DIR)/parasite.bin $(BLOB_DIR)/parasite.elf
	@echo "  GEN     $@"
	$(Q){ echo "/* Generated from parasite/blob/ by parasite/module.mk: do not edit. */"; \
	  echo "#pragma once"; \
	  nm $(BLOB_DIR)/parasite.elf | awk ' \
	    $$3 == "parasite_entry" { print "#define PARASITE_BLOB_ENTRY 0x" $$1 "UL" } \
	    $$3 == "parasite_trap" { print "#define PARASITE_BLOB_TRAP 0x" $$1 "UL" } \
	    $$3 == "__blob_data_start" { print "#define PARASITE_BLOB_DATA_OFF 0x" $$1 "UL" } \
	    $$3 == "__blob_end" { print "#define PARASITE_BLOB_END 0x" $$1 "UL" }'; \
	  cd $(BLOB_DIR) && xxd -i -n parasite_blob parasite.bin | sed 's/^unsigned/static const unsigned/'; \
	} > $@.tmp
	$(Q)for s in ENTRY TRAP DATA_OFF END; do grep -q "PARASITE_BLOB_$$s " $@.tmp || \
		{ echo "parasite blob: symbol for PARASITE_BLOB_$$s missing" >&2; exit 1; }; done
	$(Q)mv $@.tmp $@

GEN_HDRS += $(BLOB_HDR)

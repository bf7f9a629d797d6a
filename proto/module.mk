# proto/: CRIU-compatible .proto schemas (generated code goes to build/proto) and image I/O.
#
# protoc-c turns proto/NAME.proto into $(BUILD)/proto/NAME.pb-c.[ch]; code includes
# them as "proto/NAME.pb-c.h" (-I$(BUILD)).  Generated objects get relaxed
# warnings (protobuf-c's output is not written for -Wmissing-prototypes and
# friends) and go into libproto.a next to the hand-written image layer.
proto_SCHEMAS := $(wildcard proto/*.proto)
proto_GEN_SRCS := $(proto_SCHEMAS:proto/%.proto=$(BUILD)/proto/%.pb-c.c)
proto_GEN_HDRS := $(proto_SCHEMAS:proto/%.proto=$(BUILD)/proto/%.pb-c.h)
proto_GEN_OBJS := $(proto_GEN_SRCS:%.c=%.o)
proto_SRCS := $(wildcard proto/*.c)
proto_OBJS := $(proto_SRCS:%.c=$(BUILD)/%.o) $(proto_GEN_OBJS)
GEN_HDRS += $(proto_GEN_HDRS)

PROTO_GEN_CFLAGS := -Wall -Wno-unused-parameter

# One protoc-c run writes both files (a pattern rule with two targets is grouped).
$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: proto/%.proto | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  PROTOC  $<"
	$(Q)protoc-c --proto_path=proto --c_out=$(BUILD)/proto $<

$(proto_GEN_OBJS): $(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c | $(proto_GEN_HDRS)
	@echo "  CC      $(<F)"
	$(Q)$(CC) $(HOST_CPPFLAGS) $(HOST_CFLAGS) $(PROTO_GEN_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

# Keep the generated sources (make would otherwise treat them as intermediates).
.SECONDARY: $(proto_GEN_SRCS) $(proto_GEN_HDRS)

$(BUILD)/proto/libproto.a: $(proto_OBJS)

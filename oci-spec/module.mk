# oci-spec/: OCI config.json / state JSON parsing and JSON output; the only user of yajl.
oci-spec_SRCS := $(wildcard oci-spec/*.c)
oci-spec_OBJS := $(oci-spec_SRCS:%.c=$(BUILD)/%.o)
$(BUILD)/oci-spec/liboci-spec.a: $(oci-spec_OBJS)

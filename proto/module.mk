# proto/: CRIU-compatible .proto schemas (generated code goes to build/proto) and image I/O.
proto_SRCS := $(wildcard proto/*.c)
proto_OBJS := $(proto_SRCS:%.c=$(BUILD)/%.o)
$(BUILD)/proto/libproto.a: $(proto_OBJS)

# common/: error objects, logging, allocation and cleanup helpers shared by every module.
common_SRCS := $(wildcard common/*.c)
common_OBJS := $(common_SRCS:%.c=$(BUILD)/%.o)
$(BUILD)/common/libcommon.a: $(common_OBJS)

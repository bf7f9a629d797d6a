# hook/: the ckpt binary's main, verb dispatch, one file per verb.
hook_SRCS := $(wildcard hook/*.c)
hook_OBJS := $(hook_SRCS:%.c=$(BUILD)/%.o)

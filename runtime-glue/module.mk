# runtime-glue/: orchestration (features, process tree, freezer, dumper, trackers, layers).
runtime-glue_SRCS := $(wildcard runtime-glue/*.c)
runtime-glue_OBJS := $(runtime-glue_SRCS:%.c=$(BUILD)/%.o)
$(BUILD)/runtime-glue/libruntime-glue.a: $(runtime-glue_OBJS)

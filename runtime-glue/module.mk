# runtime-glue/: orchestration, in wings that use only the wings below them
# (tests/lint.sh checks it; docs/design.md draws it):
#
#   rpc -> agent -> dump -> track -> mem -> proc
#
# The files at the top (feature probes, exec glue, image-to-JSON, fault points)
# serve every wing.  Each wing's module.mk adds its sources; all of them go into
# one archive, libruntime-glue.a.
runtime-glue_SRCS := $(wildcard runtime-glue/*.c)

include runtime-glue/proc/module.mk
include runtime-glue/mem/module.mk
include runtime-glue/track/module.mk
include runtime-glue/dump/module.mk
include runtime-glue/agent/module.mk
include runtime-glue/rpc/module.mk

runtime-glue_OBJS := $(runtime-glue_SRCS:%.c=$(BUILD)/%.o)
$(BUILD)/runtime-glue/libruntime-glue.a: $(runtime-glue_OBJS)

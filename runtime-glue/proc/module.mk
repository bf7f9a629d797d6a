# runtime-glue/proc/: the process tree, /proc parsing, the freezer and its
# guardian, cgroup probes, seccomp suspend.  Uses no other wing.
runtime-glue_SRCS += $(wildcard runtime-glue/proc/*.c)

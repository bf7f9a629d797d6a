# runtime-glue/rpc/: ckpt as `criu swrk FD` (runc, Podman, libcriu): the RPC
# session, PRE_DUMP through the memory engine or the container's agent, DUMP
# and RESTORE handed to the real CRIU.  Uses agent/, dump/ and below.
runtime-glue_SRCS += $(wildcard runtime-glue/rpc/*.c)

# runtime-glue/agent/: the pre-copy agent of a container (started by `ckpt hook`)
# and its control socket (server and the client that `ckpt agent` and the CRIU
# front-end use).  Uses dump/ and the wings below.
runtime-glue_SRCS += $(wildcard runtime-glue/agent/*.c)

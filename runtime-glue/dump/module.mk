# runtime-glue/dump/: the engine that runs a pre-dump or dump, the final dump's
# state (core, files, the up-front check), verify, progress and restore.
# Uses track/, mem/ and proc/.
runtime-glue_SRCS += $(wildcard runtime-glue/dump/*.c)

# runtime-glue/track/: the dirty-tracker interface and the none, hash,
# soft-dirty and uffd-wp trackers, plus the uffd holder.  Uses mem/ and proc/.
runtime-glue_SRCS += $(wildcard runtime-glue/track/*.c)

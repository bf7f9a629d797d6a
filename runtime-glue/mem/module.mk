# runtime-glue/mem/: VMAs, page selection and copy, layer directories and their
# meta, the pagemap writer and loader, the parent-chain reader.  Uses proc/.
runtime-glue_SRCS += $(wildcard runtime-glue/mem/*.c)

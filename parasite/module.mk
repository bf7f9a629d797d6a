# parasite/: host-side injector (host/) and the freestanding blob run inside targets (blob/).
parasite_SRCS := $(wildcard parasite/host/*.c)
parasite_OBJS := $(parasite_SRCS:%.c=$(BUILD)/%.o)
$(BUILD)/parasite/libparasite.a: $(parasite_OBJS)

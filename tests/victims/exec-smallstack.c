// SPDX-License-Identifier: MIT
/*
 * Victim for the frame placement: the main thread runs on an 8 KiB stack
 * carved out of a larger anonymous mapping (as a Go goroutine's stack is a
 * small block of the heap, another goroutine's stack right below it), and
 * blocks there in read() on stdin.  The 32 KiB below that stack hold a
 * pattern.  An injection that wrote its safety frame below the stack pointer
 * would overwrite it: a byte on stdin ends the read, the pattern is checked,
 * and it prints "PASS" or "FAIL: ..." and exits.
 *
 *   map + 0       +---------------------+
 *                 | pattern (32 KiB)    |
 *   map + 32 KiB  +---------------------+  the coroutine stack's bottom
 *                 | stack (8 KiB)       |  rsp in read(): about 1 KiB above its bottom
 *                 +---------------------+
 *                 | (unused)            |
 *   map + 64 KiB  +---------------------+
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define MAP_LEN   (64 * 1024)
#define PATTERN   (32 * 1024)
#define STACK_LEN 8192
/* taken before the read: about 1 KiB of the stack is left below it */
#define PAD (STACK_LEN - 1024)

static ucontext_t main_ctx, co_ctx;
static char byte;
static long got;

static void co(void)
{
	volatile char pad[PAD];

	pad[0] = pad[PAD - 1] = 1;
	/* a raw syscall: the least stack below it */
	got = syscall(SYS_read, 0, &byte, 1);
	got += pad[0] - pad[PAD - 1];
}

int main(void)
{
	uint8_t *map =
		mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (map == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < PATTERN; i++)
		map[i] = (uint8_t)(i * 7 + 3);
	/* bind syscall() now: the lazy binder saves the FPU state on the stack (kilobytes) */
	syscall(SYS_getpid);
	getcontext(&co_ctx);
	co_ctx.uc_stack.ss_sp = map + PATTERN;
	co_ctx.uc_stack.ss_size = STACK_LEN;
	co_ctx.uc_link = &main_ctx;
	makecontext(&co_ctx, co, 0);
	printf("READY pid=%d stack=%p\n", getpid(), (void *)(map + PATTERN));
	fflush(stdout);
	swapcontext(&main_ctx, &co_ctx);
	for (size_t i = 0; i < PATTERN; i++)
		if (map[i] != (uint8_t)(i * 7 + 3)) {
			printf("FAIL: the memory below the stack changed at offset %zu (%zu bytes under the stack's bottom); read returned %ld\n",
			       i, PATTERN - i, got);
			return 1;
		}
	printf("PASS (read returned %ld)\n", got);
	return 0;
}

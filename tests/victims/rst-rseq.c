// SPDX-License-Identifier: MIT
/*
 * rst-rseq: rseq registrations (glibc registers one per thread) and a thread
 * that lives inside an rseq critical section.
 *   main     glibc's registration only
 *   worker   loops over a critical section of 2000 nops whose last
 *            instruction counts a commit; the abort handler counts an abort
 *            and starts again; leaves when asked
 * Prints "READY <start_ip> <post_commit_ip> <abort_ip>" (hex).  On SIGTERM
 * each thread checks that the kernel still has its area registered (a second
 * rseq() with the same arguments is EBUSY) and that the kernel keeps its
 * cpu_id up to date; the worker must have committed after the restore.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/rseq.h>
#include <time.h>

#include "rst-common.h"

extern char cs_start[], cs_post[], cs_abort[];
void rseq_loop(volatile uint64_t *rseq_cs, const void *desc, volatile uint64_t *commits,
	       volatile uint64_t *aborts, volatile int *stop);

/* rdi = &rseq.rseq_cs, rsi = the descriptor, rdx = commits, rcx = aborts, r8 = stop */
__asm__("	.text\n"
	"	.globl rseq_loop\n"
	"	.type rseq_loop, @function\n"
	"rseq_loop:\n"
	"1:	cmpl $0, (%r8)\n"
	"	jne 2f\n"
	"	movq %rsi, (%rdi)\n"
	"	.globl cs_start\n"
	"cs_start:\n"
	"	.rept 2000\n"
	"	nop\n"
	"	.endr\n"
	"	incq (%rdx)\n"
	"	.globl cs_post\n"
	"cs_post:\n"
	"	movq $0, (%rdi)\n"
	"	jmp 1b\n"
	"	.long 0x53053053\n"
	"	.globl cs_abort\n"
	"cs_abort:\n"
	"	incq (%rcx)\n"
	"	jmp 1b\n"
	"2:	movq $0, (%rdi)\n"
	"	ret\n");

static struct rseq_cs desc __attribute__((aligned(32)));
static volatile uint64_t commits, aborts;
static volatile int stop;
static char worker_why[200];

static struct rseq *my_rseq(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

/* "" when this thread's area is registered and its cpu_id follows the kernel's, else why not */
static void check_registered(const char *who, char *why, size_t len)
{
	struct rseq *r = my_rseq();
	unsigned int cpu = 0;

	why[0] = '\0';
	/* glibc registers the original 32-byte size; __rseq_size is the feature size (20) */
	if (syscall(SYS_rseq, r, __rseq_size < 32 ? 32 : __rseq_size, 0, RSEQ_SIG) == 0) {
		snprintf(why, len, "%s: its rseq area was not registered any more", who);
		return;
	}
	if (errno != EBUSY) {
		snprintf(why, len, "%s: rseq() again: %s (not EBUSY)", who, strerror(errno));
		return;
	}
	for (int i = 0; i < 100; i++) {
		if (syscall(SYS_getcpu, &cpu, NULL, NULL) == 0 && r->cpu_id == cpu)
			return;
		sched_yield();
	}
	snprintf(why, len, "%s: rseq cpu_id %u, the kernel says cpu %u", who, r->cpu_id, cpu);
}

static void *worker(void *arg)
{
	(void)arg;
	rseq_loop((volatile uint64_t *)&my_rseq()->rseq_cs, &desc, &commits, &aborts, &stop);
	check_registered("worker", worker_why, sizeof(worker_why));
	return NULL;
}

int main(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	char why[200];
	uint64_t c0;
	pthread_t th;
	sigset_t all, old;

	rst_setup();
	if (__rseq_size == 0)
		rst_fail("glibc did not register rseq (glibc.pthread.rseq=0?)");
	desc.version = 0;
	desc.flags = 0;
	desc.start_ip = (uintptr_t)cs_start;
	desc.post_commit_offset = (uintptr_t)cs_post - (uintptr_t)cs_start;
	desc.abort_ip = (uintptr_t)cs_abort;
	/* the worker blocks everything, so SIGTERM and SIGUSR1 come to main */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&th, NULL, worker, NULL))
		rst_fail("pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (!commits)
		nanosleep(&ts, NULL);
	rst_say("READY %lx %lx %lx", (unsigned long)(uintptr_t)cs_start,
		(unsigned long)(uintptr_t)cs_post, (unsigned long)(uintptr_t)cs_abort);
	while (!rst_term) {
		pause();
		if (rst_usr1 && !rst_term)
			rst_say("CHANGED %d", (int)rst_usr1);
	}
	check_registered("main", why, sizeof(why));
	if (why[0])
		rst_fail("%s", why);
	c0 = commits;
	for (int i = 0; i < 100 && commits == c0; i++)
		nanosleep(&ts, NULL);
	if (commits == c0)
		rst_fail("the worker does not commit any more (%llu commits, %llu aborts)",
			 (unsigned long long)commits, (unsigned long long)aborts);
	stop = 1;
	pthread_join(th, NULL);
	if (worker_why[0])
		rst_fail("%s", worker_why);
	rst_pass();
}

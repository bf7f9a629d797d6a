// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "runtime-glue/proc/freezer.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/dump/progress.h"

#define TTY_DELAY_US   1000000 /* no bar for dumps shorter than this */
#define TTY_PERIOD_US  100000
#define JSON_PERIOD_US 250000

struct glue_progress {
	const char *verb;
	bool json, tty, drawn;
	uint64_t start, last_tty, last_json;
	uint64_t total, done;
};

/* see progress.h */
struct glue_progress *glue_progress_new(const char *verb, bool json)
{
	struct glue_progress *p = xzalloc(sizeof(*p));

	p->verb = verb;
	p->json = json;
	p->tty = isatty(STDERR_FILENO);
	p->start = glue_now_us();
	return p;
}

static uint64_t elapsed_ms(const struct glue_progress *p)
{
	return (glue_now_us() - p->start) / 1000;
}

/* see progress.h */
void glue_progress_set_total(struct glue_progress *p, uint64_t total_bytes)
{
	p->total = total_bytes;
}

/* see progress.h */
void glue_progress_phase(struct glue_progress *p, const char *phase)
{
	if (!p->json)
		return;
	printf("{\"event\":\"phase\",\"phase\":\"%s\",\"elapsed_ms\":%" PRIu64 "}\n", phase,
	       elapsed_ms(p));
	fflush(stdout);
}

/* see progress.h */
void glue_progress_add(struct glue_progress *p, uint64_t bytes)
{
	uint64_t now = glue_now_us();

	p->done += bytes;
	if (p->json && now - p->last_json >= JSON_PERIOD_US) {
		p->last_json = now;
		printf("{\"event\":\"progress\",\"done_bytes\":%" PRIu64 ",\"total_bytes\":%" PRIu64
		       ",\"elapsed_ms\":%" PRIu64 "}\n",
		       p->done, p->total, (now - p->start) / 1000);
		fflush(stdout);
	}
	if (p->tty && now - p->start >= TTY_DELAY_US && now - p->last_tty >= TTY_PERIOD_US) {
		double secs = (double)(now - p->start) / 1e6;
		double pct = p->total ? 100.0 * (double)p->done / (double)p->total : 0;

		p->last_tty = now;
		p->drawn = true;
		fprintf(stderr, "\r%s: %" PRIu64 " / %" PRIu64 " MiB (%3.0f%%) %.0f MiB/s   ",
			p->verb, p->done >> 20, p->total >> 20, pct,
			(double)(p->done >> 20) / secs);
		fflush(stderr);
	}
}

/* see progress.h */
void glue_progress_free(struct glue_progress *p)
{
	if (!p)
		return;
	if (p->drawn)
		fprintf(stderr, "\r\033[K");
	free(p);
}

/* see progress.h */
void glue_progress_done(struct glue_progress *p, const char *tracker,
			const struct glue_dump_stats *st, uint64_t discover_us)
{
	if (p->json) {
		char hwm[64] = "0";
		FILE *f = fopen("/proc/self/status", "re");
		char line[256];

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "VmHWM: %63s", hwm) == 1)
				break;
		if (f)
			fclose(f);
		printf("{\"event\":\"done\",\"tracker\":\"%s\",\"freezing_us\":%" PRIu64
		       ",\"frozen_us\":%" PRIu64 ",\"memdump_us\":%" PRIu64
		       ",\"memwrite_us\":%" PRIu64 ",\"pages_scanned\":%" PRIu64
		       ",\"pages_written\":%" PRIu64 ",\"pages_skipped_parent\":%" PRIu64
		       ",\"shpages_written\":%" PRIu64 ",\"discover_us\":%" PRIu64
		       ",\"peak_rss_kb\":%s,\"elapsed_ms\":%" PRIu64 "}\n",
		       tracker, st->freezing_us, st->frozen_us, st->memdump_us, st->memwrite_us,
		       st->pages_scanned, st->pages_written, st->pages_skipped_parent,
		       st->shpages_written, discover_us, hwm, elapsed_ms(p));
		fflush(stdout);
	}
	glue_progress_free(p);
}

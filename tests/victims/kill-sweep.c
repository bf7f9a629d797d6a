// SPDX-License-Identifier: MIT
/*
 * kill-sweep: kill a command at every STEP microseconds of its run and check
 * that the target it works on survives untouched (tests/bats/kill-sweep.bats).
 *
 *   kill-sweep -p PID [-s SIG] [-f FROM_US] [-t TO_US] [-S STEP_US] [-c] -- CMD ARG...
 *
 * For each delay d = FROM, FROM+STEP, ... <= TO: fork, exec CMD ("{}" in an
 * argument is replaced by the point's index, for fresh image directories),
 * sleep d us after the fork, send SIG (default SIGKILL), wait.  The command
 * must have ended with SIG, with exit 128+SIG (caught and cleaned up), or
 * with 0 (it finished first).  Then, within 5 s: PID is alive and not a
 * zombie, no thread is traced or stopped, and its /proc/PID/maps, the names
 * of /proc/PID/fd and SigBlk are as before the sweep.  With -c, CMD then runs
 * to completion and must exit 0 (the next run works).  With -l, a point
 * whose only difference is an extra mapping or fd (same signal mask) is
 * counted as a leftover ("LEFTOVER", then the new state is the baseline)
 * instead of failing (kill-sweep.bats no longer uses it: ckpt's leftover
 * guardian removes them, docs/parasite.md).
 *
 * kill-sweep is a child subreaper: after each kill it also waits (5 s at
 * most) for ckpt's leftover guardian (process name ckpt-leftovers, or ckpt
 * just after the fork,
 * which may still be cleaning the target), so the check and the next run do
 * not race with it.
 *
 * Agent mode (-A, issue 12 item 1 for the agent): CMD starts a pre-copy
 * agent (`ckpt hook poststart`) and must exit 0; the agent, detached from CMD,
 * is reparented to us (the subreaper) and is found as our child named ckpt
 * with its stdout on an agent.log.  With -R REQ, `sh -c REQ` (a `ckpt agent
 * layer`) is started at t0, else t0 is CMD's exit; the agent gets SIG at t0 +
 * d and must end with SIG, or with exit 128+SIG (caught, undone, cleaned up).
 * With -g CGDIR, that cgroup must be thawed after each point (cgroup.freeze 0
 * and "frozen 0" in cgroup.events, or freezer.state THAWED for v1).  With -c,
 * a fresh agent then must answer `sh -c NEXT` (-N NEXT, exit 0) and exit 143
 * on SIGTERM.  -e N does the -c check only at every Nth point (default 1).
 *
 * Prints one line per point on stdout and a summary:
 *   "points=N killed=K caught=C finished=F elapsed_ms=T".
 * Exit 0 when every point passed, 1 at the first failing point (with why).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t target;
static const char *cgdir;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return strdup("");
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

static char *status_field(const char *tpath, const char *key)
{
	char path[PATH_MAX], *s, *p, *e;

	snprintf(path, sizeof(path), "%s/status", tpath);
	s = slurp(path);
	p = strstr(s, key);
	if (!p) {
		free(s);
		return strdup("");
	}
	p += strlen(key);
	e = strchr(p, '\n');
	if (e)
		*e = '\0';
	p = strdup(p + strspn(p, " \t"));
	free(s);
	return p;
}

/* maps, fd names and the signal mask of the target, as one string */
static char *snapshot(void)
{
	char path[PATH_MAX], link[PATH_MAX], *maps, *blk, *out;
	size_t len = 0, cap = 65536;
	struct dirent *de;
	DIR *d;

	out = malloc(cap);
	snprintf(path, sizeof(path), "/proc/%d/maps", target);
	maps = slurp(path);
	snprintf(path, sizeof(path), "/proc/%d", target);
	blk = status_field(path, "SigBlk:");
	len = (size_t)snprintf(out, cap, "SigBlk %s\n", blk);
	free(blk);
	snprintf(path, sizeof(path), "/proc/%d/fd", target);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char p2[PATH_MAX + 300];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p2, sizeof(p2), "%s/%s", path, de->d_name);
		n = readlink(p2, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		if (len + strlen(link) + 64 < cap)
			len += (size_t)snprintf(out + len, cap - len, "fd %s %s\n", de->d_name,
						link);
	}
	if (d)
		closedir(d);
	out = realloc(out, len + strlen(maps) + 1);
	strcpy(out + len, maps);
	free(maps);
	return out;
}

/* NULL when every thread runs untraced, else what is wrong */
static const char *task_state(void)
{
	static char why[PATH_MAX + 600];
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", target);
	d = opendir(path);
	if (!d)
		return "the target is gone";
	while ((de = readdir(d))) {
		char tp[PATH_MAX + 300], *st, *tr;

		if (de->d_name[0] == '.')
			continue;
		snprintf(tp, sizeof(tp), "%s/%s", path, de->d_name);
		st = status_field(tp, "State:");
		tr = status_field(tp, "TracerPid:");
		if (st[0] == 'Z' || st[0] == 'X' || st[0] == 't' || st[0] == 'T' ||
		    strcmp(tr, "0")) {
			snprintf(why, sizeof(why), "thread %s: state %s, tracer %s", de->d_name, st,
				 tr);
			free(st);
			free(tr);
			closedir(d);
			return why;
		}
		free(st);
		free(tr);
	}
	closedir(d);
	return NULL;
}

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static pid_t spawn(char **argv, int idx)
{
	pid_t pid = fork();

	if (pid == 0) {
		char **av = calloc(64, sizeof(*av));
		char num[32];
		int null = open("/dev/null", O_RDWR);

		snprintf(num, sizeof(num), "%d", idx);
		for (int i = 0; argv[i] && i < 63; i++) {
			char *b = strstr(argv[i], "{}");

			if (!b) {
				av[i] = argv[i];
				continue;
			}
			av[i] = malloc(strlen(argv[i]) + sizeof(num));
			sprintf(av[i], "%.*s%s%s", (int)(b - argv[i]), argv[i], num, b + 2);
		}
		dup2(null, 0);
		dup2(null, 1);
		if (!getenv("KILL_SWEEP_STDERR"))
			dup2(null, 2);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(av[0], av);
		_exit(127);
	}
	return pid;
}

/* Whether a child of ours named ckpt-leftovers (ckpt's guardian) still runs,
 * or one named ckpt (a fork of ckpt that did not name itself yet). */
static bool guardian_running(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char path[300], buf[512], *p;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    (strstr(buf, "(ckpt-leftovers)") || strstr(buf, "(ckpt-guardian)") ||
		     strstr(buf, "(ckpt)")) &&
		    atoi(p + 4) == getpid())
			found = true;
		fclose(f);
	}
	closedir(d);
	return found;
}

/*
 * Wait (5 s at most) for ckpt's leftover guardian, reparented to us, to end;
 * other orphans (a uffd holder lives long) are only reaped when they exit.
 */
static void reap_orphans(void)
{
	long end = now_us() + 5000000;

	do {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!guardian_running())
			return;
		usleep(500);
	} while (now_us() < end);
}

/* NULL when the cgroup of -g is thawed, else what is wrong */
static const char *cgroup_state(void)
{
	static char why[PATH_MAX + 64];
	char path[PATH_MAX], *v;
	bool bad;

	if (!cgdir)
		return NULL;
	snprintf(path, sizeof(path), "%s/cgroup.freeze", cgdir);
	if (access(path, F_OK) == 0) {
		v = slurp(path);
		bad = v[0] != '0';
		free(v);
		snprintf(path, sizeof(path), "%s/cgroup.events", cgdir);
		v = slurp(path);
		bad = bad || !strstr(v, "frozen 0");
	} else {
		snprintf(path, sizeof(path), "%s/freezer.state", cgdir);
		v = slurp(path);
		bad = strncmp(v, "THAWED", 6) != 0;
	}
	free(v);
	if (!bad)
		return NULL;
	snprintf(why, sizeof(why), "cgroup %s is left frozen", cgdir);
	return why;
}

/* Our child that is a ckpt agent (named ckpt, stdout on an agent.log), or 0. */
static pid_t find_agent(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (d && !found && (e = readdir(d))) {
		char path[300], buf[512], link[PATH_MAX], *p;
		ssize_t n;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    strstr(buf, "(ckpt)") && atoi(p + 4) == getpid()) {
			snprintf(path, sizeof(path), "/proc/%s/fd/1", e->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			link[n > 0 ? n : 0] = '\0';
			if (n > 9 && !strcmp(link + n - 9, "agent.log"))
				found = atoi(e->d_name);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/* Run CMD to completion (exit 0), return the agent it started, or 0. */
static pid_t start_agent(char **argv, int idx)
{
	pid_t pid = spawn(argv, idx), a;
	int st;

	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		printf("FAIL: the agent's start command ended with wait status 0x%x\n", st);
		return 0;
	}
	a = find_agent();
	if (!a)
		printf("FAIL: no agent found after the start command\n");
	return a;
}

static pid_t spawn_sh(const char *cmd, int idx)
{
	char *av[] = { "/bin/sh", "-c", (char *)cmd, NULL };

	return spawn(av, idx);
}

/* -c in agent mode: a fresh agent answers NEXT and stops on SIGTERM with 143. */
static bool agent_next(char **argv, const char *next, int idx)
{
	pid_t a = start_agent(argv, idx), pid;
	int st;

	if (!a)
		return false;
	if (next) {
		pid = spawn_sh(next, idx);
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("FAIL: the next agent's request ended with wait status 0x%x\n", st);
			kill(a, SIGKILL);
			waitpid(a, NULL, 0);
			return false;
		}
	}
	kill(a, SIGTERM);
	waitpid(a, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 128 + SIGTERM) {
		printf("FAIL: the next agent ended with wait status 0x%x on SIGTERM\n", st);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	long from = 0, to = 5000, step = 100, t0 = now_us();
	int sig = SIGKILL, opt, idx = 0, killed = 0, caught = 0, finished = 0;
	bool check_next = false, allow_leftovers = false, agent_mode = false;
	const char *req = NULL, *next = NULL;
	long every = 1;
	int leftovers = 0;
	char *before;

	while ((opt = getopt(argc, argv, "+p:s:f:t:S:clAR:N:g:e:")) != -1) {
		switch (opt) {
		case 'A':
			agent_mode = true;
			break;
		case 'R':
			req = optarg;
			break;
		case 'N':
			next = optarg;
			break;
		case 'g':
			cgdir = optarg;
			break;
		case 'e':
			every = atol(optarg) > 0 ? atol(optarg) : 1;
			break;
		case 'p':
			target = atoi(optarg);
			break;
		case 's':
			sig = atoi(optarg);
			break;
		case 'f':
			from = atol(optarg);
			break;
		case 't':
			to = atol(optarg);
			break;
		case 'S':
			step = atol(optarg);
			break;
		case 'c':
			check_next = true;
			break;
		case 'l':
			allow_leftovers = true;
			break;
		default:
			return 2;
		}
	}
	if (target <= 0 || optind >= argc || step <= 0) {
		fprintf(stderr,
			"usage: kill-sweep -p PID [-s SIG] [-f US] [-t US] [-S US] [-c] [-A [-R REQ] [-N NEXT] [-g CGDIR]] -- CMD...\n");
		return 2;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	before = snapshot();
	for (long d = from; d <= to; d += step, idx++) {
		struct timespec until;
		const char *bad = NULL, *how;
		char *after = NULL;
		pid_t pid;
		int st;
		long start;

		pid_t rq = 0;

		if (agent_mode) {
			pid = start_agent(argv + optind, idx);
			if (!pid)
				return 1;
			clock_gettime(CLOCK_MONOTONIC, &until);
			if (req)
				rq = spawn_sh(req, idx);
		} else {
			clock_gettime(CLOCK_MONOTONIC, &until);
			pid = spawn(argv + optind, idx);
		}
		until.tv_nsec += d * 1000;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
		kill(pid, sig);
		waitpid(pid, &st, 0);
		if (rq)
			waitpid(rq, NULL, 0); /* the agent's end closes its socket */
		reap_orphans();
		if (WIFSIGNALED(st) && WTERMSIG(st) == sig) {
			how = "killed";
			killed++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 128 + sig && sig != SIGKILL) {
			how = "caught";
			caught++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && !agent_mode) {
			how = "finished";
			finished++;
		} else {
			printf("delay_us=%ld FAIL: the command ended with wait status 0x%x\n", d,
			       st);
			return 1;
		}
		start = now_us();
		do {
			free(after);
			after = NULL;
			bad = task_state();
			if (!bad)
				bad = cgroup_state();
			if (!bad) {
				after = snapshot();
				if (strcmp(before, after))
					bad = "maps, fds or signal mask differ";
			}
			if (bad)
				usleep(2000);
		} while (bad && now_us() - start < 5000000);
		if (bad && allow_leftovers && after &&
		    !strncmp(before, after, strcspn(before, "\n"))) {
			/* same signal mask, a mapping or fd left: count it, new baseline */
			printf("delay_us=%ld %s LEFTOVER\n--- before\n%s--- after\n%s", d, how,
			       before, after);
			leftovers++;
			free(before);
			before = after;
			after = NULL;
			bad = NULL;
		}
		if (bad) {
			printf("delay_us=%ld %s FAIL: %s\n", d, how, bad);
			if (after)
				printf("--- before\n%s--- after\n%s", before, after);
			return 1;
		}
		free(after);
		printf("delay_us=%ld %s ok\n", d, how);
		/* -e: the next run is checked at every Nth point only */
		if (check_next && idx % every == 0 && agent_mode) {
			if (!agent_next(argv + optind, next, 100000 + idx)) {
				printf("delay_us=%ld FAIL: the next agent did not work\n", d);
				return 1;
			}
			reap_orphans();
		} else if (check_next && idx % every == 0) {
			pid = spawn(argv + optind, 100000 + idx);
			waitpid(pid, &st, 0);
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				printf("delay_us=%ld FAIL: the next run ended with wait status 0x%x\n",
				       d, st);
				return 1;
			}
		}
		fflush(stdout);
	}
	printf("points=%d killed=%d caught=%d finished=%d leftovers=%d elapsed_ms=%ld\n", idx,
	       killed, caught, finished, leftovers, (now_us() - t0) / 1000);
	return 0;
}

/* hx_isolate: one scenario in a child process with a deadline (the child
 * becomes a subreaper, and must not share the caller's state), and the
 * signal rules that leave nothing behind: SIGINT/SIGTERM in a scenario child
 * kills its host (whose agent dies with it, L7/issue 10), removes the
 * scenario dir and still writes a result; in the parent they are forwarded
 * to every running child. Used by `run`, `report`, `sweep` and `chaos`. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hx_isolate.h"
#include "hx_internal.h"

static void parent_on_signal(int sig)
{
	(void)sig;
	hx_intr_set();
}

void hx_iso_parent_signals(void)
{
	struct sigaction sa = { .sa_handler = parent_on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int hx_iso_start(hx_iso *j, hx_runner *run, const hx_scenario *sc, const hx_paths *paths, bool verbose)
{
	*j = (hx_iso){ .pid = 0, .pidfd = -1 };
	j->report = tmpfile();
	j->result = tmpfile();
	if (!j->report || !j->result) {
		int e = -errno;
		hx_iso_release(j);
		return e;
	}
	/* a host spawned by a sibling runner must not hold them */
	fcntl(fileno(j->report), F_SETFD, FD_CLOEXEC);
	fcntl(fileno(j->result), F_SETFD, FD_CLOEXEC);
	fflush(stdout);
	fflush(stderr);
	/* hx_run_once is one run whatever the scenario's `repeat` */
	json_int_t rep = run == hx_run_once ? 1 : json_integer_value(json_object_get(sc->doc, "repeat"));
	j->start = hx_now_ms();
	/* the scenario's own timeout per run, stretched under a tool, + 30 s */
	j->deadline = j->start + (double)json_integer_value(json_object_get(sc->doc, "timeout_ms")) *
					 (double)(rep > 0 ? rep : 1) * hx_time_scale() + 30000;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		hx_iso_release(j);
		return e;
	}
	if (pid == 0) {
		hx_intr_child_setup();
		/* a runner whose parent dies stops like one interrupted (it kills
		 * its host and removes its dir); one whose parent is gone already
		 * has nothing to undo */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(130);
		json_t *res = run(sc, paths, verbose, j->report);
		fflush(j->report);
		json_dumpf(res, j->result, JSON_COMPACT);
		fflush(j->result);
		const char *v = json_string_value(json_object_get(res, "verdict"));
		_exit(hx_run_interrupted() ? 130 : !strcmp(v, "pass") ? 0 : 1);
	}
	j->pid = pid;
	j->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (j->pidfd < 0) {
		int e = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		j->pid = 0;
		hx_iso_release(j);
		return e;
	}
	return 0;
}

void hx_iso_interrupt(hx_iso *j)
{
	if (j->pid > 0)
		kill(j->pid, SIGTERM);
}

json_t *hx_iso_finish(hx_iso *j, const char *name, const char *file)
{
	bool over = hx_now_ms() >= j->deadline;
	struct pollfd p = { .fd = j->pidfd, .events = POLLIN };
	if (over && poll(&p, 1, 0) == 0)
		kill(j->pid, SIGKILL); /* the scenario's own timeout failed to fire */
	int st = 0;
	while (waitpid(j->pid, &st, 0) < 0 && errno == EINTR)
		;
	j->pid = 0;
	rewind(j->result);
	json_error_t je;
	json_t *res = json_loadf(j->result, 0, &je);
	if (!res) {
		char m[256];
		snprintf(m, sizeof(m), "scenario runner %s (%s %d) before writing a result",
			 over ? "hung past its deadline and was killed" : "died", WIFSIGNALED(st) ? "signal" : "exit",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		res = hx_result_error(name, file, m);
	}
	return res;
}

void hx_iso_release(hx_iso *j)
{
	if (j->pidfd >= 0)
		close(j->pidfd);
	j->pidfd = -1;
	if (j->report)
		fclose(j->report);
	if (j->result)
		fclose(j->result);
	j->report = j->result = NULL;
}

json_t *hx_iso_run(hx_runner *run, const hx_scenario *sc, const hx_paths *paths)
{
	hx_iso j;
	int rc = hx_iso_start(&j, run, sc, paths, false);
	if (rc < 0) {
		char m[128];
		snprintf(m, sizeof(m), "cannot start the scenario runner: %s", strerror(-rc));
		return hx_result_error(sc->name, sc->file, m);
	}
	struct pollfd p = { .fd = j.pidfd, .events = POLLIN };
	bool sent = false;
	while (hx_now_ms() < j.deadline && poll(&p, 1, (int)(j.deadline - hx_now_ms()) + 1) <= 0)
		if (hx_run_interrupted() && !sent) {
			hx_iso_interrupt(&j);
			sent = true;
		}
	json_t *r = hx_iso_finish(&j, sc->name, sc->file);
	hx_iso_release(&j);
	return r;
}

/* ---- a batch: `par` scenarios at a time ------------------------------------ */

typedef struct job {
	hx_iso iso;
	bool running;
} job;

/* No item finished for o->tick_ms: tell o->tick which are running. */
static void tick(const hx_batch_opts *o, job *jobs, size_t next, size_t *map, double now)
{
	double *el = calloc(next + 1, sizeof(double));
	size_t k = 0;
	for (size_t i = 0; el && i < next; i++)
		if (jobs[i].running) {
			map[k] = i;
			el[k++] = now - jobs[i].iso.start;
		}
	if (el && k)
		o->tick(o->ud, map, el, k);
	free(el);
}

size_t hx_iso_batch(const hx_batch_item *items, size_t n, const hx_paths *paths, const hx_batch_opts *o)
{
	job *jobs = calloc(n + 1, sizeof(job));
	struct pollfd *p = calloc(n + 1, sizeof(*p));
	size_t *map = calloc(n + 1, sizeof(size_t));
	size_t next = 0, running = 0;
	bool forwarded = false;
	int par = o->par < 1 ? 1 : o->par;
	double quiet_since = hx_now_ms(); /* the last finish (or the start, or the last tick) */
	if (!jobs || !p || !map) {
		free(jobs);
		free(p);
		free(map);
		return 0;
	}
	hx_iso_parent_signals();
	for (;;) {
		bool stop = hx_run_interrupted();
		while (!stop && running < (size_t)par && next < n) {
			size_t i = next++;
			if (!items[i].sc) { /* it did not load: an error result, at once */
				json_t *res = hx_result_error(items[i].name, items[i].path, items[i].load_err);
				o->done(o->ud, i, res, NULL);
				json_decref(res);
				continue;
			}
			int rc = hx_iso_start(&jobs[i].iso, o->run, items[i].sc, paths, o->verbose);
			if (rc < 0) {
				char m[160];
				snprintf(m, sizeof(m), "cannot start the scenario runner: %s", strerror(-rc));
				json_t *res = hx_result_error(items[i].name, items[i].path, m);
				o->done(o->ud, i, res, NULL);
				json_decref(res);
				continue;
			}
			jobs[i].running = true;
			running++;
		}
		if (!running)
			break;
		if (stop && !forwarded) { /* SIGINT/SIGTERM: every running child stops its host */
			for (size_t i = 0; i < next; i++)
				if (jobs[i].running)
					hx_iso_interrupt(&jobs[i].iso);
			forwarded = true;
		}
		nfds_t np = 0;
		double now = hx_now_ms(), soonest = 1e300;
		for (size_t i = 0; i < next; i++)
			if (jobs[i].running) {
				p[np] = (struct pollfd){ .fd = jobs[i].iso.pidfd, .events = POLLIN };
				map[np++] = i;
				if (jobs[i].iso.deadline < soonest)
					soonest = jobs[i].iso.deadline;
			}
		if (o->tick && quiet_since + o->tick_ms < soonest)
			soonest = quiet_since + o->tick_ms;
		int wait_ms = soonest - now < 0 ? 0 : (int)(soonest - now) + 1;
		int pr = poll(p, np, wait_ms);
		if (pr < 0 && errno == EINTR)
			continue; /* a signal: forward it first */
		now = hx_now_ms();
		if (pr == 0 && o->tick && now >= quiet_since + o->tick_ms) {
			tick(o, jobs, next, map, now);
			quiet_since = now;
			continue;
		}
		for (nfds_t k = 0; k < np; k++) {
			job *j = &jobs[map[k]];
			if (!(p[k].revents & POLLIN) && now < j->iso.deadline)
				continue;
			json_t *res = hx_iso_finish(&j->iso, items[map[k]].name, items[map[k]].path);
			o->done(o->ud, map[k], res, &j->iso);
			quiet_since = now;
			json_decref(res);
			hx_iso_release(&j->iso);
			j->running = false;
			running--;
		}
	}
	free(p);
	free(map);
	free(jobs);
	return next;
}

/* hx_invariants: phase 4 of a run — the invariants every run checks from
 * outside the host once it has exited (HX_INVARIANTS): the agents reaped,
 * nothing outliving the host, a clean exit, no stray socket file, no fd
 * leaked, only protocol lines, a known vocabulary, monotonic time. Split from
 * hx_run.c (orchestration), which calls hx_check_world after finish_host. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hx_internal.h"

static void check_orphans(hx_ctx *x, json_t *invs)
{
	/* whatever is left (live descendants, exited orphans) is recorded and
	 * killed, so nothing outlives us */
	char buf[1024] = "";
	pid_t left[64];
	size_t n = hx_descendants(getpid(), left, 64);
	/* A member of the agent's group that got the supervisor's SIGTERM with
	 * the agent may still be dying when the agent has been reaped and the
	 * host has exited (flake hunt: L4-stdout-flood's flood child, once in
	 * 20 runs under a hog, "still alive" 0.4 s into the run). Dying is not
	 * outliving: what is left is re-read until none is, for at most 2 s (x20
	 * under a tool); a process nobody killed is still there after that and
	 * fails (NEG-orphan-grandchild). poll() is the timer: there is no event
	 * for "a grandchild exited". */
	double t0 = hx_now_ms(), limit = 2000 * hx_time_scale();
	while (n > 0 && hx_now_ms() - t0 < limit) {
		poll(NULL, 0, 5);
		n = hx_descendants(getpid(), left, 64);
	}
	double settle_ms = hx_now_ms() - t0;
	for (size_t i = 0; i < n && i < 64; i++) {
		char comm[64];
		hx_proc_comm(left[i], comm, sizeof(comm));
		size_t l = strlen(buf);
		snprintf(buf + l, sizeof(buf) - l, "pid %d (%s) still alive %.0f ms after the host exited; ", (int)left[i],
			 comm, settle_ms);
		kill(left[i], SIGKILL);
	}
	/* descendants that were stopped with the agent but, their parent gone
	 * first, were re-parented to us (we are a subreaper): dead, so not a
	 * leak — reaped here and only counted in the message */
	int st, reaped = 0;
	pid_t p;
	while ((p = waitpid(-1, &st, n ? 0 : WNOHANG)) > 0) {
		bool known = false;
		for (size_t i = 0; i < n && i < 64; i++)
			known = known || left[i] == p;
		reaped += !known && p != x->agent_pid_at_kill;
	}
	char ok_msg[200];
	snprintf(ok_msg, sizeof(ok_msg), "no process outlived the host (%d exited orphan(s) reaped%s)", reaped,
		 settle_ms >= 1 ? "; a dying one was waited for" : "");
	if (x->h.pid > 0)
		hx_add_inv(invs, x->log, HX_INV_no_orphan, !buf[0], buf[0] ? buf : ok_msg);
}

/* setup live_socket (S4): another instance's socket must come through the
 * run untouched — the same file, still accepting — and is then removed by
 * its owner, the harness, before the dir is checked for strays. */
static void check_live_socket(hx_ctx *x)
{
	if (x->live_fd < 0)
		return;
	struct stat st;
	bool same = stat(x->sock, &st) == 0 && st.st_dev == x->live_dev && st.st_ino == x->live_ino;
	bool accepts = same && hx_probe_connect(x->sock) == 0;
	char m[700];
	snprintf(m, sizeof(m), same ? (accepts ? "%s: the other instance's socket is untouched and still accepts"
					       : "%s: the other instance's socket file is there but refuses connections")
				    : "%s: the other instance's live socket was removed or replaced",
		 x->sock);
	hx_add_inv(json_object_get(x->res, "invariants"), x->log, HX_INV_live_socket_untouched, same && accepts, m);
	close(x->live_fd);
	x->live_fd = -1;
	if (same)
		unlink(x->sock);
}

void hx_check_world(hx_ctx *x)
{
	check_live_socket(x); /* first: its socket goes before the dir is checked */
	json_t *invs = json_object_get(x->res, "invariants");
	char m[4200];
	if (x->host_killed_sig) {
		bool ok = x->agent_pid_at_kill <= 1 ||
			  (x->agent_gone_ms >= 0 && x->agent_gone_ms <= 100 * hx_time_scale());
		if (x->agent_pid_at_kill <= 1)
			snprintf(m, sizeof(m), "no agent was running when the host was killed");
		else if (x->agent_gone_ms < 0)
			snprintf(m, sizeof(m), "agent pid %d still alive 2 s after the host was killed by SIG%s",
				 (int)x->agent_pid_at_kill, hx_sig_name(x->host_killed_sig));
		else
			snprintf(m, sizeof(m), "agent pid %d gone %.1f ms after the host was killed (bound %g ms)",
				 (int)x->agent_pid_at_kill, x->agent_gone_ms, 100 * hx_time_scale());
		hx_add_inv(invs, x->log, HX_INV_agent_dies_with_host, ok, m);
	}
	check_orphans(x, invs);
	if (x->h.pid <= 0)
		return;
	int ws = x->h.wstatus;
	bool ok;
	if (x->host_killed_sig) {
		ok = x->h.exited && WIFSIGNALED(ws) && WTERMSIG(ws) == x->host_killed_sig;
		snprintf(m, sizeof(m), ok ? "the host died by SIG%s, as the scenario killed it"
					  : "the host was killed by SIG%s but its status says otherwise",
			 hx_sig_name(x->host_killed_sig));
	} else {
		ok = x->h.exited && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
		if (!x->h.exited)
			snprintf(m, sizeof(m), "the host was not reaped");
		else if (WIFSIGNALED(ws))
			snprintf(m, sizeof(m), "the host died by signal %d (SIG%s)%s", WTERMSIG(ws), hx_sig_name(WTERMSIG(ws)),
				 WCOREDUMP(ws) ? ", core dumped" : "");
		else
			snprintf(m, sizeof(m), "the host exited with code %d", WEXITSTATUS(ws));
	}
	hx_add_inv(invs, x->log, HX_INV_host_exit_clean, ok, m);
	char sbuf[4096] = "";
	if (x->agents_dir[0])
		hx_remove_agents_dir(x->agents_dir); /* the harness's own layout (L1) */
	if (!x->host_killed_sig) { /* a SIGKILLed agent cannot remove its socket */
		hx_stray_files(x->dir, "", sbuf, sizeof(sbuf));
		snprintf(m, sizeof(m), sbuf[0] ? "left in the scenario dir: %s" : "scenario dir is clean", sbuf);
		hx_add_inv(invs, x->log, HX_INV_no_stray_socket_file, !sbuf[0], m);
	}
	json_int_t slack = json_integer_value(json_object_get(json_object_get(x->doc, "expect"), "fd_slack"));
	if (x->host_fds_pre >= 0 && (x->host_fds_post >= 0 || x->host_gone_at_fd_check)) {
		long sp = (long)json_integer_value(json_object_get(x->pre_snap, "fds"));
		long sq = (long)json_integer_value(json_object_get(x->final_snap, "fds"));
		snprintf(m, sizeof(m), "host open fds (/proc): %d before init, %d after stop (slack %lld%s%.1f ms after the "
			 "stop reply); its own snapshot says %ld before init, %ld just before stop", x->host_fds_pre,
			 x->host_fds_post, (long long)slack, x->fd_settle_ms >= 1 ? "; settled " : "; read ",
			 x->fd_settle_ms, sp, sq);
		bool fd_ok = x->host_fds_post <= x->host_fds_pre + slack && !x->host_gone_at_fd_check;
		if (x->host_gone_at_fd_check)
			snprintf(m, sizeof(m), "the host exited at its stop reply, before stdin's EOF: its fds after stop "
					       "cannot be measured (adapter contract: stay until EOF); its own snapshot says "
					       "%ld before init, %ld just before stop",
				 (long)json_integer_value(json_object_get(x->pre_snap, "fds")),
				 (long)json_integer_value(json_object_get(x->final_snap, "fds")));
		else if (!fd_ok) { /* name what is new, so that a leak can be traced */
			const char *fd;
			json_t *t;
			size_t l = strlen(m);
			l += (size_t)snprintf(m + l, sizeof(m) - l, "; new:");
			json_object_foreach(x->host_fd_post, fd, t) {
				json_t *was = json_object_get(x->host_fd_pre, fd);
				if (l < sizeof(m) && (!was || !json_equal(was, t)))
					l += (size_t)snprintf(m + l, sizeof(m) - l, " %s→%s", fd, json_string_value(t));
			}
		}
		hx_add_inv(invs, x->log, HX_INV_no_fd_leak_in_host, fd_ok, m);
	}
	bool ok3 = json_array_size(x->h.junk) == 0;
	char *first = ok3 ? NULL : hx_text_of(json_array_get(x->h.junk, 0));
	snprintf(m, sizeof(m), ok3 ? "every stdout line was an event or a reply"
				   : "%zu stdout line(s) were not protocol JSON, first: %.200s",
		 json_array_size(x->h.junk), first ? first : "");
	free(first);
	hx_add_inv(invs, x->log, HX_INV_protocol_lines, ok3, m);
	bool ok4 = json_array_size(x->h.bad_events) == 0;
	snprintf(m, sizeof(m), ok4 ? "every event is in the vocabulary with its declared fields and types"
				   : "%zu event(s) break the vocabulary, first: %.300s",
		 json_array_size(x->h.bad_events), ok4 ? "" : json_string_value(json_array_get(x->h.bad_events, 0)));
	hx_add_inv(invs, x->log, HX_INV_events_in_vocabulary, ok4, m);
	bool ok5 = json_array_size(x->h.bad_replies) == 0;
	snprintf(m, sizeof(m), ok5 ? "every reply has a known kind with its declared fields and types"
				   : "%zu reply line(s) break the contract, first: %.300s",
		 json_array_size(x->h.bad_replies), ok5 ? "" : json_string_value(json_array_get(x->h.bad_replies, 0)));
	hx_add_inv(invs, x->log, HX_INV_replies_in_contract, ok5, m);
	double last = -1;
	bool mono = true; /* O3: timestamps are monotonic */
	size_t i;
	json_t *ev;
	json_array_foreach(x->h.events, i, ev) {
		double t = json_number_value(json_object_get(ev, "t_ms"));
		if (!json_is_number(json_object_get(ev, "t_ms")) || t < last)
			mono = false;
		last = t;
	}
	hx_add_inv(invs, x->log, HX_INV_event_time_monotonic, mono,
		   mono ? "every event has a non-decreasing numeric t_ms" : "an event lacks t_ms or goes back in time");
}

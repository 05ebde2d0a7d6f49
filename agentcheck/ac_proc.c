/* ac_proc: the agent as a supervisor starts it (L3) and everything the checker
 * watches from outside — stdout lines and the marker (L4/A1), a stderr tail,
 * the exit through a pidfd, leftover processes (L7) — all event-driven. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ac_internal.h"

extern char **environ;

/* ---- clock ----------------------------------------------------------------- */

static int64_t mono_now_us(void *ud)
{
	(void)ud;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const ac_clock ac_clock_monotonic = { mono_now_us, NULL };

int ac_ms_left(const ac_clock *c, int64_t deadline_us)
{
	int64_t left = deadline_us - ac_now_us(c);
	if (left <= 0)
		return 0;
	int64_t ms = (left + 999) / 1000;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* ---- environment (L3) ---------------------------------------------------------- */

typedef struct {
	char **v;
	size_t n, cap;
} envlist;

static bool env_key_is(const char *kv, const char *key, size_t klen)
{
	return strncmp(kv, key, klen) == 0 && kv[klen] == '=';
}

/* Put "K=V" (copied), replacing an entry with the same key. */
static int env_put(envlist *e, const char *kv)
{
	const char *eq = strchr(kv, '=');
	return_if_fail(eq && eq != kv, -EINVAL);
	size_t klen = (size_t)(eq - kv);
	char *copy = strdup(kv);
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < e->n; i++)
		if (env_key_is(e->v[i], kv, klen)) {
			free(e->v[i]);
			e->v[i] = copy;
			return 0;
		}
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		char **v = realloc(e->v, cap * sizeof(*v));
		if (!v) {
			free(copy);
			return -ENOMEM;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = copy;
	e->v[e->n] = NULL;
	return 0;
}

static void env_free(envlist *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	*e = (envlist){ 0 };
}

/* Ours, without what a supervisor sets itself or what would leak a fault
 * preload of ours into the agent; then L3's three variables; then extras. */
static int build_env(const ac_spawn_opts *o, envlist *e)
{
	static const char *const drop[] = { "NEIRA_SOCKET_PATH", "NEIRA_AGENT_MODE", "NEIRA_LOG_LEVEL",
					    "LD_PRELOAD", "FIU_ENABLE", "FIU_CTRL_FIFO", "NEIRA_FAULTS", NULL };
	int rc = 0;
	for (char **p = environ; *p && rc == 0; p++) {
		bool skip = !strchr(*p, '=');
		for (size_t i = 0; drop[i] && !skip; i++)
			skip = env_key_is(*p, drop[i], strlen(drop[i]));
		if (o->set_tmpdir && env_key_is(*p, "TMPDIR", 6))
			skip = true;
		if (!skip)
			rc = env_put(e, *p);
	}
	char buf[PATH_MAX + 32];
	if (rc == 0)
		rc = env_put(e, "NEIRA_AGENT_MODE=production");
	if (rc == 0)
		rc = env_put(e, "NEIRA_LOG_LEVEL=info");
	if (rc == 0 && o->socket_path) {
		snprintf(buf, sizeof(buf), "NEIRA_SOCKET_PATH=%s", o->socket_path);
		rc = env_put(e, buf);
	}
	if (rc == 0 && o->set_tmpdir && o->tmpdir) {
		snprintf(buf, sizeof(buf), "TMPDIR=%s", o->tmpdir);
		rc = env_put(e, buf);
	}
	for (size_t i = 0; rc == 0 && o->extra_env && o->extra_env[i]; i++)
		rc = env_put(e, o->extra_env[i]);
	if (rc == 0 && e->n == 0)
		rc = env_put(e, "NEIRA_AGENT_MODE=production");
	return rc;
}

/* ---- exit notification ----------------------------------------------------------
 * A pidfd per agent; where pidfd_open is missing (valgrind does not know it:
 * ENOSYS) a SIGCHLD self-pipe instead, shared by every agent, with a
 * waitpid(pid, WNOHANG) at each pump so that no exit is missed. */

static int chld_pipe[2] = { -1, -1 };

static void on_sigchld(int sig)
{
	(void)sig;
	int e = errno;
	(void)!write(chld_pipe[1], "c", 1); /* non-blocking: a full pipe already says "look" */
	errno = e;
}

static int chld_pipe_fd(void)
{
	if (chld_pipe[0] >= 0)
		return chld_pipe[0];
	if (pipe2(chld_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART | SA_NOCLDSTOP };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) < 0)
		return -errno;
	return chld_pipe[0];
}

static void drain_chld_pipe(void)
{
	char buf[64];
	while (chld_pipe[0] >= 0 && read(chld_pipe[0], buf, sizeof(buf)) > 0)
		;
}

/* ---- interruption: SIGINT/SIGTERM ------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	if (interrupted) { /* the second one: now */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	int e = errno;
	interrupted = 1;
	static const char msg[] = "agent-check: interrupted: ending the running check, then cleaning up "
				  "(again to stop at once)\n";
	(void)!write(2, msg, sizeof(msg) - 1);
	errno = e;
}

void ac_catch_interrupts(void)
{
	struct sigaction sa = { .sa_handler = on_interrupt, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool ac_interrupted(void)
{
	return interrupted;
}

/* ---- spawn ------------------------------------------------------------------------ */

enum { STAGE_PDEATHSIG = 1, STAGE_DUP, STAGE_UNSHARE, STAGE_MOUNT, STAGE_EXEC };

static const char *stage_name(int stage)
{
	switch (stage) {
	case STAGE_PDEATHSIG: return "prctl PR_SET_PDEATHSIG";
	case STAGE_DUP: return "dup2 stdio";
	case STAGE_UNSHARE: return "unshare mount namespace";
	case STAGE_MOUNT: return "bind-mount private /tmp";
	default: return "exec";
	}
}

/* In the child, between fork and exec: syscalls only (the checker has grpc
 * threads; nothing that takes a lock). */
static void child_fail(int fd, int stage, int e)
{
	int msg[2] = { stage, e };
	(void)!write(fd, msg, sizeof(msg));
	_exit(127);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

const char *ac__agent_tmp_top(const char *agent, char *buf, size_t len)
{
	buf[0] = '\0';
	if (agent && !strncmp(agent, "/tmp/", 5) && agent[5] && agent[5] != '/') {
		size_t n = strcspn(agent + 5, "/");
		if (agent[5 + n] == '/' && n < len)
			snprintf(buf, len, "%.*s", (int)n, agent + 5);
	}
	return buf[0] ? buf : NULL;
}

/* S1 (/tmp fallback): the agent sees `dir` as its /tmp, so the check never
 * touches the machine's real /tmp/neira_agent.sock. Root: a mount namespace;
 * otherwise a user namespace mapping our uid. */
static int private_tmp(const char *dir, const char *agent, uid_t uid, gid_t gid, int *stage)
{
	/* An agent that itself lives under /tmp (a checkout in /tmp/x) would
	 * vanish under the private /tmp: its top directory is bound back in,
	 * through a handle on the real /tmp taken before the mount. */
	char top[256];
	ac__agent_tmp_top(agent, top, sizeof(top));
	int oldtmp = -1;
	*stage = STAGE_UNSHARE;
	if (unshare(CLONE_NEWNS) < 0) {
		if (errno != EPERM || unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return -1;
		char map[64];
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
		if (write_file("/proc/self/setgroups", "deny") < 0 || write_file("/proc/self/uid_map", map) < 0)
			return -1;
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
		if (write_file("/proc/self/gid_map", map) < 0)
			return -1;
	}
	*stage = STAGE_MOUNT;
	/* "none" where the kernel ignores source and type: memcheck reads a
	 * NULL type as an unaddressable string */
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	/* the handle on the real /tmp is taken in the new namespace (a mount of
	 * another namespace cannot be bound: EINVAL), before /tmp is covered */
	if (top[0])
		oldtmp = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (mount(dir, "/tmp", "none", MS_BIND, NULL) < 0)
		return -1;
	if (top[0] && oldtmp >= 0) {
		char from[320], to[300];
		snprintf(from, sizeof(from), "/proc/self/fd/%d/%s", oldtmp, top);
		snprintf(to, sizeof(to), "/tmp/%s", top);
		if ((mkdir(to, 0700) < 0 && errno != EEXIST) || mount(from, to, "none", MS_BIND | MS_REC, NULL) < 0)
			return -1;
	}
	return 0;
}


static void run_child(const ac_spawn_opts *o, char **envp, pid_t parent, int out_w, int err_w, int exec_w,
		      int devnull, uid_t uid, gid_t gid)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(exec_w, STAGE_PDEATHSIG, errno);
	if (getppid() != parent) /* the checker died before the prctl */
		_exit(127);
	setpgid(0, 0); /* a group of its own: leftovers are found by group */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	if (dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		child_fail(exec_w, STAGE_DUP, errno);
	int stage = 0;
	if (o->private_tmp && private_tmp(o->private_tmp, o->argv[0], uid, gid, &stage) < 0)
		child_fail(exec_w, stage, errno);
	execvpe(o->argv[0], o->argv, envp);
	child_fail(exec_w, STAGE_EXEC, errno);
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

int ac_agent_spawn(ac_agent *a, const ac_spawn_opts *o, const ac_clock *clk, char *err, size_t errlen)
{
	return_if_fail(a && o && o->argv && o->argv[0] && clk, -EINVAL);
	*a = (ac_agent)AC_AGENT_INIT;
	a->clk = clk;
	envlist env = { 0 };
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, exp[2] = { -1, -1 }, devnull = -1;
	int rc = build_env(o, &env);
	if (rc < 0) {
		snprintf(err, errlen, "build environment for %s: %s", o->argv[0], strerror(-rc));
		goto fail;
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(exp, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe2 for %s: %s", o->argv[0], strerror(errno));
		goto fail;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0) {
		rc = -errno;
		snprintf(err, errlen, "open /dev/null: %s", strerror(errno));
		goto fail;
	}
	pid_t parent = getpid();
	uid_t uid = getuid();
	gid_t gid = getgid();
	a->t_spawn_us = ac_now_us(clk);
	pid_t pid = fork();
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "fork for %s: %s", o->argv[0], strerror(errno));
		goto fail;
	}
	if (pid == 0)
		run_child(o, env.v, parent, outp[1], errp[1], exp[1], devnull, uid, gid);
	a->pid = pid;
	setpgid(pid, pid); /* also here, so that the group exists before either side goes on */
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	close_fd(&exp[1]);
	close_fd(&devnull);
	int msg[2];
	ssize_t n;
	do
		n = read(exp[0], msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	close_fd(&exp[0]);
	if (n == (ssize_t)sizeof(msg)) {
		rc = -msg[1];
		snprintf(err, errlen, "%s %s: %s", stage_name(msg[0]), o->argv[0], strerror(msg[1]));
		waitpid(pid, NULL, 0);
		a->pid = 0;
		goto fail;
	}
	/* before any exit can happen unnoticed: the self-pipe is set up at the
	 * first spawn (if needed) and a pump always waitpid()s once */
	a->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (a->pidfd < 0 && errno == ENOSYS) {
		a->pidfd = chld_pipe_fd();
		a->pidfd_shared = true;
		if (a->pidfd < 0)
			errno = -a->pidfd;
	}
	if (a->pidfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "pidfd_open %d (%s): %s", (int)pid, o->argv[0], strerror(errno));
		goto fail;
	}
	a->out_fd = outp[0];
	a->err_fd = errp[0];
	fcntl(a->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(a->err_fd, F_SETFL, O_NONBLOCK);
	env_free(&env);
	return 0;
fail:
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&exp[0]);
	close_fd(&exp[1]);
	close_fd(&devnull);
	env_free(&env);
	ac_agent_destroy(a);
	return rc < 0 ? rc : -EIO;
}

/* ---- output ------------------------------------------------------------------------ */

static void escape(const char *s, size_t n, char *out, size_t outlen)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r')
			k += (size_t)snprintf(out + k, outlen - k, "\\r");
		else if (c == '\n')
			k += (size_t)snprintf(out + k, outlen - k, "\\n");
		else if (c < 0x20 || c == 0x7f)
			k += (size_t)snprintf(out + k, outlen - k, "\\x%02x", c);
		else
			out[k++] = (char)c;
	}
	out[k < outlen ? k : outlen - 1] = '\0';
}

static void end_line(ac_agent *a, int64_t t)
{
	const char *s = a->partial;
	size_t n = a->partial_len;
	a->total_lines++;
	bool cr = n > 0 && s[n - 1] == '\r';
	size_t core = cr ? n - 1 : n;
	/* L4: a line equal to AGENT_READY (modulo \r) is the marker */
	if (!a->partial_trunc && core == strlen(AC_MARKER) && memcmp(s, AC_MARKER, core) == 0) {
		if (a->marker_count++ == 0) {
			a->t_marker_us = t - a->t_spawn_us;
			a->marker_exact = !cr; /* A1: the line is exact */
			char raw[AC_LINE_MAX + 2];
			memcpy(raw, s, n);
			raw[n] = '\n';
			escape(raw, n + 1, a->marker_raw, sizeof(a->marker_raw));
		}
	}
	if (a->n_lines < AC_MAX_LINES) {
		ac_line *l = &a->lines[a->n_lines++];
		l->t_us = t - a->t_spawn_us;
		escape(s, n, l->text, sizeof(l->text));
		l->truncated = a->partial_trunc;
	}
	a->partial_len = 0;
	a->partial_trunc = false;
}

static void take_stdout(ac_agent *a, const char *buf, size_t n, int64_t t)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			end_line(a, t);
			continue;
		}
		if (a->partial_len < sizeof(a->partial) - 1)
			a->partial[a->partial_len++] = buf[i];
		else
			a->partial_trunc = true;
	}
}

static void take_stderr(ac_agent *a, const char *buf, size_t n)
{
	a->err_total += n;
	if (n >= sizeof(a->err_tail)) {
		buf += n - (sizeof(a->err_tail) - 1);
		n = sizeof(a->err_tail) - 1;
	}
	if (a->err_len + n >= sizeof(a->err_tail)) {
		size_t drop = a->err_len + n - (sizeof(a->err_tail) - 1);
		memmove(a->err_tail, a->err_tail + drop, a->err_len - drop);
		a->err_len -= drop;
	}
	memcpy(a->err_tail + a->err_len, buf, n);
	a->err_len += n;
	a->err_tail[a->err_len] = '\0';
}

/* Read what a pipe has; close it at EOF. */
static void drain(ac_agent *a, int *fd, bool is_out)
{
	char buf[8192];
	for (;;) {
		ssize_t n = read(*fd, buf, sizeof(buf));
		if (n > 0) {
			int64_t t = ac_now_us(a->clk);
			if (is_out)
				take_stdout(a, buf, (size_t)n, t);
			else
				take_stderr(a, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		/* EOF or a read error: this stream is over */
		if (is_out && a->partial_len > 0)
			end_line(a, ac_now_us(a->clk));
		close_fd(fd);
		return;
	}
}

static void reap(ac_agent *a)
{
	int st;
	pid_t r;
	do
		r = waitpid(a->pid, &st, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == a->pid) {
		a->exited = true;
		a->wstatus = st;
		a->t_exit_us = ac_now_us(a->clk) - a->t_spawn_us;
		if (a->pidfd_shared)
			a->pidfd = -1;
		else
			close_fd(&a->pidfd);
	}
}

int ac_agent_pump(ac_agent *a, int timeout_ms)
{
	return_if_fail(a, -EINVAL);
	struct pollfd p[3];
	int n = 0, i_out = -1, i_err = -1, i_pid = -1;
	if (a->pidfd_shared && !a->exited) {
		reap(a); /* the shared self-pipe's wake-up may have gone to another agent */
		if (a->exited)
			return 1;
	}
	if (a->out_fd >= 0) {
		i_out = n;
		p[n++] = (struct pollfd){ .fd = a->out_fd, .events = POLLIN };
	}
	if (a->err_fd >= 0) {
		i_err = n;
		p[n++] = (struct pollfd){ .fd = a->err_fd, .events = POLLIN };
	}
	if (a->pidfd >= 0 && !a->exited) {
		i_pid = n;
		p[n++] = (struct pollfd){ .fd = a->pidfd, .events = POLLIN };
	}
	if (n == 0)
		return 0; /* nothing left to wait for */
	int r = poll(p, (nfds_t)n, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return 0;
	if (i_out >= 0 && p[i_out].revents)
		drain(a, &a->out_fd, true);
	if (i_err >= 0 && p[i_err].revents)
		drain(a, &a->err_fd, false);
	if (i_pid >= 0 && p[i_pid].revents) {
		if (a->pidfd_shared)
			drain_chld_pipe();
		reap(a);
		if (a->exited) { /* take whatever it wrote last */
			if (a->out_fd >= 0)
				drain(a, &a->out_fd, true);
			if (a->err_fd >= 0)
				drain(a, &a->err_fd, false);
		}
	}
	return 1;
}

int ac_agent_signal(ac_agent *a, int sig)
{
	return_if_fail(a && a->pid > 0, -EINVAL);
	if (a->exited)
		return -ESRCH;
	return kill(a->pid, sig) == 0 ? 0 : -errno;
}

int ac_agent_wait_exit(ac_agent *a, int64_t deadline_us)
{
	return_if_fail(a && a->pid > 0, -EINVAL);
	while (!a->exited) {
		int left = ac_ms_left(a->clk, deadline_us);
		if (left == 0)
			return 0;
		int rc = ac_agent_pump(a, left);
		if (rc < 0)
			return rc;
	}
	return 1;
}

/* pgrp and ppid of a process from /proc/PID/stat; -1 if gone. The comm field
 * may hold spaces and parentheses, so parse from the last ')'. */
static int proc_stat(pid_t pid, pid_t *ppid, pid_t *pgrp, char *state)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	int pp, pg;
	if (!rp || sscanf(rp + 1, " %c %d %d", state, &pp, &pg) != 3)
		return -1;
	*ppid = pp;
	*pgrp = pg;
	return 0;
}

/* Processes in the agent's group or reparented to us (we are a subreaper). */
static int find_leftovers(pid_t pgid, pid_t *pids, int max)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	pid_t self = getpid();
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		char *end;
		long v = strtol(e->d_name, &end, 10);
		if (*end || v <= 0)
			continue;
		pid_t ppid, pgrp;
		char st;
		if (proc_stat((pid_t)v, &ppid, &pgrp, &st) < 0)
			continue;
		if ((pid_t)v != self && (pgrp == pgid || ppid == self))
			pids[n++] = (pid_t)v;
	}
	closedir(d);
	return n;
}

int ac_agent_reap_leftovers(ac_agent *a, pid_t *pids, int max)
{
	return_if_fail(a && a->pid > 0, -EINVAL);
	pid_t found[64];
	int total = 0;
	/* zombies of children that died on their own are no leftovers: reap them */
	while (waitpid(-a->pid, NULL, WNOHANG) > 0)
		;
	for (int round = 0; round < 8; round++) {
		int n = find_leftovers(a->pid, found, 64);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			bool seen = false;
			for (int k = 0; k < total && k < max; k++)
				seen |= pids[k] == found[i];
			if (!seen && total < max)
				pids[total++] = found[i];
			kill(found[i], SIGKILL);
		}
		kill(-a->pid, SIGKILL);
		/* each leftover is our child now or once its parent (killed too)
		 * is gone; a blocking wait on a SIGKILLed child ends promptly */
		for (int i = 0; i < n; i++) {
			pid_t pp, pg;
			char st;
			if (proc_stat(found[i], &pp, &pg, &st) == 0 && pp == getpid())
				waitpid(found[i], NULL, 0);
		}
	}
	return total;
}

void ac_agent_destroy(ac_agent *a)
{
	if (!a)
		return;
	if (a->pid > 0) {
		if (!a->exited) {
			kill(-a->pid, SIGKILL);
			kill(a->pid, SIGKILL);
			int st;
			while (waitpid(a->pid, &st, 0) < 0 && errno == EINTR)
				;
			a->exited = true;
			a->wstatus = st;
		}
		pid_t p[16];
		ac_agent_reap_leftovers(a, p, 16);
	}
	if (a->pidfd_shared)
		a->pidfd = -1;
	else
		close_fd(&a->pidfd);
	close_fd(&a->out_fd);
	close_fd(&a->err_fd);
	a->pid = 0;
}

void ac_agent_exit_text(const ac_agent *a, char *buf, size_t len)
{
	if (!a->exited)
		snprintf(buf, len, "running");
	else if (WIFEXITED(a->wstatus))
		snprintf(buf, len, "exit %d", WEXITSTATUS(a->wstatus));
	else if (WIFSIGNALED(a->wstatus))
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(a->wstatus), strsignal(WTERMSIG(a->wstatus)));
	else
		snprintf(buf, len, "status 0x%x", a->wstatus);
}

/* ---- probes --------------------------------------------------------------------------- */

int ac_probe_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}


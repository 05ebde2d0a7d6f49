/* hx_drive: the drive-protocol client — spawns a host (neira-host or any
 * supervisor speaking the protocol), writes commands, reads its events and
 * replies as JSON lines, with deadlines on the harness's monotonic clock. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hx_internal.h"
#include "nv.h"




int hx_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return 0;
}


static void take_line(hx_host *h, char *line)
{
	double rx = hx_now_ms() - h->t0;
	json_error_t je;
	json_t *j = json_loads(line, 0, &je);
	if (h->verbose && h->log)
		fprintf(h->log, "    < %s\n", line);
	if (!json_is_object(j) || (!json_object_get(j, "event") && !json_object_get(j, "reply"))) {
		json_decref(j);
		json_array_append_new(h->junk, json_string(line));
		return;
	}
	char why[512];
	if (json_object_get(j, "event") && nv_event_check(j, why, sizeof(why)) < 0 &&
	    json_array_size(h->bad_events) < 100) /* the contract's event vocabulary */
		json_array_append_new(h->bad_events, json_string(why));
	if (json_object_get(j, "reply") && nv_reply_check(j, why, sizeof(why)) < 0 &&
	    json_array_size(h->bad_replies) < 100) /* the contract's replies */
		json_array_append_new(h->bad_replies, json_string(why));
	json_object_set_new(j, "rx_ms", json_real(rx));
	json_array_append(json_object_get(j, "event") ? h->events : h->replies, j);
	json_array_append_new(h->timeline, j);
	if (h->on_event && json_object_get(j, "event"))
		h->on_event(h->on_event_ud, j); /* e.g. faults with `when: {after_event}` */
}

static void drain(hx_host *h, int fd, char **buf, size_t *len, bool *eof, bool is_err)
{
	char tmp[65536];
	/* bounded per pass, so a flooding host cannot starve our deadlines */
	for (int pass = 0; pass < 16; pass++) {
		ssize_t r = read(fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break; /* EAGAIN: split what we have */
		if (r == 0) {
			*eof = true;
			break;
		}
		char *nb = realloc(*buf, *len + (size_t)r + 1);
		if (!nb)
			break;
		*buf = nb;
		memcpy(*buf + *len, tmp, (size_t)r);
		*len += (size_t)r;
	}
	/* split complete lines; at EOF a trailing partial line counts too */
	size_t start = 0;
	for (size_t i = 0; i < *len; i++) {
		if ((*buf)[i] != '\n')
			continue;
		(*buf)[i] = '\0';
		if (is_err)
			json_array_append_new(h->stderr_lines, json_string((*buf) + start));
		else
			take_line(h, (*buf) + start);
		start = i + 1;
	}
	if (start) /* never memmove(NULL, …): *buf is NULL before the first byte */
		memmove(*buf, *buf + start, *len - start);
	*len -= start;
	if (*eof && *len) {
		(*buf)[*len] = '\0';
		if (is_err)
			json_array_append_new(h->stderr_lines, json_string(*buf));
		else
			take_line(h, *buf);
		*len = 0;
	}
}

void hx_host_reap(hx_host *h)
{
	if (h->exited)
		return;
	if (waitpid(h->pid, &h->wstatus, WNOHANG) == h->pid)
		h->exited = true;
}

/* Poll the host's pipes and pidfd until `done(h, arg)` or the deadline
 * (harness clock, ms since spawn). Returns 0 when done, -ETIMEDOUT, or
 * -EPIPE if the host is gone and `done` can no longer become true. */
int hx_host_pump(hx_host *h, double deadline, bool (*done)(hx_host *, const void *), const void *arg)
{
	for (;;) {
		if (done && done(h, arg))
			return 0;
		if (h->out_eof && h->exited)
			return done ? -EPIPE : 0;
		double now = hx_now_ms() - h->t0;
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd p[3];
		int n = 0;
		if (!h->out_eof)
			p[n++] = (struct pollfd){ .fd = h->out_fd, .events = POLLIN };
		if (!h->err_eof)
			p[n++] = (struct pollfd){ .fd = h->err_fd, .events = POLLIN };
		if (!h->exited)
			p[n++] = (struct pollfd){ .fd = h->pidfd, .events = POLLIN };
		int ms = (int)(deadline - now) + 1;
		int r = poll(p, (nfds_t)n, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (!h->out_eof)
			drain(h, h->out_fd, &h->obuf, &h->olen, &h->out_eof, false);
		if (!h->err_eof)
			drain(h, h->err_fd, &h->ebuf, &h->elen, &h->err_eof, true);
		hx_host_reap(h);
	}
}

bool hx_reply_arrived(hx_host *h, const void *arg)
{
	const hx_want *w = arg;
	return hx_host_reply(h, w->id, w->kind) != NULL;
}

json_t *hx_host_reply(hx_host *h, int id, const char *kind)
{
	size_t i;
	json_t *r;
	json_array_foreach(h->replies, i, r)
		if (json_integer_value(json_object_get(r, "id")) == id &&
		    (!kind || !strcmp(json_string_value(json_object_get(r, "reply")) ?: "", kind)))
			return r;
	return NULL;
}


int hx_host_send(void *ud, json_t *cmd)
{
	hx_host *h = ud;
	int id = ++h->next_id;
	json_object_set_new(cmd, "id", json_integer(id));
	char *s = json_dumps(cmd, JSON_COMPACT);
	json_decref(cmd);
	if (!s)
		return -ENOMEM;
	if (h->verbose && h->log)
		fprintf(h->log, "    > %s\n", s);
	size_t len = strlen(s);
	s[len] = '\n';
	size_t off = 0;
	while (off < len + 1) {
		ssize_t w = write(h->in_fd, s + off, len + 1 - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = -errno;
			free(s);
			return e;
		}
		off += (size_t)w;
	}
	free(s);
	return id;
}

/* Send one command (ownership of cmd taken), wait for its reply. Returns
 * the reply (borrowed from h->replies) or NULL; *rc says why. */
json_t *hx_host_command(hx_host *h, json_t *cmd, double deadline, int *rc)
{
	int id = hx_host_send(h, cmd);
	if (id < 0) {
		*rc = id;
		return NULL;
	}
	hx_want w = { id, NULL };
	*rc = hx_host_pump(h, deadline, hx_reply_arrived, &w);
	return hx_host_reply(h, id, NULL);
}

char *hx_strdup2(const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, fmt, a, b);
	return s;
}

/* Replace "{dir}" with the scenario's temp dir. */
char *hx_subst(const char *v, const char *key, const char *value)
{
	const char *p = strstr(v, key);
	if (!p)
		return strdup(v);
	size_t n = strlen(v) + strlen(value) + 1;
	char *s = malloc(n);
	if (!s)
		return NULL;
	snprintf(s, n, "%.*s%s%s", (int)(p - v), v, value, p + strlen(key));
	return s;
}

char *hx_subst_dir(const char *v, const char *dir)
{
	return hx_subst(v, "{dir}", dir);
}

int hx_host_spawn(hx_host *h, char **argv, char **envp)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		goto fail;
	h->t0 = hx_now_ms();
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		/* own process group: a timeout kills the host and anything it left */
		setpgid(0, 0);
		/* the host dies with the scenario runner, whatever kills it */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execve(argv[0], argv, envp);
		dprintf(2, "neira-harness: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	h->pid = pid;
	h->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	h->in_fd = in[1];
	h->out_fd = out[0];
	h->err_fd = err[0];
	fcntl(h->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(h->err_fd, F_SETFL, O_NONBLOCK);
	return h->pidfd < 0 ? -errno : 0;
fail:;
	int e = -errno;
	for (int i = 0; i < 2; i++) {
		hx_close_fd(&in[i]);
		hx_close_fd(&out[i]);
		hx_close_fd(&err[i]);
	}
	return e;
}

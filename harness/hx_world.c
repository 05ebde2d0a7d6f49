/* hx_world: what the harness checks from outside the host — processes
 * (alive, reaped, descendants), open fds, files left in the scenario dir —
 * and the scenario dir's own set-up (stale socket, L1 agents layout). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "hx_internal.h"

/* One small /proc file, NUL-terminated, trailing newline cut; false if the
 * file (i.e. the process or thread) is gone or empty. */
static bool read_proc(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	buf[0] = '\0';
	if (fd < 0)
		return false;
	ssize_t r = read(fd, buf, len - 1);
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return r > 0;
}

/* The fields of a /proc/.../stat line the harness reads: comm (between the
 * first '(' and the last ')': the name may hold spaces and ')'), the state
 * letter and the parent pid after it. false if the line does not parse. */
static bool parse_stat(const char *stat, char *comm, size_t clen, char *state, pid_t *ppid)
{
	const char *lp = strchr(stat, '('), *rp = strrchr(stat, ')');
	int pp;
	char st;
	if (!lp || !rp || rp < lp || sscanf(rp + 1, " %c %d", &st, &pp) != 2)
		return false;
	if (comm)
		snprintf(comm, clen, "%.*s", (int)(rp - lp - 1), lp + 1);
	*state = st;
	if (ppid)
		*ppid = (pid_t)pp;
	return true;
}

void hx_proc_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (!read_proc(path, comm, len))
		snprintf(comm, len, "?");
}

int hx_count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return pid == getpid() ? n - 1 : n; /* minus the DIR's own fd */
}
/* ---- invariants ------------------------------------------------------ */

const char *hx_sig_name(int s)
{
	const char *n = sigabbrev_np(s);
	return n ? n : "?";
}

const char *const hx_inv_names[HX_INV_COUNT] = {
#define HX_INV_NAME(n) #n,
	HX_INVARIANTS(HX_INV_NAME)
#undef HX_INV_NAME
};

bool hx_inv_known(const char *name)
{
	for (size_t i = 0; i < HX_INV_COUNT; i++)
		if (!strcmp(hx_inv_names[i], name))
			return true;
	return false;
}

void hx_add_inv(json_t *invs, FILE *log, hx_inv inv, bool ok, const char *msg)
{
	json_array_append_new(invs, json_pack("{s:s,s:s,s:s}", "name", hx_inv_names[inv], "verdict",
					      ok ? "pass" : "fail", "message", msg));
	(void)log; /* printed with the expectations by the caller */
}

/* What each thread of a process is blocked in, for a report that has to say
 * why a host stopped answering: "TID COMM STATE WCHAN" per thread, "; "
 * between (wchan is the kernel function it sleeps in, e.g. futex_wait_queue;
 * "-" when running or unreadable). Empty when the process is gone. */
void hx_thread_states(pid_t pid, char *out, size_t len)
{
	char path[96];
	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	size_t l = 0;
	while ((e = readdir(d)) && l + 1 < len) {
		if (e->d_name[0] == '.')
			continue;
		char stat[512], wchan[64], comm[32] = "?", state = '?';
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", (int)pid, e->d_name);
		if (read_proc(path, stat, sizeof(stat)))
			parse_stat(stat, comm, sizeof(comm), &state, NULL);
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/wchan", (int)pid, e->d_name);
		read_proc(path, wchan, sizeof(wchan));
		int n = snprintf(out + l, len - l, "%s%s %s %c %s", l ? "; " : "", e->d_name, comm, state,
				 wchan[0] && strcmp(wchan, "0") ? wchan : "-");
		l = n < 0 ? l : l + (size_t)n < len ? l + (size_t)n : len - 1;
	}
	closedir(d);
}

/* libfaketime (a scenario's env: LD_PRELOAD, C2) names a semaphore and a
 * shared memory object in /dev/shm after the pid of the first process that
 * loads it, and removes them in that process's destructor, which never runs
 * when the process execs (adapters/node/bin's #!/bin/sh wrappers exec node),
 * calls _exit (the Python agent after stop) or is killed: every such run
 * left a pair behind. The names present before the run are listed here; the
 * ones added by the run whose pid is gone afterwards are removed by
 * hx_shm_sweep, which says what it removed. */
static bool faketime_name(const char *n, long *pid)
{
	static const char *const prefixes[] = { "faketime_shm_", "sem.faketime_sem_", NULL };
	for (size_t i = 0; prefixes[i]; i++) {
		size_t l = strlen(prefixes[i]);
		char *end;
		if (!strncmp(n, prefixes[i], l) && n[l] >= '1' && n[l] <= '9') {
			*pid = strtol(n + l, &end, 10);
			return !*end;
		}
	}
	return false;
}

json_t *hx_shm_names(void)
{
	json_t *names = json_object();
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	long pid;
	while (d && (e = readdir(d)))
		if (faketime_name(e->d_name, &pid))
			json_object_set_new(names, e->d_name, json_true());
	if (d)
		closedir(d);
	return names;
}

void hx_shm_sweep(const json_t *before, char *out, size_t len)
{
	out[0] = '\0';
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	long pid;
	size_t l = 0;
	while (d && (e = readdir(d))) {
		if (!faketime_name(e->d_name, &pid) || json_object_get(before, e->d_name) ||
		    !(kill((pid_t)pid, 0) < 0 && errno == ESRCH))
			continue;
		char path[300];
		snprintf(path, sizeof(path), "/dev/shm/%s", e->d_name);
		if (unlink(path) == 0 && l + 1 < len) {
			int n = snprintf(out + l, len - l, "%s%s", l ? ", " : "", e->d_name);
			l = n < 0 ? l : l + (size_t)n < len ? l + (size_t)n : len - 1;
		}
	}
	if (d)
		closedir(d);
}

bool hx_pid_alive(pid_t pid, char *state)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	*state = '?';
	if (read_proc(path, buf, sizeof(buf)))
		parse_stat(buf, NULL, 0, state, NULL);
	return kill(pid, 0) == 0 || errno != ESRCH;
}

int hx_rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			chmod(p, 0700);
			hx_rm_rf(p);
		} else {
			unlink(p);
		}
	}
	closedir(d);
	return rmdir(dir) < 0 ? -errno : 0;
}

/* Names in dir other than the harness's own files, recursively. */
void hx_stray_files(const char *dir, const char *rel, char *out, size_t outlen)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (!*rel && !strcmp(e->d_name, "script.json")))
			continue;
		char p[4096], r[1024];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		snprintf(r, sizeof(r), "%s%s", rel, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			char r2[1100];
			snprintf(r2, sizeof(r2), "%s/", r);
			size_t before = strlen(out);
			hx_stray_files(p, r2, out, outlen);
			if (strlen(out) != before)
				continue;
			/* an empty private dir left behind is a leak too */
		}
		size_t l = strlen(out);
		snprintf(out + l, outlen - l, "%s%s%s", l ? ", " : "", r,
			 S_ISSOCK(st.st_mode) ? " (socket)" : S_ISDIR(st.st_mode) ? " (dir)" : "");
	}
	closedir(d);
}

/* A unix stream socket and the address of `path`, or -errno (the three
 * socket set-ups below share it). */
static int unix_socket_at(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

/* Another instance's live socket (S4): a listener the harness holds at
 * `path` for the whole run. Returns its fd, or -errno. */
int hx_make_live_socket(const char *path)
{
	struct sockaddr_un sa;
	int fd = unix_socket_at(path, &sa);
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int hx_make_stale_socket(const char *path)
{
	struct sockaddr_un sa;
	int fd = unix_socket_at(path, &sa);
	if (fd < 0)
		return fd;
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	close(fd); /* the file stays: nobody listens on it */
	return rc;
}


/* `key` ("{dir}", "{agent}") in every string of v, in place, so that
 * expectations can name the scenario's private temp dir and the agent path
 * the host was given. */
void hx_subst_all(json_t *v, const char *key, const char *value)
{
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			if (json_is_string(x) && strstr(json_string_value(x), key)) {
				char *s = hx_subst(json_string_value(x), key, value);
				json_object_set_new(v, k, json_string(s ? s : ""));
				free(s);
			} else {
				hx_subst_all(x, key, value);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if (json_is_string(x) && strstr(json_string_value(x), key)) {
				char *s = hx_subst(json_string_value(x), key, value);
				json_array_set_new(v, i, json_string(s ? s : ""));
				free(s);
			} else {
				hx_subst_all(x, key, value);
			}
		}
	}
}

/* L1: lay out <dir>/agents/linux-<arch>/neira-agent (a symlink to the
 * reference agent) from the harness's own reading of this machine — an
 * oracle independent of the supervisor's sup_path_agent(). */
int hx_make_agents_dir(const char *dir, const char *ref_agent, char *agents, size_t len)
{
	struct utsname u;
	if (uname(&u) < 0)
		return -errno;
	const char *arch = !strcmp(u.machine, "x86_64")	 ? "x64"
			   : !strcmp(u.machine, "aarch64") ? "arm64"
			   : !strcmp(u.machine, "i686")	 ? "ia32"
							 : u.machine;
	char p[1024];
	snprintf(agents, len, "%s/agents", dir);
	snprintf(p, sizeof(p), "%s/linux-%s", agents, arch);
	if (mkdir(agents, 0755) < 0 || mkdir(p, 0755) < 0)
		return -errno;
	snprintf(p, sizeof(p), "%s/linux-%s/neira-agent", agents, arch);
	return symlink(ref_agent, p) < 0 ? -errno : 0;
}

/* Remove what hx_make_agents_dir() made, so that the dir-clean invariant
 * still catches anything the supervisor or the agent leaves. */
void hx_remove_agents_dir(const char *agents)
{
	DIR *d = opendir(agents);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s/neira-agent", agents, de->d_name);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%s", agents, de->d_name);
		rmdir(p);
	}
	if (d)
		closedir(d);
	rmdir(agents);
}

/* Parent pid of a process from /proc/PID/stat (field 4), -1 if gone. */
static pid_t ppid_of(pid_t pid, char *state)
{
	char path[64], buf[1024];
	pid_t ppid;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!read_proc(path, buf, sizeof(buf)) || !parse_stat(buf, NULL, 0, state, &ppid))
		return -1;
	return ppid;
}

/* Issue 10/15: waitpid(-1, WNOHANG) only sees orphans that have already
 * exited; a live grandchild is found by walking every process's parent
 * chain up to `root`. */
size_t hx_descendants(pid_t root, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 1 || pid == root)
			continue;
		char st = '?';
		pid_t p = ppid_of((pid_t)pid, &st);
		if (st == 'Z' || p < 0)
			continue;
		for (int depth = 0; p > 1 && depth < 64; depth++) {
			if (p == root) {
				if (n < max)
					out[n] = (pid_t)pid;
				n++;
				break;
			}
			char st2;
			p = ppid_of(p, &st2);
		}
	}
	closedir(d);
	return n;
}

json_t *hx_fd_targets(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	json_t *o = json_object();
	if (!d)
		return o;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (pid == getpid() && atoi(e->d_name) == dirfd(d)))
			continue;
		char lp[300], target[512];
		snprintf(lp, sizeof(lp), "/proc/%d/fd/%s", (int)pid, e->d_name);
		ssize_t n = readlink(lp, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		json_object_set_new(o, e->d_name, json_string(target));
	}
	closedir(d);
	return o;
}

int hx_probe_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd = unix_socket_at(path, &sa);
	if (fd < 0)
		return fd;
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int hx_mkdir_p(const char *path)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

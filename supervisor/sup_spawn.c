/* sup_spawn: start the agent directly (no shell, L3) with fork+exec and a
 * close-on-exec error pipe, so that a missing or non-executable file is
 * reported at once with its errno (L2) instead of as exit status 127. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fiu-local.h>

#include "flt_points.h"
#include "sup.h"

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

static ssize_t read_retry(int fd, void *buf, size_t n)
{
	ssize_t r;
	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/* The real calls behind their fault points (faults/flt_points.h): each
 * fails like the call itself, -1 with errno. */
static int spawn_pipe2(int p[2], int flags)
{
	fiu_do_on(FLT_NAME(SUP_SPAWN_PIPE), {
		errno = FLT_ERRNO(SUP_SPAWN_PIPE);
		return -1;
	});
	return pipe2(p, flags);
}

static int spawn_open_devnull(void)
{
	fiu_do_on(FLT_NAME(SUP_SPAWN_OPEN), {
		errno = FLT_ERRNO(SUP_SPAWN_OPEN);
		return -1;
	});
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static pid_t spawn_fork(void)
{
	fiu_do_on(FLT_NAME(SUP_SPAWN_FORK), {
		errno = FLT_ERRNO(SUP_SPAWN_FORK);
		return -1;
	});
	return fork();
}

static int open_pidfd(pid_t pid)
{
	fiu_do_on(FLT_NAME(SUP_CHILD_PIDFD), {
		errno = FLT_ERRNO(SUP_CHILD_PIDFD);
		return -1;
	});
	return (int)pidfd_open(pid, 0);
}

/* Close every fd >= 3 except keep (close_range(2), Linux 5.9; without it,
 * mark them close-on-exec one by one up to the descriptor limit). Only
 * async-signal-safe calls: this runs between fork and exec. */
static int close_others(int keep)
{
	if ((keep <= 3 || syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u) == 0) &&
	    syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0)
		return 0;
	struct rlimit rl;
	long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 65536;
	for (long fd = 3; fd < max; fd++)
		if (fd != keep)
			(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

/* In the child: only async-signal-safe calls, then exec or _exit — gRPC's
 * threads hold locks we must never touch after fork (no fork handlers). */
static void __attribute__((noreturn))
child_exec(const char *path, char *const envp[], int devnull, int out_w, int err_w, int errpipe_w,
	   int exec_fail, pid_t parent)
{
	/* No agent outlives its supervisor (issue 10, L7): the kernel kills the
	 * child when the forking thread dies, even by SIGKILL. A parent that
	 * died between fork() and this prctl() is caught by the getppid() check
	 * (we would have been re-parented already). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	/* Issue 15 (L7): the agent leads a process group of its own, so stop
	 * can signal every descendant at once (kill(-pgid)). The parent calls
	 * setpgid() too, so the group exists whichever side runs first. An
	 * agent that calls setsid() keeps pgid == pid, so -pid still reaches
	 * its children. */
	if (setpgid(0, 0) < 0)
		goto fail;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL); /* EINVAL for SIGKILL/SIGSTOP/RT internals: fine */
	if (dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		goto fail;
	/* Issue 15: nothing beyond stdin/stdout/stderr reaches the agent, not
	 * even descriptors the host opened without O_CLOEXEC. The exec-error
	 * pipe is close-on-exec already and must stay open until execve. */
	if (close_others(errpipe_w) < 0)
		goto fail;
	char *const argv[] = { (char *)path, NULL };
	if (exec_fail) { /* fault point supervisor/spawn/exec, decided before fork */
		errno = exec_fail;
		goto fail;
	}
	execve(path, argv, envp);
fail:;
	int e = errno;
	ssize_t w;
	do
		w = write(errpipe_w, &e, sizeof(e));
	while (w < 0 && errno == EINTR);
	_exit(127);
}

int sup_spawn_exec(void *ud, const char *path, char *const envp[], sup_child *child, sup_error *err)
{
	(void)ud;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, xp[2] = { -1, -1 };
	int devnull = -1, rc;
	const char *what = "pipe";
	child->pid = 0;
	child->pidfd = child->out_fd = child->err_fd = -1;

	if (spawn_pipe2(outp, O_CLOEXEC) < 0 || spawn_pipe2(errp, O_CLOEXEC) < 0 ||
	    spawn_pipe2(xp, O_CLOEXEC) < 0)
		goto fail_errno;
	what = "open /dev/null";
	devnull = spawn_open_devnull();
	if (devnull < 0)
		goto fail_errno;
	/* the exec point is evaluated here: nothing but async-signal-safe
	 * calls may run in the child of a threaded process */
	int exec_fail = 0;
	fiu_do_on(FLT_NAME(SUP_SPAWN_EXEC), exec_fail = FLT_ERRNO(SUP_SPAWN_EXEC));
	what = "fork";
	pid_t parent = getpid();
	pid_t pid = spawn_fork();
	if (pid < 0)
		goto fail_errno;
	if (pid == 0)
		child_exec(path, envp, devnull, outp[1], errp[1], xp[1], exec_fail, parent);
	/* the other half of the setpgid race (see child_exec); EACCES once the
	 * child has exec'd, ESRCH if it is gone already: both harmless */
	(void)setpgid(pid, pid);

	close(outp[1]);
	close(errp[1]);
	close(xp[1]);
	close(devnull);
	outp[1] = errp[1] = xp[1] = devnull = -1;

	int child_errno = 0;
	ssize_t n = read_retry(xp[0], &child_errno, sizeof(child_errno));
	close(xp[0]);
	xp[0] = -1;
	if (n == (ssize_t)sizeof(child_errno)) {
		/* exec failed: reap the child now, nothing is left behind (L2) */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close_pair(outp);
		close_pair(errp);
		sup_error_set(err, "supervisor", child_errno, "spawn %s: %s (%s)", path,
			      sup_errno_name(child_errno), strerror(child_errno));
		sup_error_ctx(err, "path", "%s", path);
		return -child_errno;
	}
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	child->pid = pid;
	child->pidfd = open_pidfd(pid); /* -1: loop falls back to a reap tick */
	child->out_fd = outp[0];
	child->err_fd = errp[0];
	return 0;

fail_errno:
	rc = errno;
	close_pair(outp);
	close_pair(errp);
	close_pair(xp);
	if (devnull >= 0)
		close(devnull);
	sup_error_set(err, "supervisor", rc, "spawn %s: %s: %s (%s)", path, what, sup_errno_name(rc),
		      strerror(rc));
	sup_error_ctx(err, "path", "%s", path);
	return -rc;
}

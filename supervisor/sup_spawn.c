/* sup_spawn: start the agent directly (no shell, L3) with a vfork-style
 * clone + exec and a close-on-exec error pipe, so that a missing or
 * non-executable file is reported at once with its errno (L2) instead of as
 * exit status 127.
 *
 * Why not fork (issue 13): fork copies the host's page tables and every page
 * either side then touches is copied on write — with grpc's threads running
 * that was ≈ 1 ms of the supervisor's share of init (scripts/bench-hosts.py).
 * clone(CLONE_VM | CLONE_VFORK) runs the child in our memory on its own
 * stack and suspends only the calling thread until the child has exec'd or
 * exited: what glibc's posix_spawn does, which we cannot use because the
 * child must set PR_SET_PDEATHSIG (no agent outlives its supervisor). The
 * child therefore only makes system calls (no allocation, no locks, no
 * signal handler may run in it: every signal is blocked across the clone and
 * reset to its default before being unblocked). Under valgrind, which runs
 * CLONE_VM|CLONE_VFORK as a plain fork, the error pipe still carries exec's
 * errno, so the parent never relies on memory the child wrote. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
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

/* What the child needs, on the parent's stack (CLONE_VM: the child reads it
 * in place; it writes nothing here). */
typedef struct spawn_args {
	const char *path;
	char *const *envp;
	int devnull, out_w, err_w, errpipe_w, exec_fail;
	pid_t parent;
	sigset_t mask; /* the caller's mask, restored in the parent */
} spawn_args;

static int child_exec(void *arg);

/* Fault point supervisor/spawn/fork: the clone fails like fork would. The
 * stack is a private mapping (lazily backed: only the pages the child
 * touches cost anything), unmapped as soon as clone returns, since by then
 * the child has exec'd or exited. */
static pid_t spawn_clone(spawn_args *a)
{
	fiu_do_on(FLT_NAME(SUP_SPAWN_FORK), {
		errno = FLT_ERRNO(SUP_SPAWN_FORK);
		return -1;
	});
	enum { STACK = 256 * 1024 };
	void *stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &a->mask);
	pid_t pid = clone(child_exec, (char *)stack + STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, a);
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &a->mask, NULL);
	munmap(stack, STACK);
	errno = e;
	return pid;
}

static int open_pidfd(pid_t pid)
{
	fiu_do_on(FLT_NAME(SUP_CHILD_PIDFD), {
		errno = FLT_ERRNO(SUP_CHILD_PIDFD);
		return -1;
	});
	return (int)pidfd_open(pid, 0);
}

/* The child's code is not instrumented by ASan: its fake stack frames are
 * the calling thread's, which the child must not change. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_NO_ASAN __attribute__((no_sanitize("address")))
#endif
#endif
#if !defined(SPAWN_NO_ASAN) && defined(__SANITIZE_ADDRESS__)
#define SPAWN_NO_ASAN __attribute__((no_sanitize_address))
#endif
#ifndef SPAWN_NO_ASAN
#define SPAWN_NO_ASAN
#endif

/* Close every fd >= 3 except keep (close_range(2), Linux 5.9; without it,
 * mark them close-on-exec one by one up to the descriptor limit). Only
 * system calls: this runs in the child, before exec. */
SPAWN_NO_ASAN static int close_others(int keep)
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

/* In the child, in our memory, on its own stack: only system calls, then
 * exec or _exit — gRPC's threads run on beside it and hold locks it must
 * never touch. */
SPAWN_NO_ASAN static int child_exec(void *arg)
{
	const spawn_args *a = arg;
	const char *path = a->path;
	int errpipe_w = a->errpipe_w;
	pid_t parent = a->parent;
	/* No agent outlives its supervisor (issue 10, L7): the kernel kills the
	 * child when the spawning thread dies, even by SIGKILL. A parent that
	 * died between the clone and this prctl() is caught by the getppid() check
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
	/* every signal is still blocked (spawn_clone): defaults first, so no
	 * handler of the host's can ever run in this child, then unblock */
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL); /* EINVAL for SIGKILL/SIGSTOP/RT internals: fine */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(a->devnull, 0) < 0 || dup2(a->out_w, 1) < 0 || dup2(a->err_w, 2) < 0)
		goto fail;
	/* Issue 15: nothing beyond stdin/stdout/stderr reaches the agent, not
	 * even descriptors the host opened without O_CLOEXEC. The exec-error
	 * pipe is close-on-exec already and must stay open until execve. */
	if (close_others(errpipe_w) < 0)
		goto fail;
	char *const argv[] = { (char *)path, NULL };
	if (a->exec_fail) { /* fault point supervisor/spawn/exec, decided before the clone */
		errno = a->exec_fail;
		goto fail;
	}
	execve(path, argv, a->envp);
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
	what = "fork"; /* the contract's word (L2, O1); the call is clone(CLONE_VM|CLONE_VFORK) */
	spawn_args a = { .path = path, .envp = envp, .devnull = devnull, .out_w = outp[1], .err_w = errp[1],
			 .errpipe_w = xp[1], .exec_fail = exec_fail, .parent = getpid() };
	pid_t pid = spawn_clone(&a);
	if (pid < 0)
		goto fail_errno;
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

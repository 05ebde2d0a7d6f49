/* soak_sup: many supervisor lifecycles in one process (issue 15) — each
 * cycle: sup_new, init against neira-fake-agent whose ProcessPrompt fails
 * every third call, CALLS calls through a breaker that opens at the first
 * failure (threshold 1, 20 ms open), stop, free. After a warm-up cycle the
 * process's fds, threads (its own, named neira-rpc-*: grpc's pool is grpc's), child processes, files in the private temp dir and
 * RSS are recorded; at the end they must be back where they were (RSS within
 * a bound). Prints one JSON line of figures (docs/robustness.md quotes it).
 *
 *   soak_sup NEIRA_FAKE_AGENT [CYCLES] [CALLS] [MAX_RSS_GROWTH_KB]
 *
 * Exit 0 when nothing grew; 1 naming what did. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpc.h"
#include "sup.h"

typedef struct figures {
	long fds, threads, all_threads, children, files, rss_kb;
} figures;

static long count_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	long n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static long status_field(const char *key)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = strtol(line + kl + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* Processes whose parent is this one (zombies included). */
static long count_children(void)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	long n = 0;
	pid_t me = getpid();
	struct dirent *de;
	while ((de = readdir(d))) {
		char p[300], buf[512];
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", de->d_name);
		FILE *f = fopen(p, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			char *rp = strrchr(buf, ')'); /* comm may hold spaces */
			int ppid;
			if (rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == me)
				n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static int under_asan(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return 1;
#else
	return 0;
#endif
#else
	return 0;
#endif
}

static figures measure(const char *dir)
{
	figures f;
	f.fds = rpc_count_fds();
	f.threads = rpc_count_threads(); /* ours: grpc's pool lives on its own schedule */
	f.all_threads = status_field("Threads");
	f.children = count_children();
	f.files = count_dir(dir);
	f.rss_kb = status_field("VmRSS");
	return f;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s NEIRA_FAKE_AGENT [CYCLES] [CALLS] [MAX_RSS_GROWTH_KB]\n", argv[0]);
		return 2;
	}
	long cycles = argc > 2 ? strtol(argv[2], NULL, 10) : 5;
	long calls = argc > 3 ? strtol(argv[3], NULL, 10) : 30;
	long max_rss_kb = argc > 4 ? strtol(argv[4], NULL, 10) : 8192;
	if (cycles < 1 || cycles > 100000 || calls < 0 || calls > 1000000 || max_rss_kb < 0) {
		fprintf(stderr, "soak: CYCLES 1..100000, CALLS 0..1000000, MAX_RSS_GROWTH_KB >= 0\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	char dir[] = "/tmp/soak_sup.XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	setenv("TMPDIR", dir, 1); /* the private socket dirs go here */
	setenv("NEIRA_FAKE_SCRIPT_JSON", "{\"calls\": {\"ProcessPrompt\": {\"fail_every\": 3}}}", 1);
	sup_config cfg;
	sup_config_init(&cfg);
	sup_config_set(&cfg, "agent_path", argv[1], NULL);
	sup_config_set(&cfg, "socket_private_dir", "true", NULL);
	sup_config_set(&cfg, "breaker_threshold", "1", NULL);
	sup_config_set(&cfg, "breaker_open_ms", "20", NULL);
	figures base = { 0 }, end;
	long ok = 0, failed = 0, rejected = 0, opened = 0, ready = 0;
	for (long c = 0; c <= cycles; c++) { /* cycle 0 warms up (grpc's lazy globals) */
		if (c == 1)
			base = measure(dir);
		sup *s = NULL;
		if (sup_new(&cfg, NULL, &s, NULL) < 0)
			return 2;
		if (sup_init(s) == 1)
			ready++;
		for (long i = 0; i < calls; i++) {
			sup_reply r = SUP_REPLY_INIT;
			int rc = sup_call_process_prompt(s, "soak", 2000, &r);
			if (rc == 0)
				ok++;
			else if (rc == -EAGAIN)
				rejected++;
			else
				failed++;
			if (sup_get_breaker(s) == SUP_BREAKER_OPEN)
				opened++;
			sup_reply_destroy(&r);
			if (rc == -EAGAIN) /* let the 20 ms pass on the loop, not by sleeping */
				sup_run(s, 25, -1);
		}
		sup_stop(s, NULL, NULL, NULL);
		sup_free(s);
	}
	end = measure(dir);
	sup_config_destroy(&cfg);
	printf("{\"cycles\": %ld, \"calls_per_cycle\": %ld, \"ready\": %ld, \"ok\": %ld, \"failed\": %ld, "
	       "\"rejected_breaker_open\": %ld, \"breaker_seen_open\": %ld, "
	       "\"fds\": [%ld, %ld], \"threads\": [%ld, %ld], \"all_threads\": [%ld, %ld], \"children\": [%ld, %ld], \"files\": [%ld, %ld], "
	       "\"rss_kb\": [%ld, %ld]}\n",
	       cycles, calls, ready, ok, failed, rejected, opened, base.fds, end.fds, base.threads, end.threads, base.all_threads, end.all_threads,
	       base.children, end.children, base.files, end.files, base.rss_kb, end.rss_kb);
	int bad = 0;
#define CHECK(cond, ...)                                                                                   \
	do {                                                                                               \
		if (!(cond)) {                                                                             \
			fprintf(stderr, "soak: " __VA_ARGS__);                                             \
			bad = 1;                                                                           \
		}                                                                                          \
	} while (0)
	CHECK(ready == cycles + 1, "%ld of %ld inits ended ready\n", ready, cycles + 1);
	CHECK(calls < 3 || (failed > 0 && opened > 0), "the breaker never opened (failed %ld)\n", failed);
	CHECK(end.fds == base.fds, "fds %ld -> %ld\n", base.fds, end.fds);
	CHECK(end.threads <= base.threads, "threads %ld -> %ld\n", base.threads, end.threads);
	CHECK(end.children == 0, "%ld child processes left\n", end.children);
	CHECK(end.files == 0, "%ld files left in %s\n", end.files, dir);
	/* Under ASan freed memory sits in its quarantine (up to 256 MB), and
	 * under valgrind RSS is valgrind's: it says nothing there; LSan and
	 * memcheck judge leaks in those lanes. */
	CHECK(under_asan() || getenv("NEIRA_UNDER_VALGRIND") || end.rss_kb - base.rss_kb <= max_rss_kb, "RSS grew %ld kB (limit %ld)\n",
	      end.rss_kb - base.rss_kb, max_rss_kb);
	rmdir(dir);
	return bad;
}

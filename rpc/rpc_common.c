/* rpc: pieces shared by client and server — status names, grpc init refcount. */
#include "rpc_internal.h"

#include <dirent.h>
#include <stdbool.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/un.h>

#include "nv.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned init_refs;

void rpc_global_init(void)
{
	pthread_mutex_lock(&init_lock);
	if (init_refs++ == 0)
		grpc_init();
	pthread_mutex_unlock(&init_lock);
}

void rpc_global_shutdown(void)
{
	pthread_mutex_lock(&init_lock);
	/* blocking: grpc_shutdown() returns before its threads have gone, and
	 * valgrind's fd/thread accounting at exit would then see them. */
	if (init_refs > 0 && --init_refs == 0)
		grpc_shutdown_blocking();
	pthread_mutex_unlock(&init_lock);
}

/* How many entries of a /proc directory `keep` accepts (not . and ..). */
static int count_proc_entries(const char *dir, bool (*keep)(DIR *d, const char *name, void *ud), void *ud)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && keep(d, de->d_name, ud))
			n++;
	closedir(d);
	return n;
}

/* An fd of ours: below the limit (valgrind's are above), not the listing's own. */
static bool our_fd(DIR *d, const char *name, void *ud)
{
	long fd = strtol(name, NULL, 10), lim = *(const long *)ud;
	return fd != dirfd(d) && (lim < 0 || fd < lim);
}

int rpc_count_fds(void)
{
	struct rlimit rl;
	long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : -1;
	return count_proc_entries("/proc/self/fd", our_fd, &lim);
}

/* A thread of ours: named RPC_THREAD_PREFIX… (one that ended meanwhile is not). */
static bool our_thread(DIR *d, const char *name, void *ud)
{
	(void)d;
	(void)ud;
	char path[300], comm[32] = "";
	snprintf(path, sizeof(path), "/proc/self/task/%s/comm", name);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ours = fgets(comm, sizeof(comm), f) && strncmp(comm, RPC_THREAD_PREFIX, strlen(RPC_THREAD_PREFIX)) == 0;
	fclose(f);
	return ours;
}

int rpc_count_threads(void)
{
	return count_proc_entries("/proc/self/task", our_thread, NULL);
}

size_t rpc_socket_path_max(void)
{
	struct sockaddr_un sun;
	return sizeof(sun.sun_path) - 1;
}

const char *rpc_status_name(int code)
{
	const char *n = nv_status_name(code); /* the one table (vocab/) */
	return n ? n : "UNKNOWN_STATUS";
}

gpr_timespec rpc__deadline(int64_t timeout_ms)
{
	if (timeout_ms < 0)
		return gpr_inf_future(GPR_CLOCK_MONOTONIC);
	return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
			    gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
}

int rpc__bytes_from_bb(grpc_byte_buffer *bb, uint8_t **data, size_t *len)
{
	grpc_byte_buffer_reader reader;
	*data = NULL;
	*len = 0;
	if (!bb)
		return 0;
	if (!grpc_byte_buffer_reader_init(&reader, bb))
		return -EIO;
	grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
	grpc_byte_buffer_reader_destroy(&reader);
	size_t n = GRPC_SLICE_LENGTH(all);
	/* +1 so that an empty message still gets a non-NULL buffer */
	uint8_t *buf = malloc(n + 1);
	if (!buf) {
		grpc_slice_unref(all);
		return -ENOMEM;
	}
	memcpy(buf, GRPC_SLICE_START_PTR(all), n);
	grpc_slice_unref(all);
	*data = buf;
	*len = n;
	return 0;
}

grpc_byte_buffer *rpc__bb_from_bytes(const void *data, size_t len)
{
	grpc_slice s = grpc_slice_from_copied_buffer(data ? (const char *)data : "", len);
	grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

void rpc__set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

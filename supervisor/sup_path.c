/* sup_path: socket path rules (SPEC S1, S3) and agent discovery (L1). */
#include "sup_path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define SUP__SOCKET_NAME "neira_agent.sock"

static const char *sup__real_getenv(const char *name)
{
	return getenv(name);
}

int sup_path_check_socket(const char *path, sup_error *err)
{
	size_t len;

	if (!path || path[0] == '\0') {
		sup_error_set(err, "socket", EINVAL, "socket path: empty (an absolute path is required)");
		return -EINVAL;
	}
	len = strlen(path);
	/* S1: the gRPC target is unix:// + an absolute path. */
	if (path[0] != '/') {
		sup_error_set(err, "socket", EINVAL, "socket path \"%s\": not absolute", path);
		sup_error_ctx(err, "path", "%s", path);
		return -EINVAL;
	}
	/* S3: caught here, before spawning, never as a silent connect failure. */
	if (len > SUP_SOCKET_PATH_MAX) {
		sup_error_set(err, "socket", ENAMETOOLONG,
		              "socket path \"%s\": %zu bytes, longer than the %d allowed "
		              "(sun_path holds 108 bytes with the NUL on Linux, 104 on macOS)",
		              path, len, SUP_SOCKET_PATH_MAX);
		sup_error_ctx(err, "path", "%s", path);
		sup_error_ctx(err, "length", "%zu", len);
		sup_error_ctx(err, "limit", "%d", SUP_SOCKET_PATH_MAX);
		return -ENAMETOOLONG;
	}
	return 0;
}

int sup_path_default_socket(sup_getenv_fn getenv_fn, char *out, size_t outlen, sup_error *err)
{
	const char *env, *tmpdir = "/tmp", *source = "$NEIRA_SOCKET_PATH";
	char *path = NULL;
	size_t tlen;
	int r;

	if (!out || outlen == 0) {
		sup_error_set(err, "socket", EINVAL, "default socket path: no output buffer");
		return -EINVAL;
	}
	out[0] = '\0';
	if (!getenv_fn)
		getenv_fn = sup__real_getenv;
	env = getenv_fn("NEIRA_SOCKET_PATH");
	if (env && env[0] != '\0') {
		/* S1: the explicit variable wins, taken as given. */
		r = asprintf(&path, "%s", env);
	} else {
		source = "$TMPDIR or /tmp (S1 default rule)";
		env = getenv_fn("TMPDIR");
		if (env && env[0] != '\0')
			tmpdir = env;
		/* S1: trailing slashes removed, but "/" stays "/": the result
		 * is then "/neira_agent.sock", never "//neira_agent.sock". */
		tlen = strlen(tmpdir);
		while (tlen > 1 && tmpdir[tlen - 1] == '/')
			tlen--;
		r = asprintf(&path, "%.*s%s%s", (int)tlen, tmpdir, tmpdir[tlen - 1] == '/' ? "" : "/",
		             SUP__SOCKET_NAME);
	}
	if (r < 0) {
		sup_error_set(err, "socket", ENOMEM, "default socket path: out of memory");
		return -ENOMEM;
	}
	/* S3 first: an over-long path is the real cause, not the caller's
	 * buffer size. */
	r = sup_path_check_socket(path, err);
	if (r < 0) {
		sup_error_add_cause(err, "socket path taken from %s", source);
		goto out;
	}
	if (strlen(path) >= outlen) {
		sup_error_set(err, "socket", ENOBUFS, "default socket path \"%s\": does not fit a %zu-byte buffer",
		              path, outlen);
		r = -ENOBUFS;
		goto out;
	}
	memcpy(out, path, strlen(path) + 1);
out:
	free(path);
	return r;
}

static const char *sup__node_os(const char *sysname)
{
	/* node's process.platform names (L1). */
	if (strcmp(sysname, "Linux") == 0)
		return "linux";
	if (strcmp(sysname, "Darwin") == 0)
		return "darwin";
	if (strcmp(sysname, "FreeBSD") == 0)
		return "freebsd";
	if (strcmp(sysname, "OpenBSD") == 0)
		return "openbsd";
	if (strcmp(sysname, "SunOS") == 0)
		return "sunos";
	if (strncmp(sysname, "CYGWIN", 6) == 0 || strncmp(sysname, "MINGW", 5) == 0 ||
	    strncmp(sysname, "MSYS", 4) == 0)
		return "win32";
	return NULL;
}

static const char *sup__node_arch(const char *machine)
{
	/* node's process.arch names (L1). */
	static const struct {
		const char *uname, *node;
	} map[] = {
		{ "x86_64", "x64" },   { "amd64", "x64" },     { "aarch64", "arm64" }, { "arm64", "arm64" },
		{ "i386", "ia32" },    { "i486", "ia32" },     { "i586", "ia32" },     { "i686", "ia32" },
		{ "armv6l", "arm" },   { "armv7l", "arm" },    { "armv8l", "arm" },    { "ppc64le", "ppc64" },
		{ "ppc64", "ppc64" },  { "s390x", "s390x" },   { "riscv64", "riscv64" },
		{ "loongarch64", "loong64" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(machine, map[i].uname) == 0)
			return map[i].node;
	return NULL;
}

/* uname() cannot change while we run; resolved on each call (cheap) so
 * there is no shared mutable state. */
const char *sup_path_host_os(void)
{
	struct utsname u;
	const char *os;

	if (uname(&u) != 0)
		return "unknown";
	os = sup__node_os(u.sysname);
	return os ? os : "unknown";
}

const char *sup_path_host_arch(void)
{
	struct utsname u;
	const char *arch;

	if (uname(&u) != 0)
		return "unknown";
	arch = sup__node_arch(u.machine);
	return arch ? arch : "unknown";
}

int sup_path_agent(const char *explicit_path, const char *agents_dir, const char *os, const char *arch,
                   char *out, size_t outlen, sup_error *err)
{
	size_t dlen;
	int r;

	if (!out || outlen == 0) {
		sup_error_set(err, "launch", EINVAL, "agent path: no output buffer");
		return -EINVAL;
	}
	out[0] = '\0';
	/* L1: an explicit path in the configuration wins. */
	if (explicit_path && explicit_path[0] != '\0') {
		r = snprintf(out, outlen, "%s", explicit_path);
		if (r < 0 || (size_t)r >= outlen) {
			sup_error_set(err, "launch", ENAMETOOLONG, "agent path \"%s\": longer than %zu bytes",
			              explicit_path, outlen - 1);
			sup_error_ctx(err, "path", "%s", explicit_path);
			out[0] = '\0';
			return -ENAMETOOLONG;
		}
		return 0;
	}
	if (!agents_dir || agents_dir[0] == '\0') {
		sup_error_set(err, "launch", EINVAL,
		              "agent path: neither agent_path nor agents_dir is set (set one with --set agent_path=… "
		              "or --set agents_dir=…)");
		return -EINVAL;
	}
	if (!os)
		os = sup_path_host_os();
	if (!arch)
		arch = sup_path_host_arch();
	dlen = strlen(agents_dir);
	while (dlen > 1 && agents_dir[dlen - 1] == '/')
		dlen--;
	r = snprintf(out, outlen, "%.*s%s%s-%s/neira-agent%s", (int)dlen, agents_dir,
	             agents_dir[dlen - 1] == '/' ? "" : "/", os, arch, strcmp(os, "win32") == 0 ? ".exe" : "");
	if (r < 0 || (size_t)r >= outlen) {
		sup_error_set(err, "launch", ENAMETOOLONG, "agent path under \"%s\" for %s-%s: longer than %zu bytes",
		              agents_dir, os, arch, outlen - 1);
		sup_error_ctx(err, "agents_dir", "%s", agents_dir);
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

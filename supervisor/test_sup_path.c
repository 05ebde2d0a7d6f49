/* Unit tests for sup_path: S1 default socket, S3 length, L1 discovery. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sup_path.h"

/* The injected environment (seam for getenv): NULL = unset. */
static const char *fake_tmpdir, *fake_socket;

static const char *fake_getenv(const char *name)
{
	if (strcmp(name, "TMPDIR") == 0)
		return fake_tmpdir;
	if (strcmp(name, "NEIRA_SOCKET_PATH") == 0)
		return fake_socket;
	return NULL;
}

static void test_default_socket(void **state)
{
	static char dir107[128], dir108[128], path107[128];
	/* /<n × 'd'> + "/neira_agent.sock" (17 bytes) */
	memset(dir107, 'd', sizeof(dir107));
	dir107[0] = '/';
	dir107[107 - 17] = '\0';
	memcpy(dir108, dir107, sizeof(dir108));
	dir108[107 - 17] = 'd';
	dir108[108 - 17] = '\0';
	memset(path107, 'p', sizeof(path107));
	path107[0] = '/';
	path107[107] = '\0';
	const struct {
		const char *tmpdir, *socket;
		int expect;
		const char *path;
	} t[] = {
		{ NULL, NULL, 0, "/tmp/neira_agent.sock" },
		{ "", NULL, 0, "/tmp/neira_agent.sock" },
		{ "/var/tmp", NULL, 0, "/var/tmp/neira_agent.sock" },
		{ "/var/tmp/", NULL, 0, "/var/tmp/neira_agent.sock" },
		{ "/var/tmp///", NULL, 0, "/var/tmp/neira_agent.sock" },
		{ "/", NULL, 0, "/neira_agent.sock" },
		{ "///", NULL, 0, "/neira_agent.sock" },
		{ "/var/tmp", "/run/me/a.sock", 0, "/run/me/a.sock" }, /* explicit wins */
		{ "/var/tmp", "", 0, "/var/tmp/neira_agent.sock" },   /* empty = unset */
		{ dir107, NULL, 0, NULL },                            /* exactly 107: ok */
		{ dir108, NULL, -ENAMETOOLONG, NULL },                /* 108: refused */
		{ NULL, path107, 0, path107 },
		{ "relative/dir", NULL, -EINVAL, NULL },
		{ NULL, "rel.sock", -EINVAL, NULL },
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sup_error err = SUP_ERROR_INIT;
		int r;

		fake_tmpdir = t[i].tmpdir;
		fake_socket = t[i].socket;
		r = sup_path_default_socket(fake_getenv, out, sizeof(out), &err);
		print_message("case %zu: TMPDIR=%s NEIRA_SOCKET_PATH=%s -> %d %s %s\n", i,
		              t[i].tmpdir ? t[i].tmpdir : "(unset)", t[i].socket ? t[i].socket : "(unset)", r, out,
		              err.message);
		assert_int_equal(r, t[i].expect);
		if (r == 0) {
			assert_false(sup_error_is_set(&err));
			if (t[i].path)
				assert_string_equal(out, t[i].path);
			assert_true(strlen(out) <= SUP_SOCKET_PATH_MAX);
		} else {
			assert_string_equal(out, "");
			assert_true(sup_error_is_set(&err));
		}
		sup_error_destroy(&err);
	}
	/* exactly-107 case really is 107 bytes long */
	fake_tmpdir = dir107;
	fake_socket = NULL;
	assert_int_equal(sup_path_default_socket(fake_getenv, out, sizeof(out), NULL), 0);
	assert_int_equal(strlen(out), 107);
	/* a buffer too small for a valid path is its own error */
	assert_int_equal(sup_path_default_socket(fake_getenv, out, 50, NULL), -ENOBUFS);
}

static void test_check_socket_message(void **state)
{
	char path[200];
	sup_error err = SUP_ERROR_INIT;

	(void)state;
	memset(path, 'x', sizeof(path));
	path[0] = '/';
	path[150] = '\0';
	assert_int_equal(sup_path_check_socket(path, &err), -ENAMETOOLONG);
	/* S3: names the path, its length and the limit */
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "150 bytes"));
	assert_non_null(strstr(err.message, "107"));
	assert_non_null(strstr(err.message, "108"));
	assert_non_null(strstr(err.message, "104 on macOS"));
	assert_string_equal(sup_error_ctx_get(&err, "length"), "150");
	assert_string_equal(sup_error_ctx_get(&err, "errno"), "ENAMETOOLONG");
	sup_error_destroy(&err);
	assert_int_equal(sup_path_check_socket(NULL, &err), -EINVAL);
	sup_error_destroy(&err);
	assert_int_equal(sup_path_check_socket("", NULL), -EINVAL);
	assert_int_equal(sup_path_check_socket("x.sock", NULL), -EINVAL);
	assert_int_equal(sup_path_check_socket("/x.sock", NULL), 0);
}

static void test_real_getenv(void **state)
{
	char out[256];

	(void)state;
	/* NULL getenv_fn reads the process environment; whatever it holds,
	 * the answer is either a valid path or a filled error. */
	sup_error err = SUP_ERROR_INIT;
	int r = sup_path_default_socket(NULL, out, sizeof(out), &err);
	assert_true(r == 0 ? strlen(out) > 0 : sup_error_is_set(&err));
	sup_error_destroy(&err);
}

static void test_agent_path(void **state)
{
	static const struct {
		const char *explicit_path, *dir, *os, *arch;
		int expect;
		const char *path;
	} t[] = {
		{ NULL, "/opt/agents", "linux", "x64", 0, "/opt/agents/linux-x64/neira-agent" },
		{ NULL, "/opt/agents", "linux", "arm64", 0, "/opt/agents/linux-arm64/neira-agent" },
		{ NULL, "/opt/agents", "darwin", "x64", 0, "/opt/agents/darwin-x64/neira-agent" },
		{ NULL, "/opt/agents", "darwin", "arm64", 0, "/opt/agents/darwin-arm64/neira-agent" },
		{ NULL, "/opt/agents", "win32", "x64", 0, "/opt/agents/win32-x64/neira-agent.exe" },
		{ NULL, "/opt/agents", "win32", "ia32", 0, "/opt/agents/win32-ia32/neira-agent.exe" },
		{ NULL, "/opt/agents/", "linux", "x64", 0, "/opt/agents/linux-x64/neira-agent" },
		{ NULL, "agents", "linux", "x64", 0, "agents/linux-x64/neira-agent" },
		{ NULL, "/", "linux", "x64", 0, "/linux-x64/neira-agent" },
		{ "/bin/my-agent", "/opt/agents", "win32", "x64", 0, "/bin/my-agent" }, /* explicit wins */
		{ "/bin/my-agent", NULL, NULL, NULL, 0, "/bin/my-agent" },
		{ "", "/opt/agents", "linux", "x64", 0, "/opt/agents/linux-x64/neira-agent" },
		{ NULL, NULL, "linux", "x64", -EINVAL, NULL },
		{ NULL, "", "linux", "x64", -EINVAL, NULL },
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sup_error err = SUP_ERROR_INIT;
		int r = sup_path_agent(t[i].explicit_path, t[i].dir, t[i].os, t[i].arch, out, sizeof(out), &err);

		print_message("case %zu -> %d %s %s\n", i, r, out, err.message);
		assert_int_equal(r, t[i].expect);
		if (r == 0)
			assert_string_equal(out, t[i].path);
		else
			assert_non_null(strstr(err.message, "agents_dir"));
		sup_error_destroy(&err);
	}
	/* too small a buffer */
	assert_int_equal(sup_path_agent(NULL, "/opt/agents", "linux", "x64", out, 10, NULL), -ENAMETOOLONG);
}

static void test_host_names(void **state)
{
	char out[256], expect[256];

	(void)state;
	/* the machine this runs on is one of the node-style names */
	assert_string_equal(sup_path_host_os(), "linux");
	const char *arch = sup_path_host_arch();
	assert_string_not_equal(arch, "unknown");
	assert_int_equal(sup_path_agent(NULL, "/a", NULL, NULL, out, sizeof(out), NULL), 0);
	snprintf(expect, sizeof(expect), "/a/linux-%s/neira-agent", arch);
	assert_string_equal(out, expect);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_socket), cmocka_unit_test(test_check_socket_message),
		cmocka_unit_test(test_real_getenv),    cmocka_unit_test(test_agent_path),
		cmocka_unit_test(test_host_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

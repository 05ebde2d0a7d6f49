/* test_rpt: the report library — escapers, metadata, clause verdicts and
 * the summary on the fixture results, error paths. Runs under valgrind too
 * (the format checks on the written files are in test_reports.py). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpt_internal.h"

static const char *testdata(void)
{
	const char *d = getenv("RPT_TESTDATA");
	return d ? d : "reports/testdata";
}

/* A private temporary directory per test (fixture through *state). */
static int tmp_setup(void **state)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *dir = malloc(strlen(base) + 32);
	/* checked: gcc's -fsanitize build warns of a NULL sprintf target */
	if (!dir)
		return -1;
	sprintf(dir, "%s/rpt-test-XXXXXX", base);
	if (!mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
			rm_tree(p);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int tmp_teardown(void **state)
{
	rm_tree(*state);
	free(*state);
	return 0;
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void copy_fixture(const char *dir, const char *name)
{
	char src[4096];
	snprintf(src, sizeof(src), "%s/results/%s", testdata(), name);
	json_error_t je;
	json_t *j = json_load_file(src, 0, &je);
	assert_non_null(j);
	char *s = json_dumps(j, JSON_INDENT(1));
	write_text(dir, name, s);
	free(s);
	json_decref(j);
}

/* ---- escapers ---- */

static void test_xml_escape(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "<script>alert(\"x\")</script>", "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" },
		{ "a & b 'c'", "a &amp; b &#39;c&#39;" },
		{ "tab\tnl\n", "tab\tnl\n" },
		{ "bell\x07" "esc\x1b[0m", "bell\xef\xbf\xbd" "esc\xef\xbf\xbd[0m" },
		{ "cr\r", "cr\xef\xbf\xbd" },
		{ "ünïcødé ✓", "ünïcødé ✓" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rpt_buf b = RPT_BUF_INIT;
		rpt__buf_xml(&b, cases[i].in);
		assert_string_equal(b.p ? b.p : "", cases[i].out);
		rpt__buf_free(&b);
	}
}

static void test_md_escape(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a|b", "a\\|b" },
		{ "line1\nline2", "line1 line2" },
		{ "<b>x</b>", "&lt;b&gt;x&lt;/b&gt;" },
		{ "`code` *em*", "\\`code\\` \\*em\\*" },
		{ "h1_never_ready", "h1_never_ready" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rpt_buf b = RPT_BUF_INIT;
		rpt__buf_md(&b, cases[i].in);
		assert_string_equal(b.p ? b.p : "", cases[i].out);
		rpt__buf_free(&b);
	}
}

static void test_json_brief(void **state)
{
	(void)state;
	json_t *v = json_pack("{s:[f,f,i], s:s}", "w", 500.412, 1000.0, 2000, "s", "x");
	char *a = rpt__json_brief(json_object_get(v, "w")), *b = rpt__json_brief(json_object_get(v, "s")),
	     *c = rpt__json_brief(NULL);
	assert_string_equal(a, "[500.412,1000.0,2000]");
	assert_string_equal(b, "x");
	assert_string_equal(c, "null");
	free(a);
	free(b);
	free(c);
	json_decref(v);
}

/* Durations for people (issue 14): never a raw 144235. */
static void test_fmt_duration(void **state)
{
	(void)state;
	static const struct {
		double ms;
		const char *out;
	} cases[] = {
		{ 0, "0.0 ms" },          { 0.42, "0.4 ms" },      { 9.94, "9.9 ms" },     { 9.96, "10 ms" },
		{ 92.355, "92 ms" },      { 999.4, "999 ms" },     { 999.7, "1.0 s" },     { 1400, "1.4 s" },
		{ 33012, "33.0 s" },      { 59960, "1 min 0 s" },  { 144235, "2 min 24 s" }, { 3599400, "59 min 59 s" },
		{ 3599600, "1 h 0 min" }, { 3900000, "1 h 5 min" }, { -1, "?" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[48];
		rpt__fmt_duration(out, sizeof(out), cases[i].ms);
		print_message("%g ms\n", cases[i].ms);
		assert_string_equal(out, cases[i].out);
	}
	/* points in time keep the timeline's 0.1 ms, in seconds from 10 s on */
	char at[32];
	rpt__fmt_at(at, sizeof(at), 306.44);
	assert_string_equal(at, "306.4 ms");
	rpt__fmt_at(at, sizeof(at), 144235);
	assert_string_equal(at, "144.235 s");
}

/* ---- metadata ---- */

static void test_meta_set(void **state)
{
	(void)state;
	rpt_meta m = RPT_META_INIT;
	assert_int_equal(rpt_meta_set(&m, "commit=abc123"), 0);
	assert_string_equal(m.project_commit, "abc123");
	assert_int_equal(rpt_meta_set(&m, "seed="), 0);
	assert_string_equal(m.chaos_seed, "");
	assert_int_equal(rpt_meta_set(&m, "duration_ms=1234.5"), 0);
	assert_true(m.duration_ms > 1234.4 && m.duration_ms < 1234.6);
	static const char *const bad[] = { "novalue", "=x", "duration_ms=abc", "duration_ms=-1", "duration_ms=" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rpt_meta_set(&m, bad[i]), -EINVAL);
	assert_int_equal(rpt_meta_set(NULL, "a=b"), -EINVAL);
	for (int i = 0; i < RPT_META_EXTRA_MAX; i++)
		assert_int_equal(rpt_meta_set(&m, "k=v"), 0);
	assert_int_equal(rpt_meta_set(&m, "one=toomany"), -ENOSPC);
}

/* ---- the fixtures ---- */

static const char *clause_verdict(const json_t *doc, const char *id)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(doc, "clauses"), i, c)
		if (!strcmp(rpt__str(c, "id", ""), id))
			return rpt__str(c, "verdict", "?");
	return "missing";
}

static void test_fixture_summary(void **state)
{
	char results[4096], err[512];
	snprintf(results, sizeof(results), "%s/results", testdata());
	rpt_meta meta = RPT_META_INIT;
	assert_int_equal(rpt_meta_set(&meta, "commit=feedface"), 0);
	rpt_summary s;
	memset(&s, 0xff, sizeof(s));
	assert_int_equal(rpt_generate(results, *state, &meta, &s, err, sizeof(err)), 0);
	assert_int_equal(s.clauses, 35);
	assert_int_equal(s.clauses_pass, 13);
	assert_int_equal(s.clauses_fail, 1);
	assert_int_equal(s.clauses_not_covered, 21);
	assert_int_equal(s.clauses_not_applicable, 0);
	assert_int_equal(s.results, 4);
	assert_int_equal(s.results_pass, 3);
	assert_int_equal(s.results_fail, 1);
	assert_int_equal(s.results_error, 0);
	assert_int_equal(s.results_skipped, 0);
	assert_int_equal(s.unknown_clauses, 0);
	assert_false(s.ok);
	assert_int_equal(rpt_exit_status(&s), 1);
	/* what is not covered, and how to cover it (issue 14): with unit
	 * evidence present the hint says where to look, without it how to turn
	 * the test log into evidence */
	assert_int_equal(s.results_unit, 1);
	assert_string_equal(s.not_covered_ids, "L1, L2, L3, L6, L7, H3, H5, M2, K1, S1, S2, S3, S4, O1, O2, P2, P3, A1, "
					       "A2, A3, A4");
	assert_null(strstr(rpt_evidence_hint(&s), "--testlog"));
	s.results_unit = 0;
	assert_non_null(strstr(rpt_evidence_hint(&s), "--testlog build/meson-logs/testlog.json"));
	static const char *const files[] = { "conformance.json", "conformance.md", "conformance.html", "junit.xml" };
	for (size_t i = 0; i < 4; i++) {
		char p[4096];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", (char *)*state, files[i]);
		assert_int_equal(stat(p, &st), 0);
		assert_true(st.st_size > 1000);
	}
}

/* Verdict per clause for a table of hand-made results in a temp dir. */
static void test_clause_verdicts(void **state)
{
	const char *dir = *state;
	char res[4096], out[4096], err[512];
	snprintf(res, sizeof(res), "%s/results", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	assert_int_equal(mkdir(res, 0700), 0);
	/* pass for A1; fail tagged A2 (A3 listed, stays pass); untagged invariant
	 * failure fails every listed clause (P2); error result; unknown clause */
	write_text(res, "a.json",
		   "{\"schema\":\"neira.scenario-result/1\",\"name\":\"a\",\"clauses\":[\"A1\"],\"verdict\":\"pass\"}");
	write_text(res, "b.json",
		   "{\"schema\":\"neira.scenario-result/1\",\"name\":\"b\",\"clauses\":[\"A2\",\"A3\"],\"verdict\":\"fail\","
		   "\"expectations\":[{\"id\":\"x\",\"clause\":\"A2\",\"verdict\":\"fail\",\"expected\":1,\"measured\":2}]}");
	write_text(res, "c.json",
		   "{\"schema\":\"neira.scenario-result/1\",\"name\":\"c\",\"clauses\":[\"P2\"],\"verdict\":\"fail\","
		   "\"invariants\":[{\"name\":\"no_zombie\",\"verdict\":\"fail\",\"message\":\"pid 12 left\"}]}");
	write_text(res, "d.json",
		   "{\"schema\":\"neira.scenario-result/1\",\"name\":\"d\",\"clauses\":[\"P3\",\"Z9\"],\"verdict\":\"error\","
		   "\"error\":\"could not start neira-host\"}");
	write_text(res, "e.json", "{not json");
	write_text(res, "f.json", "{\"schema\":\"neira.conformance/1\"}");
	write_text(res, "notes.txt", "ignored");

	rpt__report r;
	rpt_meta meta = RPT_META_INIT;
	assert_int_equal(rpt__build(res, &meta, &r, err, sizeof(err)), 0);
	static const struct {
		const char *id, *verdict;
	} want[] = { { "A1", "pass" }, { "A2", "fail" }, { "A3", "pass" }, { "P2", "fail" },
		     { "P3", "fail" }, { "A4", "not_covered" } };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		print_message("clause %s\n", want[i].id);
		assert_string_equal(clause_verdict(r.doc, want[i].id), want[i].verdict);
	}
	assert_int_equal(r.sum.results, 5); /* e.json as an error result, f.json skipped */
	assert_int_equal(r.sum.results_error, 2);
	assert_int_equal(r.sum.results_skipped, 1);
	assert_int_equal(r.sum.unknown_clauses, 1);
	assert_string_equal(rpt__str(json_array_get(json_object_get(r.doc, "unknown_clauses"), 0), "id", ""), "Z9");
	rpt__report_destroy(&r);

	/* and the whole thing renders */
	rpt_summary s;
	assert_int_equal(rpt_generate(res, out, NULL, &s, err, sizeof(err)), 0);
	assert_false(s.ok);
}

static void test_errors(void **state)
{
	const char *dir = *state;
	char p[4096], err[512];
	rpt_summary s;
	snprintf(p, sizeof(p), "%s/missing", dir);
	assert_int_equal(rpt_generate(p, dir, NULL, &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing"));
	assert_int_equal(rpt_generate(NULL, dir, NULL, &s, err, sizeof(err)), -EINVAL);

	/* a bad catalogue names itself */
	write_text(dir, "cat.json", "{\"schema\":\"neira.clauses/1\",\"clauses\":[{\"id\":\"X1\"}]}");
	snprintf(p, sizeof(p), "%s/cat.json", dir);
	rpt_meta meta = RPT_META_INIT;
	meta.catalogue = p;
	assert_int_equal(rpt_generate(dir, dir, &meta, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "clauses[0]"));

	/* output directory that cannot be created */
	write_text(dir, "file", "x");
	snprintf(p, sizeof(p), "%s/file/sub", dir);
	assert_true(rpt_generate(dir, p, NULL, &s, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "file/sub"));
}

/* Wrong types everywhere: the report still renders, nothing crashes or
 * leaks (this also runs under memcheck), the result counts as failed. */
static void test_malformed_result(void **state)
{
	const char *dir = *state;
	char res[4096], out[4096], err[512];
	snprintf(res, sizeof(res), "%s/results", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	assert_int_equal(mkdir(res, 0700), 0);
	write_text(res, "g.json",
		   "{\"schema\":\"neira.scenario-result/1\",\"name\":7,\"clauses\":\"H1\",\"verdict\":\"maybe\","
		   "\"duration_ms\":\"long\",\"agent\":[],\"expectations\":[1,\"x\",{\"verdict\":5,\"clause\":[]}],"
		   "\"invariants\":{},\"metrics\":[],\"error\":false,"
		   "\"events\":[{\"t_ms\":\"x\",\"event\":7},{\"event\":\"health_result\"},{\"event\":\"health_wait_end\"},"
		   "{\"event\":\"call_end\",\"t_ms\":-5},{\"event\":\"state\",\"to\":5},{\"event\":\"child_exit\"},"
		   "{\"event\":\"output\",\"line\":\"\\u001b[31m<b>\"},{\"event\":\"breaker\",\"t_ms\":1e9},"
		   "{\"event\":\"health_attempt\",\"t_ms\":3},{\"event\":\"health_wait\",\"t_ms\":4},[],null]}");
	rpt_summary s;
	assert_int_equal(rpt_generate(res, out, NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(s.results_error, 1);
	assert_false(s.ok);
}

/* Everything covered and passing, one clause not applicable: ok. */
static void test_all_pass(void **state)
{
	const char *dir = *state;
	char res[4096], cat[4096], err[512];
	snprintf(res, sizeof(res), "%s/results", dir);
	assert_int_equal(mkdir(res, 0700), 0);
	copy_fixture(res, "unit_test_sup_breaker.json");
	write_text(dir, "cat.json",
		   "{\"schema\":\"neira.clauses/1\",\"families\":{\"C\":\"Circuit breaker\"},\"clauses\":["
		   "{\"id\":\"C1\",\"family\":\"C\",\"summary\":\"s\"},{\"id\":\"C2\",\"family\":\"C\",\"summary\":\"s\"},"
		   "{\"id\":\"C3\",\"family\":\"C\",\"summary\":\"s\"},{\"id\":\"C4\",\"family\":\"C\",\"summary\":\"s\"},"
		   "{\"id\":\"C5\",\"family\":\"C\",\"summary\":\"s\",\"applies\":false,\"not_applicable\":\"why\"}]}");
	snprintf(cat, sizeof(cat), "%s/cat.json", dir);
	rpt_meta meta = RPT_META_INIT;
	meta.catalogue = cat;
	rpt_summary s;
	assert_int_equal(rpt_generate(res, dir, &meta, &s, err, sizeof(err)), 0);
	assert_int_equal(s.clauses_pass, 4);
	assert_int_equal(s.clauses_not_applicable, 1);
	assert_true(s.ok);
	assert_int_equal(rpt_exit_status(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_escape),
		cmocka_unit_test(test_md_escape),
		cmocka_unit_test(test_json_brief),
		cmocka_unit_test(test_fmt_duration),
		cmocka_unit_test(test_meta_set),
		cmocka_unit_test_setup_teardown(test_fixture_summary, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_clause_verdicts, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_errors, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_malformed_result, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_all_pass, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

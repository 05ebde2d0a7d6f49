/* Unit tests of sup_bytes (issue 15, defect 5): UTF-8 check, bytes into
 * JSON kept or flagged with their base64, and the protobuf wire reader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sup_bytes.h"

static void test_O3_utf8_table(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t n;
		bool ok;
	} rows[] = {
		{ "", 0, true },		 { "plain", 5, true },	       { "a\0b", 3, true },
		{ "\xc3\xa9", 2, true },	 { "\xe2\x82\xac", 3, true },  { "\xf0\x9f\x98\x80", 4, true },
		{ "\xff", 1, false },		 { "\xc0\xaf", 2, false },     /* overlong '/' */
		{ "\xed\xa0\x80", 3, false },	 /* surrogate */	       { "\xf4\x90\x80\x80", 4, false },
		{ "\xe2\x82", 2, false },	 /* truncated */	       { "a\x80", 2, false },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(sup_utf8_valid(rows[i].s, rows[i].n), rows[i].ok);
}

static void test_O3_json_bytes_kept_or_flagged(void **state)
{
	(void)state;
	json_t *o = json_object();
	assert_int_equal(sup_json_set_bytes(o, "plain", "caf\xc3\xa9", 5), 0);
	assert_string_equal(json_string_value(json_object_get(o, "plain")), "caf\xc3\xa9");
	assert_null(json_object_get(o, "plain_b64")); /* UTF-8: exact, no twin */
	/* NUL: U+FFFD in the text (readers reject \u0000), exact bytes in _b64 */
	assert_int_equal(sup_json_set_bytes(o, "line", "a\0b", 3), 0);
	assert_string_equal(json_string_value(json_object_get(o, "line")), "a\xef\xbf\xbd" "b");
	assert_string_equal(json_string_value(json_object_get(o, "line_b64")), "YQBi");
	assert_int_equal(sup_json_set_bytes(o, "v", "\xff\xfe" "A", 3), 0);
	assert_string_equal(json_string_value(json_object_get(o, "v")), "\xef\xbf\xbd\xef\xbf\xbd" "A");
	assert_string_equal(json_string_value(json_object_get(o, "v_b64")), "//5B");
	char *d = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(d); /* never an empty object */
	free(d);
	json_decref(o);
	static const struct {
		const char *in, *out;
	} b64[] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" } };
	for (size_t i = 0; i < 5; i++) {
		char *b = sup_base64(b64[i].in, strlen(b64[i].in));
		assert_string_equal(b, b64[i].out);
		free(b);
	}
}

static void test_O3_wire_reader(void **state)
{
	(void)state;
	const char *p;
	size_t n;
	/* field 1 varint 1, field 3 "a\0b", field 3 again "zz" (last wins) */
	static const uint8_t ok[] = { 0x08, 0x01, 0x1a, 0x03, 'a', 0, 'b', 0x1a, 0x02, 'z', 'z' };
	assert_int_equal(sup_wire_bytes(ok, sizeof(ok), 3, &p, &n), 1);
	assert_int_equal(n, 2);
	assert_memory_equal(p, "zz", 2);
	assert_int_equal(sup_wire_bytes(ok, 7, 3, &p, &n), 1);
	assert_memory_equal(p, "a\0b", 3);
	assert_int_equal(sup_wire_bytes(ok, sizeof(ok), 2, &p, &n), 0);
	assert_int_equal(n, 0);
	static const struct {
		const uint8_t b[12];
		size_t n;
	} bad[] = {
		{ { 0x1a, 0x05, 'a' }, 3 },			      /* length past the end */
		{ { 0x08 }, 1 },				      /* varint missing */
		{ { 0x0b }, 1 },				      /* group (wire type 3) */
		{ { 0x09, 1, 2, 3 }, 4 },			      /* 64-bit truncated */
		{ { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 11 }, /* > 10 bytes */
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 6 }, /* a tag longer than 5 bytes */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sup_wire_bytes(bad[i].b, bad[i].n, 3, &p, &n), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_O3_utf8_table),
		cmocka_unit_test(test_O3_json_bytes_kept_or_flagged),
		cmocka_unit_test(test_O3_wire_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

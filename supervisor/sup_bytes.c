/* sup_bytes: bytes from the agent into JSON, kept or flagged, never dropped
 * (issue 15, defect 5); a bounds-checked protobuf wire reader. */
#include "sup_bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool sup_utf8_valid(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;

	while (i < n) {
		size_t l = utf8_seq(u + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

json_t *sup_json_bytes(const char *p, size_t n, bool *lossy)
{
	const unsigned char *u = (const unsigned char *)p;
	char *out, *o;
	json_t *j;

	if (lossy)
		*lossy = false;
	if (!p)
		p = "", n = 0;
	/* NUL is valid UTF-8, but jansson's readers reject "\u0000" unless
	 * told otherwise (JSON_ALLOW_NUL): flag it like an invalid byte */
	if (sup_utf8_valid(p, n) && !memchr(p, '\0', n))
		return json_stringn(p, n);
	if (lossy)
		*lossy = true;
	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	out = malloc(n * 3 + 1); /* U+FFFD is 3 bytes, at most one per input byte */
	if (!out)
		return NULL;
	o = out;
	for (size_t i = 0; i < n;) {
		size_t l = u[i] ? utf8_seq(u + i, n - i) : 0;
		if (l) {
			memcpy(o, u + i, l);
			o += l;
			i += l;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn(out, (size_t)(o - out));
	free(out);
	return j;
}

char *sup_base64(const void *p, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = p;
	char *out, *o;

	if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	out = malloc((n + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	o = out;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)u[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)u[i + 1] << 8;
		if (i + 2 < n)
			v |= u[i + 2];
		*o++ = tbl[(v >> 18) & 63];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tbl[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

int sup_json_set_bytes(json_t *obj, const char *key, const char *p, size_t n)
{
	bool lossy = false;
	json_t *v = p ? sup_json_bytes(p, n, &lossy) : json_null();

	if (!v || json_object_set_new(obj, key, v) != 0)
		return -ENOMEM;
	if (lossy) {
		char k[128], *b = sup_base64(p, n);
		size_t kl = strlen(key);
		if (!b || kl > sizeof(k) - 5) {
			free(b);
			return -ENOMEM;
		}
		memcpy(k, key, kl);
		memcpy(k + kl, "_b64", 5);
		int rc = json_object_set_new(obj, k, json_string(b));
		free(b);
		if (rc != 0)
			return -ENOMEM;
	}
	return 0;
}

/* Varint at buf[*i..len): 0 and *v, or -EPROTO (truncated, > 10 bytes). */
static int wire_varint(const uint8_t *buf, size_t len, size_t *i, uint64_t *v)
{
	uint64_t r = 0;

	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (*i >= len)
			return -EPROTO;
		uint8_t b = buf[(*i)++];
		/* bits beyond 64 dropped, as protobuf-c does (fuzz_reply) */
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -EPROTO;
}

int sup_wire_bytes(const uint8_t *buf, size_t len, uint32_t field, const char **out, size_t *out_len)
{
	size_t i = 0;
	int found = 0;

	*out = "";
	*out_len = 0;
	if (!buf && len)
		return -EPROTO;
	while (i < len) {
		uint64_t v;
		uint32_t key = 0;
		/* the tag as protobuf-c reads it (so that both agree on every
		 * message, found by fuzz/fuzz_reply.c): at most 5 bytes, bits
		 * beyond 32 dropped */
		for (unsigned k = 0;; k++) {
			if (k == 5 || i >= len)
				return -EPROTO;
			key |= (uint32_t)(buf[i] & 0x7f) << (7 * k);
			if (!(buf[i++] & 0x80))
				break;
		}
		switch (key & 7) { /* field 0: protobuf-c skips it too */
		case 0: /* varint */
			if (wire_varint(buf, len, &i, &v) < 0)
				return -EPROTO;
			break;
		case 1: /* 64-bit */
			if (len - i < 8)
				return -EPROTO;
			i += 8;
			break;
		case 2: /* length-delimited */
			if (wire_varint(buf, len, &i, &v) < 0 || v > len - i)
				return -EPROTO;
			if ((key >> 3) == field) {
				*out = (const char *)buf + i;
				*out_len = (size_t)v;
				found = 1;
			}
			i += (size_t)v;
			break;
		case 5: /* 32-bit */
			if (len - i < 4)
				return -EPROTO;
			i += 4;
			break;
		default: /* 3/4 (groups) are not in proto3; 6/7 do not exist */
			return -EPROTO;
		}
	}
	return found;
}

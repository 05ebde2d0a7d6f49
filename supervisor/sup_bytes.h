/* sup_bytes: agent-supplied bytes into JSON without silent loss (issue 15):
 * UTF-8 check, a lossless-or-flagged JSON string, base64, and the one
 * protobuf wire reader that gives string fields back with their length
 * (protobuf-c's `char *` drops everything after an embedded NUL). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* True iff p[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). NUL bytes are valid. */
bool sup_utf8_valid(const char *p, size_t n);

/* A JSON string of p[0..n): exact when p is UTF-8 without NUL bytes;
 * otherwise each invalid byte and each NUL becomes U+FFFD and *lossy (may be
 * NULL) is set (NUL too: most JSON readers, jansson's by default, reject
 * "\u0000"). New reference; NULL only on ENOMEM. */
json_t *sup_json_bytes(const char *p, size_t n, bool *lossy);

/* obj[key] = sup_json_bytes(p, n); when that was lossy (invalid UTF-8 or a
 * NUL byte), also
 * obj[key + "_b64"] = the exact bytes in base64 (RFC 4648), so a reader can
 * always get them back. p NULL = JSON null. Returns 0 or -ENOMEM. */
int sup_json_set_bytes(json_t *obj, const char *key, const char *p, size_t n);

/* Base64 (RFC 4648, padded) of p[0..n), NUL-terminated, malloc'd (caller
 * frees); NULL on ENOMEM. */
char *sup_base64(const void *p, size_t n);

/* Protobuf wire format: find the last occurrence (proto3 "last one wins")
 * of length-delimited field `field` in buf[0..len). Returns 1 and
 * *out, *out_len pointing into buf, 0 when absent (*out = "", *out_len = 0),
 * or -EPROTO when buf is not a well-formed message (truncated varint or
 * length, a tag over 5 bytes, wire type 3/4/6/7) — the same messages
 * protobuf-c rejects (fuzz/fuzz_reply.c checks that). Never reads outside
 * buf. */
int sup_wire_bytes(const uint8_t *buf, size_t len, uint32_t field, const char **out, size_t *out_len);

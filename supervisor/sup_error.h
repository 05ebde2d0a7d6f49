/* sup_error: the structured error record of SPEC O1 — {message, stack (cause
 * chain, outermost first), context (key/values), timestamp, channel}. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SUP_ERROR_MAX_CAUSES 8
#define SUP_ERROR_MAX_CTX 16

/* Caller-owned; causes[] strings are heap-owned by the record and released
 * by sup_error_destroy(). All other storage is inline, so a record can be
 * filled on paths where allocation already failed (only causes may be lost). */
typedef struct sup_error {
	char message[512];
	char *causes[SUP_ERROR_MAX_CAUSES];
	size_t n_causes;
	struct {
		char key[32];
		char value[256];
	} ctx[SUP_ERROR_MAX_CTX];
	size_t n_ctx;
	int64_t timestamp_ms; /* wall-clock ms since epoch, display only */
	char channel[32];
	int errnum; /* positive errno or 0 */
} sup_error;

#define SUP_ERROR_INIT {0}

/* Zero the record (same state as SUP_ERROR_INIT). Does not free: use on
 * fresh storage only. */
void sup_error_init(sup_error *e);

/* Free the cause strings and reset to the SUP_ERROR_INIT state; the record
 * can be reused afterwards. NULL is a no-op. */
void sup_error_destroy(sup_error *e);

/* True once sup_error_set() has filled the record (message non-empty). */
bool sup_error_is_set(const sup_error *e);

/* Reset the record (freeing previous causes), then fill message (printf
 * style), channel (NULL → ""), errnum and timestamp (wall clock, display
 * only). If errnum > 0 also adds context "errno" = sup_errno_name(errnum).
 * Over-long texts are truncated, never overflow. e NULL is a no-op. */
void sup_error_set(sup_error *e, const char *channel, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void sup_error_vset(sup_error *e, const char *channel, int errnum, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Append a cause to the chain (outermost first: the first added is the
 * closest to the message). At most SUP_ERROR_MAX_CAUSES; extras, and causes
 * whose allocation fails, are dropped silently. */
void sup_error_add_cause(sup_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Add a context key, or replace its value if the key exists. Keys longer
 * than 31 bytes are truncated; once 16 distinct keys exist new ones are
 * dropped (replacements still work). */
void sup_error_ctx(sup_error *e, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Value of a context key, or NULL if absent. Points into the record. */
const char *sup_error_ctx_get(const sup_error *e, const char *key);

/* Symbolic errno name ("ENOENT"); accepts negative values too. Unknown
 * numbers give "E<n>" in a thread-local buffer, valid until the next call on
 * the same thread; known names are static. */
const char *sup_errno_name(int errnum);

/* Deep copy: dst is destroyed first, then receives its own cause strings.
 * dst == src is a no-op. */
void sup_error_copy(sup_error *dst, const sup_error *src);

/* JSON form: {"message", "stack": [causes…], "context": {k: v…},
 * "timestamp": "YYYY-MM-DDTHH:MM:SS.mmmZ", "channel", "errno": n}. NULL or
 * unset record → json null. New reference, owned by the caller; NULL only
 * when jansson runs out of memory. */
json_t *sup_error_to_json(const sup_error *e);

/* One human paragraph: "message\n  caused by: …\n…  context: k=v k=v".
 * Always NUL-terminates when len > 0; returns the length the full text
 * would have (snprintf semantics, so >= len means truncated), or -EINVAL. */
int sup_error_format(const sup_error *e, char *buf, size_t len);

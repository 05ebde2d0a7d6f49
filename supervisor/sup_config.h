/* sup_config: every default of SPEC.md as a configuration field, settable
 * by key (API and `neira-host --set KEY=VALUE`). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sup_error.h"

/* Caller-owned; the strings are owned by the config (NULL = unset) and
 * released by sup_config_destroy(). Defaults in comments are what
 * sup_config_init() sets, each the SPEC's value. */
typedef struct sup_config {
	char *agent_path;             /* L1: explicit path wins */
	char *agents_dir;             /* L1: <agents_dir>/<os>-<arch>/neira-agent */
	char *socket_path;            /* S1: NULL = default rule */
	bool socket_private_dir;      /* S4: false */
	bool check_peer;              /* S4: false */
	int64_t ready_timeout_ms;     /* L5: 15000 */
	int health_attempts;          /* H1: 3 */
	int64_t health_base_delay_ms; /* H1: 500 */
	int64_t health_deadline_ms;   /* H3: 1000 */
	int64_t call_deadline_ms;     /* M/C calls: 10000 */
	int breaker_threshold;        /* C1: 5 */
	int64_t breaker_open_ms;      /* C2: 30000 */
	int64_t shutdown_grace_ms;    /* L7: 2000 */
	bool restart;                 /* L8: false */
	int64_t restart_base_delay_ms;/* L8: 500 */
	int restart_max;              /* L8: 3 */
} sup_config;

/* Fill every field with its SPEC default; strings NULL. */
void sup_config_init(sup_config *c);

/* Deep copy of src into dst (dst's old strings are freed; dst must have
 * been initialised). Strings are copied byte for byte (a path need not be
 * UTF-8); every number is checked against the range sup_config_set
 * enforces. Returns 0, -ERANGE naming the field (dst unchanged), -ENOMEM,
 * -EINVAL for NULL arguments. */
int sup_config_copy(sup_config *dst, const sup_config *src, sup_error *err);

/* Free the strings and reset to the defaults. */
void sup_config_destroy(sup_config *c);

/* Set one field by its key (exactly the field names above). bools:
 * true/false/1/0/yes/no; ints: whole decimal string, >= 0 (attempts,
 * threshold >= 1; restart_max >= 0), <= 24 h for ms fields and <= 1000 for
 * counts. Strings are copied (empty string = unset). Returns 0; -ENOENT for
 * an unknown key, -EINVAL for a bad value (field unchanged), -ENOMEM; err
 * (may be NULL) names the key, the value and the cause. */
int sup_config_set(sup_config *c, const char *key, const char *value, sup_error *err);

/* "KEY=VALUE" form of sup_config_set (split at the first '='); text
 * without '=' → -EINVAL naming the text. */
int sup_config_set_kv(sup_config *c, const char *key_eq_value, sup_error *err);

/* Every key with its current value (unset strings as null). New reference;
 * NULL on ENOMEM. */
json_t *sup_config_json(const sup_config *c);

/* NULL-terminated list of the known keys, in declaration order. Static. */
const char *const *sup_config_keys(void);

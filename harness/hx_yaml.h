/* hx_yaml: libfyaml helpers shared by the scenario loader (hx_scenario.c)
 * and the action table (hx_actions.c). Each getter copies a typed value
 * into a JSON object; each returns 0 or -EINVAL with the error written. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <libfyaml.h>

typedef struct hx_yctx {
	const char *file;
	char *err;
	size_t errlen;
} hx_yctx;

/* Position of a node (its first scalar), NULL if none. */
const struct fy_mark *hx_ymark(struct fy_node *n);
/* Write "file:line:col: field F: …" and return -EINVAL. */
__attribute__((format(printf, 4, 5))) int hx_yerr(hx_yctx *c, struct fy_node *n, const char *field,
						    const char *fmt, ...);
/* YAML 1.2 core typing of a plain scalar (quoted = string). New ref. */
json_t *hx_yscalar(struct fy_node *n);
/* Any node as JSON (NULL and *rc on error). */
json_t *hx_yjson(hx_yctx *c, struct fy_node *n, const char *field, int *rc);
/* Only keys from `allowed` (NULL-terminated); an unknown one is an error
 * that names the nearest known key. */
int hx_ykeys(hx_yctx *c, struct fy_node *n, const char *field, const char *const *allowed);
struct fy_node *hx_yget(struct fy_node *map, const char *key);
int hx_ystr(hx_yctx *c, struct fy_node *map, const char *key, const char *field, bool required, json_t *dst,
	    const char *dst_key);
int hx_ynum(hx_yctx *c, struct fy_node *map, const char *key, const char *field, bool required, bool integer,
	    json_t *dst);
int hx_ybool(hx_yctx *c, struct fy_node *map, const char *key, const char *field, json_t *dst);

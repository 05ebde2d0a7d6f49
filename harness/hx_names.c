/* hx_names: every name a scenario uses is checked when the file loads,
 * through the code that reads it for real — events and their fields
 * (vocab/), fake-agent presets and script keys (fake_agents/fa_script.c),
 * supervisor config keys and values (supervisor/sup_config.c) — so a typo
 * is a load error naming the thing and the nearest valid name, never a
 * check that passes by accident (issue 10). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_script.h"
#include "hx.h"
#include "nv.h"
#include "sup_config.h"

static int bad(char *why, size_t n, const char *what, const char *name, const char *near)
{
	snprintf(why, n, "unknown %s '%s'%s%s%s", what, name, near ? " (did you mean '" : "",
		 near ? near : "", near ? "'?)" : "");
	return -EINVAL;
}

int hx_check_event(const char *name, char *why, size_t n)
{
	if (nv_event_find(name))
		return 0;
	char all[1024];
	nv_event_names(NULL, all, sizeof(all));
	const char *near = nv_nearest_event(name);
	if (near)
		return bad(why, n, "event", name, near);
	snprintf(why, n, "unknown event '%s' (events: %s)", name, all);
	return -EINVAL;
}

int hx_check_event_field(const char *event, const char *field, char *why, size_t n)
{
	const nv_event *e = nv_event_find(event);
	if (!e || nv_event_field(e, field))
		return 0;
	/* a dotted path ("error.context.errno") starts at an object field */
	const char *dot = strchr(field, '.');
	char head[64];
	if (dot && dot > field) {
		snprintf(head, sizeof(head), "%.*s", (int)(dot - field), field);
		const nv_field *f = nv_event_field(e, head);
		if (f && (f->types & NV_T_OBJ) && dot[1])
			return 0;
		if (f) {
			snprintf(why, n, "event '%s': field '%s' is not an object, so '%s' cannot go into it", event, head,
				 field);
			return -EINVAL;
		}
		field = head; /* report the unknown head, with a suggestion */
	}
	const char *names[32];
	size_t k = 0;
	for (size_t i = 0; i < e->n_fields && k < 32; i++)
		names[k++] = e->fields[i].name;
	const char *near = nv_nearest(field, names, k);
	char all[512];
	nv_event_names(e, all, sizeof(all));
	snprintf(why, n, "event '%s' has no field '%s'%s%s%s (fields: %s%st_ms)", event, field,
		 near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "", all, k ? ", " : "");
	return -EINVAL;
}

int hx_check_preset(const char *name, char *why, size_t n)
{
	if (fa_preset_find(name))
		return 0;
	const char *near = fa_preset_nearest(name);
	if (near)
		return bad(why, n, "fake-agent preset", name, near);
	snprintf(why, n, "unknown fake-agent preset '%s' (neira-fake-agent --list-presets shows them)", name);
	return -EINVAL;
}

/* The fake agent merges the preset's script, then the scenario's, and parses
 * the result: so does this check (fake_agents/fake_agent.c, same calls). */
int hx_check_script(const char *preset, const json_t *script, char *why, size_t n)
{
	json_t *acc = json_object();
	char err[512] = "";
	int rc = 0;
	const fa_preset *p = preset ? fa_preset_find(preset) : NULL;
	if (p)
		rc = fa_script_merge_text(acc, p->json, preset, err, sizeof(err));
	if (rc == 0 && json_is_object(script))
		json_object_update(acc, (json_t *)script);
	fa_script sc;
	fa_script_init(&sc);
	if (rc == 0)
		rc = fa_script_parse(acc, &sc, err, sizeof(err));
	fa_script_destroy(&sc);
	json_decref(acc);
	if (rc < 0)
		snprintf(why, n, "fake-agent script: %s", err);
	return rc < 0 ? -EINVAL : 0;
}

int hx_check_config(const char *key, const char *value, char *why, size_t n)
{
	const char *const *keys = sup_config_keys();
	size_t nk = 0;
	while (keys[nk])
		nk++;
	bool known = false;
	for (size_t i = 0; i < nk; i++)
		known = known || !strcmp(keys[i], key);
	if (!known)
		return bad(why, n, "config key", key, nv_nearest(key, keys, nk));
	/* "{dir}" stands for the scenario's temp dir, an absolute path */
	char val[1024];
	const char *d = strstr(value, "{dir}");
	if (d)
		snprintf(val, sizeof(val), "%.*s/tmp/hx%s", (int)(d - value), value, d + 5);
	else
		snprintf(val, sizeof(val), "%s", value);
	sup_config cfg;
	sup_config_init(&cfg);
	sup_error err = SUP_ERROR_INIT;
	int rc = sup_config_set(&cfg, key, val, &err);
	if (rc < 0)
		snprintf(why, n, "%s", err.message[0] ? err.message : "invalid value");
	sup_error_destroy(&err);
	sup_config_destroy(&cfg);
	return rc < 0 ? -EINVAL : 0;
}

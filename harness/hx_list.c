/* hx_list: the scenario directory — every NAME.yaml loaded and checked
 * (its name is its file name), sorted by name. Used by run, list, report
 * and prove. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx_internal.h"


static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int yaml_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 5 && !strcmp(d->d_name + n - 5, ".yaml") && d->d_name[0] != '.';
}

void hx_entry_load(hx_entry *it)
{
	int rc = hx_scenario_load(it->path, &it->sc, it->err, sizeof(it->err));
	if (rc < 0)
		return;
	/* a scenario's name is its file name, so `run NAME` finds it */
	const char *base = strrchr(it->path, '/');
	base = base ? base + 1 : it->path;
	if (strncmp(base, it->sc->name, strlen(it->sc->name)) || strcmp(base + strlen(it->sc->name), ".yaml")) {
		snprintf(it->err, sizeof(it->err), "%s: field name: '%s' does not match the file name",
			 it->path, it->sc->name);
		hx_scenario_free(it->sc);
		it->sc = NULL;
	}
}

int hx_list_dir(const char *dir, hx_entry **out, size_t *n)
{
	struct dirent **ents;
	int k = scandir(dir, &ents, yaml_filter, by_name);
	if (k < 0) {
		fprintf(stderr, "neira-harness: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	*out = calloc((size_t)k + 1, sizeof(hx_entry));
	for (int i = 0; i < k; i++) {
		size_t l = strlen(dir) + strlen(ents[i]->d_name) + 2;
		(*out)[i].path = malloc(l);
		snprintf((*out)[i].path, l, "%s/%s", dir, ents[i]->d_name);
		hx_entry_load(&(*out)[i]);
		free(ents[i]);
	}
	free(ents);
	*n = (size_t)k;
	return 0;
}

void hx_entries_free(hx_entry *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(it[i].path);
		hx_scenario_free(it[i].sc);
	}
	free(it);
}

const char *hx_entry_name(const hx_entry *it)
{
	if (it->sc)
		return it->sc->name;
	const char *b = strrchr(it->path, '/');
	return b ? b + 1 : it->path;
}


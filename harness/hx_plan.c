/* hx_plan: fault plans in scenarios (issue 6) — validation of the `faults:`
 * list, turning a plan into the host's environment (in-code and
 * supervisor-side posix points through NEIRA_FAULTS, agent-side posix points
 * through neira-fault-exec and libfiu's preloads), faults that start after
 * an event (a drive "fault" command, or libfiu's FIFO remote control for the
 * agent), and the check that each fault actually fired. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flt.h"
#include "hx_internal.h"

#ifndef HX_FAULT_EXEC
#define HX_FAULT_EXEC "neira-fault-exec"
#endif
#define HX_FIU_DIR "/usr/lib/fiu"

/* ---- applying a plan ------------------------------------------------------- */

/* The entry the host's runtime takes: the plan's own form, side
 * "supervisor", read there by the same parser (faults/flt_plan.c). */
static json_t *host_entry(const json_t *f)
{
	json_t *o = json_pack("{s:O, s:s, s:O, s:O}", "point", json_object_get(f, "point"), "side", "supervisor",
			      "mode", json_object_get(f, "mode"), "seed", json_object_get(f, "seed"));
	if (json_is_integer(json_object_get(f, "errno")))
		json_object_set(o, "errno", json_object_get(f, "errno"));
	static const char *const keep[] = { "nth", "probability", "when" };
	for (size_t i = 0; i < 3; i++)
		if (json_object_get(f, keep[i]) && !json_is_null(json_object_get(f, keep[i])))
			json_object_set(o, keep[i], json_object_get(f, keep[i]));
	return o;
}

/* One libfiu remote-control / FIU_ENABLE command (fiu-run syntax). */
static void fiu_command(const json_t *f, char *buf, size_t len)
{
	const char *mode = json_string_value(json_object_get(f, "mode"));
	json_t *en = json_object_get(f, "errno");
	char info[32] = "";
	if (json_is_integer(en))
		snprintf(info, sizeof(info), ",failinfo=%lld", (long long)json_integer_value(en));
	if (!strcmp(mode, "probability"))
		snprintf(buf, len, "enable_random name=%s,probability=%g%s",
			 json_string_value(json_object_get(f, "point")),
			 json_number_value(json_object_get(f, "probability")), info);
	else
		snprintf(buf, len, "enable name=%s%s%s", json_string_value(json_object_get(f, "point")), info,
			 !strcmp(mode, "once") ? ",onetime" : "");
}

static bool on_side(const json_t *f, const char *side)
{
	const char *s = json_string_value(json_object_get(f, "side"));
	return !strcmp(s, side) || !strcmp(s, "both");
}

static void add_env(char ***envp, size_t *n, const char *k, const char *v)
{
	size_t l = strlen(k) + strlen(v) + 2;
	char *s = malloc(l);
	if (!s)
		return;
	snprintf(s, l, "%s=%s", k, v);
	(*envp)[(*n)++] = s;
}

int hx_faults_setup(hx_faults *fx, const json_t *faults, const char *dir, const char *agent_path,
		    char ***envp, size_t *n_env, char **host_agent, char *err, size_t errlen)
{
	memset(fx, 0, sizeof(*fx));
	fx->pending = json_array();
	fx->agent_pid = 0;
	if (!json_array_size(faults))
		return 0;
	json_t *host_plan = json_array();
	char agent_en[8192] = "";
	json_int_t agent_seed = 0; /* one per agent (the parser checks it) */
	bool host_preload = false, agent_posix = false, agent_ctrl = false;
	size_t i;
	json_t *f;
	json_array_foreach(faults, i, f) {
		bool code = !strcmp(json_string_value(json_object_get(f, "kind")), "code");
		bool later = !json_is_null(json_object_get(f, "when"));
		if (later && !code && on_side(f, "agent"))
			json_array_append(fx->pending, (json_t *)f);
		if (on_side(f, "supervisor")) {
			if (!code)
				host_preload = true;
			/* a `when` on the supervisor side is started by
			 * neira-host itself, at the event (flt_on_event) */
			json_array_append_new(host_plan, host_entry(f));
		}
		if (!code && on_side(f, "agent")) {
			agent_posix = true;
			if (json_integer_value(json_object_get(f, "seed")))
				agent_seed = json_integer_value(json_object_get(f, "seed"));
			if (later) {
				agent_ctrl = true;
			} else {
				size_t l = strlen(agent_en);
				fiu_command(f, agent_en + l + (l ? 1 : 0), sizeof(agent_en) - l - 1);
				if (l)
					agent_en[l] = '\n';
			}
		}
	}
	/* the FIFOs of libfiu's remote control live next to the scenario dir,
	 * not in it: the stray-file invariant must not see them */
	snprintf(fx->ctrl_dir, sizeof(fx->ctrl_dir), "%s-fiu", dir);
	if (agent_ctrl && mkdir(fx->ctrl_dir, 0700) < 0) {
		snprintf(err, errlen, "mkdir %s: %s", fx->ctrl_dir, strerror(errno));
		json_decref(host_plan);
		return -errno;
	}
	if (!agent_ctrl)
		fx->ctrl_dir[0] = '\0';
	if (json_array_size(host_plan)) {
		char *t = json_dumps(host_plan, JSON_COMPACT);
		add_env(envp, n_env, "NEIRA_FAULTS", t ? t : "[]");
		free(t);
	}
	json_decref(host_plan);
	if (host_preload) {
		add_env(envp, n_env, "LD_PRELOAD", HX_FIU_DIR "/fiu_run_preload.so " HX_FIU_DIR "/fiu_posix_preload.so");
		add_env(envp, n_env, "FIU_ENABLE", "");
		add_env(envp, n_env, "FIU_CTRL_FIFO", "");
	}
	if (host_preload || agent_posix) {
		/* the agent goes through neira-fault-exec: the supervisor's
		 * preload must not leak to it (L3 passes the environment on) */
		const char *fe = getenv("NEIRA_FAULT_EXEC");
		add_env(envp, n_env, "NEIRA_FAULT_EXEC_AGENT", agent_path);
		if (agent_posix)
			add_env(envp, n_env, "NEIRA_FAULT_AGENT_ENABLE", agent_en);
		if (agent_seed) { /* libfiu's own PRNG in the agent: FIU_PRNG_SEED */
			char sd[32];
			snprintf(sd, sizeof(sd), "%lld", (long long)agent_seed);
			add_env(envp, n_env, "NEIRA_FAULT_AGENT_SEED", sd);
		}
		if (agent_ctrl) {
			char p[sizeof(fx->ctrl_dir) + 8];
			snprintf(p, sizeof(p), "%s/agent", fx->ctrl_dir);
			add_env(envp, n_env, "NEIRA_FAULT_AGENT_CTRL", p);
		}
		*host_agent = strdup(fe && *fe ? fe : HX_FAULT_EXEC);
	}
	return 0;
}

/* Send one command to the agent's libfiu remote control and read its reply
 * (0 = done). Bounded: 2 s. */
static int agent_ctrl(hx_faults *fx, const char *cmd)
{
	char in[800], out[800];
	snprintf(in, sizeof(in), "%s/agent-%d.in", fx->ctrl_dir, (int)fx->agent_pid);
	snprintf(out, sizeof(out), "%s/agent-%d.out", fx->ctrl_dir, (int)fx->agent_pid);
	int ofd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (ofd < 0)
		return -errno;
	int ifd = open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (ifd < 0) {
		int e = -errno;
		close(ofd);
		return e;
	}
	char line[600];
	int l = snprintf(line, sizeof(line), "%s\n", cmd);
	ssize_t w = write(ifd, line, (size_t)l);
	close(ifd);
	int rc = w == l ? -ETIMEDOUT : -EIO;
	double end = hx_now_ms() + 2000;
	while (w == l && hx_now_ms() < end) {
		struct pollfd p = { .fd = ofd, .events = POLLIN };
		if (poll(&p, 1, (int)(end - hx_now_ms()) + 1) <= 0)
			continue;
		char r[32];
		ssize_t n = read(ofd, r, sizeof(r) - 1);
		if (n > 0) {
			r[n] = '\0';
			rc = atoi(r) == 0 ? 0 : -EIO;
			break;
		}
	}
	close(ofd);
	return rc;
}

void hx_faults_on_event(hx_faults *fx, const json_t *ev, int (*send)(void *ud, json_t *cmd), void *ud)
{
	const char *name = json_string_value(json_object_get(ev, "event"));
	if (!name || !fx->pending)
		return;
	if (!strcmp(name, "spawn"))
		fx->agent_pid = (pid_t)json_integer_value(json_object_get(ev, "pid"));
	size_t i = 0;
	while (i < json_array_size(fx->pending)) {
		json_t *f = json_array_get(fx->pending, i);
		if (strcmp(json_string_value(json_object_get(json_object_get(f, "when"), "after_event")), name)) {
			i++;
			continue;
		}
		(void)send; /* supervisor-side faults start inside neira-host */
		(void)ud;
		if (!strcmp(json_string_value(json_object_get(f, "kind")), "posix") && on_side(f, "agent") &&
		    fx->agent_pid > 0 && fx->ctrl_dir[0]) {
			char c[600];
			fiu_command(f, c, sizeof(c));
			int rc = agent_ctrl(fx, c);
			fx->agent_ctrl_rc = rc;
			if (getenv("HX_FAULTS_DEBUG"))
				fprintf(stderr, "hx_faults: agent %d: %s -> %d\n", (int)fx->agent_pid, c, rc);
			if (rc < 0)
				fx->agent_ctrl_failures++;
		}
		json_array_remove(fx->pending, i);
	}
}

void hx_faults_cleanup(hx_faults *fx)
{
	if (fx->ctrl_dir[0]) {
		DIR *d = opendir(fx->ctrl_dir);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d))) {
				char p[1200];
				if (e->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "%s/%s", fx->ctrl_dir, e->d_name);
				unlink(p);
			}
			closedir(d);
		}
		rmdir(fx->ctrl_dir);
		fx->ctrl_dir[0] = '\0';
	}
	json_decref(fx->pending);
	fx->pending = NULL;
}


/* A fault plan proves nothing if its fault never fired (issue 10): every
 * supervisor-side entry must show fired >= 1 in the host's last snapshot
 * ("faults": {point: {calls, fired}}). Agent-side points fire inside the
 * agent, where nothing counts them: no expectation is recorded for them (a
 * check that cannot be made is not reported as passed). */
void hx_faults_check_fired(hx_checker *c, const json_t *faults, const json_t *final_snap)
{
	size_t i;
	json_t *f;
	json_array_foreach(faults, i, f) {
		const char *side = json_string_value(json_object_get(f, "side"));
		const char *point = json_string_value(json_object_get(f, "point"));
		if (!side || !point || !strcmp(side, "agent"))
			continue;
		json_t *st = json_object_get(json_object_get(final_snap, "faults"), point);
		json_int_t fired = json_integer_value(json_object_get(st, "fired"));
		char desc[300], msg[300] = "";
		snprintf(desc, sizeof(desc), "fault %s (faults[%zu]) fired at least once", point, i);
		if (!st)
			snprintf(msg, sizeof(msg), "the host reports no count for %s (not enabled, or a host "
				 "without fault counts)", point);
		else if (fired < 1)
			snprintf(msg, sizeof(msg), "%s was evaluated %lld time(s) and never fired: the scenario "
				 "did not test what it claims", point,
				 (long long)json_integer_value(json_object_get(st, "calls")));
		hx_add_exp(c, "O1", "fault_fired", desc, st && fired >= 1,
			   json_pack("{s:s,s:i}", "point", point, "fired_min", 1), st ? json_deep_copy(st) : NULL, msg);
	}
}

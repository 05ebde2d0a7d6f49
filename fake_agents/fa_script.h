/* fa_script: the script of a fake agent (neira-fake-agent) — what it does
 * wrong, and when — parsed from JSON with jansson, plus the named presets.
 * Prefix fa_. The grammar is documented in `neira-fake-agent --help`. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	FA_MARKER_NORMAL,      /* "AGENT_READY\n" after bind (A1) */
	FA_MARKER_NEVER,       /* never print it */
	FA_MARKER_BEFORE_BIND, /* print it, then bind after bind_delay_ms (a lie) */
	FA_MARKER_SPLIT,       /* "AGENT_" and "READY\n" in two write()s */
	FA_MARKER_CRLF,        /* "AGENT_READY\r\n" */
} fa_marker;

typedef enum {
	FA_BIND_NORMAL,           /* the gRPC server on the socket path */
	FA_BIND_NONE,             /* never bind */
	FA_BIND_OTHER_PATH,       /* the gRPC server on "<socket>.other" */
	FA_BIND_STALE_FILE,       /* bind a raw socket, close it: the file stays, refusing */
	FA_BIND_IMPOSTOR_SILENT,  /* a raw listener that accepts and never answers */
	FA_BIND_IMPOSTOR_GARBAGE, /* a raw listener that writes garbage and closes */
} fa_bind;

typedef enum {
	FA_EXIT_NEVER,       /* no scripted exit */
	FA_EXIT_BEFORE_BIND, /* after_ms (default 0) after start, before binding */
	FA_EXIT_AFTER_BIND,  /* after_ms after the bind step */
	FA_EXIT_AFTER_READY, /* after_ms after the marker step */
	FA_EXIT_AFTER_MS,    /* after_ms after process start, whatever step it is in */
} fa_exit_when;

typedef enum { FA_METHODS_PASCAL, FA_METHODS_CAMEL, FA_METHODS_BOTH, FA_METHODS_NONE } fa_methods;
typedef enum { FA_CRASH_ABORT, FA_CRASH_SEGV, FA_CRASH_EXIT } fa_crash_how;
typedef enum { FA_TERM_EXIT, FA_TERM_IGNORE, FA_TERM_SLOW } fa_sigterm;

/* The three PythonAgent methods, the keys of "calls". */
typedef enum { FA_M_HEALTH, FA_M_PROMPT, FA_M_CALL, FA_M_COUNT } fa_method_id;

/* PascalCase name of a method ("HealthCheck"); camel = true gives
 * "healthCheck". Static storage. */
const char *fa_method_name(fa_method_id m, bool camel);

typedef struct fa_call_script {
	int64_t crash_on;      /* crash on this call (1-based); 0 = never */
	fa_crash_how crash_how;
	int exit_code;         /* for crash_how exit */
	bool hang;             /* never answer (until cancelled or shut down) */
	int64_t delay_ms;      /* wait before answering */
	int status;            /* answer this gRPC status instead; 0 = answer normally */
	char *details;         /* status details (owned), NULL = a default text */
	/* issue 15: hostile replies (ProcessPrompt and CallCustomFunction) */
	int64_t fail_every;    /* every Nth call answers UNAVAILABLE (soak); 0 = never */
	int64_t reply_bytes;   /* answer a text/result of this many 'x' bytes; 0 = normal */
	char *text;            /* answer exactly these bytes (owned; from "text_hex") */
	size_t text_len;
	bool has_text;
	/* issue 16 (L8): before crashing, fork a holder that leaves the
	 * process group (setsid) and keeps every descriptor — the call's
	 * connection included — open this long; 0 = none */
	int64_t crash_holder_ms;
	/* issue 16 (L8): before crashing, shut down every socket (the call's
	 * stream breaks) and go on living this long, like a runtime that closes
	 * its connections while it dies; 0 = none */
	int64_t crash_close_first_ms;
} fa_call_script;

typedef enum { FA_FLOOD_NONE, FA_FLOOD_STDOUT, FA_FLOOD_STDERR, FA_FLOOD_BOTH } fa_flood_stream;

typedef struct fa_script {
	int64_t bind_delay_ms;
	int64_t listen_delay_ms; /* socket file bound but not listening this long first */
	fa_marker marker;
	int64_t marker_delay_ms;
	int64_t marker_split_gap_ms;
	int64_t noise_gap_ms;     /* pause after the noise/near misses, before the marker (L4) */
	char **stdout_noise; /* owned, n_stdout_noise entries */
	size_t n_stdout_noise;
	bool near_misses;
	int64_t huge_line_bytes;
	char **stderr_lines; /* owned */
	size_t n_stderr_lines;
	fa_bind bind;
	bool leave_socket;   /* on a SIGTERM stop, leave the socket file behind */
	bool serve_from_child; /* fork first: a child serves, this process only relays
				* signals (a launcher; S4 peer check sees another pid) */
	struct {
		fa_exit_when when;
		int64_t after_ms;
		int code;        /* exit code, when signal is 0 */
		int signal;      /* die by this signal; 0 = exit with code */
	} exit;
	fa_methods methods;
	struct {
		int64_t unhealthy_first;
		int64_t delay_ms;
		bool hang;
		char *service; /* issue 16 (H2): answer NOT_FOUND unless the request names it (owned) */
	} health;
	fa_call_script calls[FA_M_COUNT];
	fa_sigterm sigterm;
	int64_t shutdown_delay_ms; /* -1 = default: 0 for exit, 3000 for slow */
	int exit_code_on_term;
	/* ---- issue 15: hostile agents ---- */
	struct {
		fa_flood_stream stream; /* a forked child writes lines forever (like `yes &`) */
		bool after_ready;       /* start it after the marker, else at start */
	} flood;
	struct {
		int64_t count;          /* fork this many children that sleep holding stdout */
		bool ignore_sigterm;
		bool detach;            /* double fork: grandchildren whose parent is gone */
	} children;
	bool setsid;                    /* call setsid() first (new session and group) */
	char *privdir_swap;             /* replace the socket's directory with a symlink here */
	bool print_fds;                 /* print "fds: 0 1 2 …" (open descriptors) on stdout at start */
	char *version;                  /* health.version_hex: HealthCheck version bytes (owned) */
	size_t version_len;
	bool has_version;
} fa_script;

/* Defaults: a well-behaved agent (same as the script "{}"). */
void fa_script_init(fa_script *s);
/* Free what s owns and reset it to the defaults. */
void fa_script_destroy(fa_script *s);

/* Fill s (initialised with fa_script_init) from the JSON object obj. Every
 * key is optional; an unknown key or a value of the wrong type or range gives
 * -EINVAL and a message naming the key ("health.delay_ms: ...") in err. On
 * failure s may be partly filled: fa_script_destroy() it. */
int fa_script_parse(const json_t *obj, fa_script *s, char *err, size_t errlen);

/* Parse text (a JSON object) and merge its top-level keys into acc (later
 * sources override earlier ones). origin names the source in errors, e.g.
 * "--script-json" or a file name. Returns 0 or -EINVAL with err filled. */
int fa_script_merge_text(json_t *acc, const char *text, const char *origin, char *err, size_t errlen);
/* The same for a file. -errno (err filled) if it cannot be read. */
int fa_script_merge_file(json_t *acc, const char *file, char *err, size_t errlen);

/* "SIGSEGV", "SEGV", "11" → 11; 0 if not a signal this module knows. */
int fa_signal_parse(const char *s);

/* ---- presets: named scripts --------------------------------------------- */

typedef struct fa_preset {
	const char *name;
	const char *description; /* one line */
	const char *json;        /* the script */
} fa_preset;

/* The preset table (static storage), *n set to its length. */
const fa_preset *fa_presets(size_t *n);
/* The preset called name, or NULL. */
const fa_preset *fa_preset_find(const char *name);
/* The preset name nearest to a misspelt one (for "did you mean"), or NULL. */
const char *fa_preset_nearest(const char *name);

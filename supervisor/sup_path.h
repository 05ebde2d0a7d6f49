/* sup_path: where the agent's socket lives (SPEC S1, S3) and where its
 * executable is (L1). Pure string rules; the environment is injectable. */
#pragma once

#include <stddef.h>

#include "sup_error.h"

/* Longest socket path a sockaddr_un holds on Linux, without the NUL. */
#define SUP_SOCKET_PATH_MAX 107

typedef const char *(*sup_getenv_fn)(const char *name);

/* S1: $NEIRA_SOCKET_PATH if set and non-empty; else
 * <tmpdir>/neira_agent.sock with tmpdir = $TMPDIR minus trailing slashes
 * ("/" stays "/"), or /tmp when TMPDIR is unset or empty. Then the S3 check.
 * getenv_fn NULL = getenv(3). Writes into out (caller's buffer). Returns 0,
 * or a negative errno (-ENAMETOOLONG, -EINVAL, -ENOBUFS when outlen is too
 * small) with err filled. */
int sup_path_default_socket(sup_getenv_fn getenv_fn, char *out, size_t outlen, sup_error *err);

/* S3: the path must be absolute and at most SUP_SOCKET_PATH_MAX bytes.
 * Returns 0, -EINVAL (NULL/empty/relative) or -ENAMETOOLONG; the message
 * names the path, its length and the limit. */
int sup_path_check_socket(const char *path, sup_error *err);

/* This machine's node-style names: os "linux"/"darwin"/"win32"/…, arch
 * "x64"/"arm64"/"ia32"/"arm"/… (from uname(2)). Static storage. */
const char *sup_path_host_os(void);
const char *sup_path_host_arch(void);

/* L1: explicit_path (non-empty) wins; else
 * <agents_dir>/<os>-<arch>/neira-agent, plus ".exe" when os is "win32".
 * os/arch NULL = this machine. agents_dir NULL/empty without an explicit
 * path → -EINVAL; result too long for out → -ENAMETOOLONG. */
int sup_path_agent(const char *explicit_path, const char *agents_dir, const char *os, const char *arch,
                   char *out, size_t outlen, sup_error *err);

/* flt_errno: errno names <-> values for fault plans (no libfiu needed, so
 * the harness links it too). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flt.h"

static const struct {
	const char *name;
	int e;
} errnos[] = {
	{ "EPERM", EPERM },     { "ENOENT", ENOENT },       { "EINTR", EINTR },
	{ "EIO", EIO },         { "E2BIG", E2BIG },         { "ENOEXEC", ENOEXEC },
	{ "EBADF", EBADF },     { "EAGAIN", EAGAIN },       { "ENOMEM", ENOMEM },
	{ "EACCES", EACCES },   { "EFAULT", EFAULT },       { "EBUSY", EBUSY },
	{ "EEXIST", EEXIST },   { "EINVAL", EINVAL },       { "ENFILE", ENFILE },
	{ "EMFILE", EMFILE },   { "ENOSPC", ENOSPC },       { "EPIPE", EPIPE },
	{ "ENOSYS", ENOSYS },   { "EADDRINUSE", EADDRINUSE }, { "EADDRNOTAVAIL", EADDRNOTAVAIL },
	{ "ENETDOWN", ENETDOWN }, { "ECONNABORTED", ECONNABORTED }, { "ECONNRESET", ECONNRESET },
	{ "ENOBUFS", ENOBUFS }, { "ETIMEDOUT", ETIMEDOUT }, { "ECONNREFUSED", ECONNREFUSED },
	{ "EHOSTUNREACH", EHOSTUNREACH }, { "EALREADY", EALREADY }, { "EINPROGRESS", EINPROGRESS },
	{ "ENOTCONN", ENOTCONN }, { "ENOTSOCK", ENOTSOCK }, { "EPROTO", EPROTO },
};

int flt_errno_from_name(const char *name)
{
	if (!name || !*name)
		return 0;
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcmp(name, errnos[i].name) == 0)
			return errnos[i].e;
	char *end;
	long v = strtol(name, &end, 10);
	return *end == '\0' && v > 0 && v < 4096 ? (int)v : 0;
}

const char *flt_errno_name(int e)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].e == e)
			return errnos[i].name;
	return NULL;
}


/* rpc internals shared by rpc_client.c and rpc_server.c; not installed. */
#pragma once

#include "rpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

gpr_timespec rpc__deadline(int64_t timeout_ms);
int rpc__bytes_from_bb(grpc_byte_buffer *bb, uint8_t **data, size_t *len);
grpc_byte_buffer *rpc__bb_from_bytes(const void *data, size_t len);
void rpc__set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

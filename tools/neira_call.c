/* neira-call: one gRPC call to an agent on a Unix socket, printed as JSON.
 * A debugging tool (like a tiny grpcurl for this contract) and the C side of
 * the cross-stack tests: it talks to any agent, whatever its language. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "health.pb-c.h"
#include "neira_config.h"
#include "rpc.h"

#define SVC "/neira.agent.v1.PythonAgent/"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: neira-call [--timeout MS] [--path METHOD_PATH] SOCKET COMMAND [ARGS]\n"
		"\n"
		"Makes one unary gRPC call to the agent listening on the Unix socket SOCKET\n"
		"and prints the outcome as one JSON object on stdout.\n"
		"\n"
		"Commands:\n"
		"  health                 neira.agent.v1.PythonAgent/HealthCheck {service: python-agent}\n"
		"  prompt TEXT            ProcessPrompt {prompt: TEXT}\n"
		"  call NAME [ARGS_JSON]  CallCustomFunction {name: NAME, args_json: ARGS_JSON}\n"
		"  std-health             grpc.health.v1.Health/Check {service: \"\"}\n"
		"  raw                    an empty request message to --path (status only)\n"
		"\n"
		"Options:\n"
		"  --timeout MS   call deadline (default 5000)\n"
		"  --path PATH    override the method path, e.g. /neira.agent.v1.PythonAgent/healthCheck\n"
		"\n"
		"Exit status: 0 status OK, 1 any other gRPC status, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	long timeout = 5000;
	const char *path_opt = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "t:p:hV", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 't':
			timeout = strtol(optarg, &end, 10);
			if (*end || timeout <= 0) {
				fprintf(stderr, "neira-call: --timeout %s: not a positive number of ms\n", optarg);
				return 2;
			}
			break;
		case 'p':
			path_opt = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("neira-call %s\n", NEIRA_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	const char *sock = argv[optind], *cmd = argv[optind + 1];
	char **rest = argv + optind + 2;
	int nrest = argc - optind - 2;

	const char *path = NULL;
	uint8_t *req = NULL;
	size_t req_len = 0;
	const ProtobufCMessageDescriptor *reply_desc = NULL;
	ProtobufCMessage *msg = NULL;

	Neira__Agent__V1__HealthCheckRequest hreq = NEIRA__AGENT__V1__HEALTH_CHECK_REQUEST__INIT;
	Neira__Agent__V1__ProcessPromptRequest preq = NEIRA__AGENT__V1__PROCESS_PROMPT_REQUEST__INIT;
	Neira__Agent__V1__CallCustomFunctionRequest creq = NEIRA__AGENT__V1__CALL_CUSTOM_FUNCTION_REQUEST__INIT;
	Grpc__Health__V1__HealthCheckRequest sreq = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;

	if (strcmp(cmd, "health") == 0 && nrest == 0) {
		hreq.service = "python-agent";
		msg = &hreq.base;
		path = SVC "HealthCheck";
		reply_desc = &neira__agent__v1__health_check_response__descriptor;
	} else if (strcmp(cmd, "prompt") == 0 && nrest == 1) {
		preq.prompt = rest[0];
		msg = &preq.base;
		path = SVC "ProcessPrompt";
		reply_desc = &neira__agent__v1__process_prompt_response__descriptor;
	} else if (strcmp(cmd, "call") == 0 && (nrest == 1 || nrest == 2)) {
		creq.name = rest[0];
		creq.args_json = nrest == 2 ? rest[1] : "";
		msg = &creq.base;
		path = SVC "CallCustomFunction";
		reply_desc = &neira__agent__v1__call_custom_function_response__descriptor;
	} else if (strcmp(cmd, "std-health") == 0 && nrest == 0) {
		msg = &sreq.base;
		path = "/grpc.health.v1.Health/Check";
		reply_desc = &grpc__health__v1__health_check_response__descriptor;
	} else if (strcmp(cmd, "raw") == 0 && nrest == 0 && path_opt) {
		path = path_opt;
	} else {
		fprintf(stderr, "neira-call: bad command or arguments: %s\n", cmd);
		usage(stderr);
		return 2;
	}
	if (path_opt)
		path = path_opt;
	if (msg) {
		req_len = protobuf_c_message_get_packed_size(msg);
		req = malloc(req_len + 1);
		protobuf_c_message_pack(msg, req);
	}

	rpc_global_init();
	rpc_client *cli = NULL;
	int rc = rpc_client_new(sock, NULL, &cli);
	if (rc < 0) {
		fprintf(stderr, "neira-call: channel to unix:%s: %s\n", sock, strerror(-rc));
		free(req);
		rpc_global_shutdown();
		return 2;
	}
	rpc_result res = RPC_RESULT_INIT;
	rc = rpc_client_call(cli, path, req, req_len, timeout, &res);
	free(req);
	int exit_code = 1;
	json_t *out = json_object();
	json_object_set_new(out, "path", json_string(path));
	if (rc < 0) {
		json_object_set_new(out, "error", json_sprintf("call %s: %s", path, strerror(-rc)));
	} else {
		json_object_set_new(out, "status", json_string(rpc_status_name(res.status)));
		json_object_set_new(out, "code", json_integer(res.status));
		json_object_set_new(out, "details", json_string(res.details ? res.details : ""));
		if (res.status == RPC_OK) {
			exit_code = 0;
			if (reply_desc) {
				ProtobufCMessage *reply = protobuf_c_message_unpack(reply_desc, NULL, res.len, res.data);
				if (!reply) {
					json_object_set_new(out, "error", json_string("reply does not parse"));
					exit_code = 1;
				} else {
					json_t *fields = json_object();
					for (unsigned i = 0; i < reply_desc->n_fields; i++) {
						const ProtobufCFieldDescriptor *fd = &reply_desc->fields[i];
						const void *p = (const char *)reply + fd->offset;
						json_t *v = NULL;
						switch (fd->type) {
						case PROTOBUF_C_TYPE_STRING:
							v = json_string(*(char *const *)p);
							break;
						case PROTOBUF_C_TYPE_BOOL:
							v = json_boolean(*(const protobuf_c_boolean *)p);
							break;
						case PROTOBUF_C_TYPE_INT32:
						case PROTOBUF_C_TYPE_ENUM:
							v = json_integer(*(const int32_t *)p);
							break;
						case PROTOBUF_C_TYPE_INT64:
							v = json_integer(*(const int64_t *)p);
							break;
						default:
							break; /* nested messages are not shown */
						}
						if (v)
							json_object_set_new(fields, fd->name, v);
					}
					json_object_set_new(out, "reply", fields);
					protobuf_c_message_free_unpacked(reply, NULL);
				}
			}
		}
	}
	char *text = json_dumps(out, JSON_COMPACT);
	puts(text);
	free(text);
	json_decref(out);
	rpc_result_destroy(&res);
	rpc_client_free(cli);
	rpc_global_shutdown();
	return exit_code;
}

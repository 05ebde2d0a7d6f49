#!/usr/bin/python3
"""Cross-stack proof, part 2: the project's C client (rpc module, through the
neira-call tool) calls a small agent written with Python grpcio over a real
Unix socket. The Python server is grpc's other implementation of the wire, so
passing here means the C side speaks real gRPC, not just to itself.

usage: test_c_client_py_server.py --neira-call PATH --proto-dir DIR
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest
from concurrent import futures

import grpc
from grpc_tools import protoc

ARGS = None
PB = {}
SVC = "neira.agent.v1.PythonAgent"


class PyAgent:
    """The contract's three methods, in Python; PascalCase paths only."""

    def health(self, req, ctx):
        a = PB["agent"]
        return a.HealthCheckResponse(healthy=req.service == "python-agent", message="py ok",
                                     version="py-agent 1", pid=os.getpid())

    def prompt(self, req, ctx):
        a = PB["agent"]
        return a.ProcessPromptResponse(text="py:" + req.prompt[::-1], request_id=req.request_id)

    def call(self, req, ctx):
        a = PB["agent"]
        if req.name == "boom":
            ctx.abort(grpc.StatusCode.INTERNAL, "boom from python")
        return a.CallCustomFunctionResponse(result_json=json.dumps({"name": req.name, "args": json.loads(req.args_json or "null")}))


def start_server(sock):
    a = PB["agent"]
    impl = PyAgent()
    handlers = {
        "HealthCheck": grpc.unary_unary_rpc_method_handler(impl.health, a.HealthCheckRequest.FromString,
                                                           a.HealthCheckResponse.SerializeToString),
        "ProcessPrompt": grpc.unary_unary_rpc_method_handler(impl.prompt, a.ProcessPromptRequest.FromString,
                                                             a.ProcessPromptResponse.SerializeToString),
        "CallCustomFunction": grpc.unary_unary_rpc_method_handler(impl.call, a.CallCustomFunctionRequest.FromString,
                                                                  a.CallCustomFunctionResponse.SerializeToString),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SVC, handlers),))
    if server.add_insecure_port("unix:" + sock) == 0:
        raise RuntimeError("python server cannot bind unix:" + sock)
    server.start()
    return server


def neira_call(*args):
    p = subprocess.run([ARGS.neira_call, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None, p.stderr


class TestCClientPythonServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="neira-pyserver.")
        cls.sock = os.path.join(cls.dir, "py.sock")
        cls.server = start_server(cls.sock)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(None).wait()
        if os.path.exists(cls.sock):
            os.unlink(cls.sock)
        os.rmdir(cls.dir)

    def test_health(self):
        rc, out, err = neira_call(self.sock, "health")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["status"], "OK")
        self.assertEqual(out["reply"]["healthy"], True)
        self.assertEqual(out["reply"]["version"], "py-agent 1")

    def test_prompt(self):
        rc, out, err = neira_call(self.sock, "prompt", "abc")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["reply"]["text"], "py:cba")

    def test_call_and_error_status(self):
        rc, out, _ = neira_call(self.sock, "call", "f", '{"x": 1}')
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(out["reply"]["result_json"]), {"name": "f", "args": {"x": 1}})
        rc, out, _ = neira_call(self.sock, "call", "boom")
        self.assertEqual(rc, 1)
        self.assertEqual(out["status"], "INTERNAL")
        self.assertEqual(out["details"], "boom from python")

    def test_python_server_unimplemented_for_other_case(self):
        rc, out, _ = neira_call("--path", "/" + SVC + "/healthCheck", self.sock, "health")
        self.assertEqual(rc, 1)
        self.assertEqual(out["status"], "UNIMPLEMENTED")

    def test_missing_socket_is_unavailable(self):
        rc, out, _ = neira_call("--timeout", "2000", os.path.join(self.dir, "absent.sock"), "health")
        self.assertEqual(rc, 1)
        self.assertEqual(out["status"], "UNAVAILABLE")


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--neira-call", required=True)
    p.add_argument("--proto-dir", required=True)
    ARGS, rest = p.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="neira-pb2.") as out:
        rc = protoc.main(["protoc", "-I" + ARGS.proto_dir, "--python_out=" + out,
                          os.path.join(ARGS.proto_dir, "agent.proto")])
        if rc != 0:
            sys.exit("grpc_tools.protoc failed (rc %d)" % rc)
        sys.path.insert(0, out)
        import agent_pb2  # noqa: E402
        PB["agent"] = agent_pb2
        prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Cross-stack proof, part 1: a Python grpcio client (a different gRPC
implementation's client stack) talks to the C reference agent over a real
Unix socket. Covers SPEC A1 (marker only once the socket accepts), A2 (the
three methods), A3 (log level, stderr only, clean SIGTERM, socket removed),
A4 (grpc.health.v1 Check) and the M1 prerequisite (a lower-case path is
UNIMPLEMENTED).

usage: test_agent_grpcio.py --agent PATH --proto-dir DIR
"""
import argparse
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import grpc
from grpc_tools import protoc

ARGS = None
PB = {}


def generate_stubs(proto_dir, out_dir):
    """Generate the message classes from the very proto the C side uses."""
    for name in ("agent.proto", "health.proto"):
        rc = protoc.main(["protoc", "-I" + proto_dir, "--python_out=" + out_dir,
                          os.path.join(proto_dir, name)])
        if rc != 0:
            raise RuntimeError("grpc_tools.protoc failed on %s (rc %d)" % (name, rc))
    sys.path.insert(0, out_dir)
    import agent_pb2  # noqa: E402
    import health_pb2  # noqa: E402
    PB["agent"] = agent_pb2
    PB["health"] = health_pb2


def read_line(stream, deadline):
    """Read one stdout line from the agent, waiting with select, not sleep."""
    buf = b""
    fd = stream.fileno()
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no line from agent on stdout (got %r)" % buf)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 1)
            if not chunk:
                raise EOFError("agent closed stdout (got %r)" % buf)
            buf += chunk
    return buf.decode()


class Agent:
    def __init__(self, env_extra=None):
        self.dir = tempfile.mkdtemp(prefix="neira-pytest.")
        self.sock = os.path.join(self.dir, "a.sock")
        env = dict(os.environ)
        env["NEIRA_SOCKET_PATH"] = self.sock
        env.update(env_extra or {})
        self.proc = subprocess.Popen([ARGS.agent], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.marker = read_line(self.proc.stdout, time.monotonic() + ARGS.scale * 10)
        # A1: at the moment the marker is out, a connect must already succeed
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.sock)
            self.connect_ok_at_marker = True
        except OSError:
            self.connect_ok_at_marker = False
        finally:
            s.close()
        self.channel = grpc.insecure_channel("unix:" + self.sock)

    def unary(self, path, req, resp_cls, timeout=5.0):
        fn = self.channel.unary_unary(path, request_serializer=req.SerializeToString,
                                      response_deserializer=resp_cls.FromString)
        return fn(req, timeout=timeout * ARGS.scale)

    def stop(self, sig=signal.SIGTERM):
        self.channel.close()
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=ARGS.scale * 10)
        self.stop_seconds = time.monotonic() - t0
        self.rest_stdout = out.decode(errors="replace")
        self.stderr = err.decode(errors="replace")
        return self.proc.returncode

    def exit_evidence(self):
        """What the agent said on its way out (under memcheck, exit 99 comes
        with valgrind's report on stderr): for a failed exit-status check."""
        return "exit status %s; last of its stderr:\n%s" % (self.proc.returncode, self.stderr[-4000:])

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            os.unlink(self.sock)
        except FileNotFoundError:
            pass
        os.rmdir(self.dir)


SVC = "/neira.agent.v1.PythonAgent/"


class TestAgentFromPython(unittest.TestCase):
    def setUp(self):
        self.agent = Agent({"NEIRA_LOG_LEVEL": "debug", "NEIRA_AGENT_MODE": "production"})

    def tearDown(self):
        self.agent.cleanup()

    def test_a1_marker_after_socket_accepts(self):
        self.assertEqual(self.agent.marker, "AGENT_READY\n")
        self.assertTrue(self.agent.connect_ok_at_marker, "marker printed before the socket accepted")

    def test_a2_health_check(self):
        a = PB["agent"]
        r = self.agent.unary(SVC + "HealthCheck", a.HealthCheckRequest(service="python-agent"), a.HealthCheckResponse)
        self.assertTrue(r.healthy)
        self.assertTrue(r.version.startswith("neira-agent "), r.version)
        self.assertEqual(r.mode, "production")  # A3: NEIRA_AGENT_MODE honoured
        self.assertEqual(r.pid, self.agent.proc.pid)

    def test_a2_process_prompt(self):
        a = PB["agent"]
        r = self.agent.unary(SVC + "ProcessPrompt", a.ProcessPromptRequest(prompt="hello wörld\nbye", request_id="r-1"),
                             a.ProcessPromptResponse)
        self.assertEqual(r.request_id, "r-1")
        self.assertFalse(r.mock)
        self.assertEqual((r.stats.words, r.stats.chars, r.stats.lines), (3, 15, 2))
        self.assertIn("hello wörld", r.text)

    def test_a2_call_custom_function(self):
        a = PB["agent"]
        r = self.agent.unary(SVC + "CallCustomFunction", a.CallCustomFunctionRequest(name="sum", args_json="[1, 2, 3.5]"),
                             a.CallCustomFunctionResponse)
        self.assertEqual(r.result_json, '{"count":3,"sum":6.5}')
        with self.assertRaises(grpc.RpcError) as cm:
            self.agent.unary(SVC + "CallCustomFunction", a.CallCustomFunctionRequest(name="nope"),
                             a.CallCustomFunctionResponse)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertIn('"nope"', cm.exception.details())
        with self.assertRaises(grpc.RpcError) as cm:
            self.agent.unary(SVC + "CallCustomFunction", a.CallCustomFunctionRequest(name="sum", args_json="[1,"),
                             a.CallCustomFunctionResponse)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_m1_lower_case_path_is_unimplemented(self):
        a = PB["agent"]
        with self.assertRaises(grpc.RpcError) as cm:
            self.agent.unary(SVC + "healthCheck", a.HealthCheckRequest(service="python-agent"), a.HealthCheckResponse)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    def test_a4_standard_health(self):
        h = PB["health"]
        r = self.agent.unary("/grpc.health.v1.Health/Check", h.HealthCheckRequest(service=""), h.HealthCheckResponse)
        self.assertEqual(r.status, h.HealthCheckResponse.SERVING)

    def test_a4_standard_health_watch(self):
        h = PB["health"]
        watch = self.agent.channel.unary_stream("/grpc.health.v1.Health/Watch",
                                                request_serializer=h.HealthCheckRequest.SerializeToString,
                                                response_deserializer=h.HealthCheckResponse.FromString)
        stream = watch(h.HealthCheckRequest(service=""), timeout=10 * ARGS.scale)
        first = next(stream)
        self.assertEqual(first.status, h.HealthCheckResponse.SERVING)
        stream.cancel()  # the agent holds the stream open until then
        stream = watch(h.HealthCheckRequest(service="no.such.Service"), timeout=10 * ARGS.scale)
        self.assertEqual(next(stream).status, h.HealthCheckResponse.SERVICE_UNKNOWN)
        stream.cancel()

    def test_a3_sigterm_with_open_watch_stream(self):
        # an open stream must not hold the agent up at shutdown
        h = PB["health"]
        watch = self.agent.channel.unary_stream("/grpc.health.v1.Health/Watch",
                                                request_serializer=h.HealthCheckRequest.SerializeToString,
                                                response_deserializer=h.HealthCheckResponse.FromString)
        stream = watch(h.HealthCheckRequest(service=""), timeout=30 * ARGS.scale)
        self.assertEqual(next(stream).status, h.HealthCheckResponse.SERVING)
        rc = self.agent.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, self.agent.exit_evidence())
        self.assertLess(self.agent.stop_seconds, 1.0 * ARGS.scale)
        self.assertFalse(os.path.exists(self.agent.sock))

    def test_a3_sigterm_clean_exit_and_logs(self):
        rc = self.agent.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, self.agent.exit_evidence())
        self.assertLess(self.agent.stop_seconds, 1.0 * ARGS.scale)
        self.assertFalse(os.path.exists(self.agent.sock), "socket file left behind")
        self.assertEqual(self.agent.rest_stdout, "", "stdout must carry nothing but the marker")
        self.assertIn("INFO serving on unix:" + self.agent.sock, self.agent.stderr)
        self.assertIn("signal 15", self.agent.stderr)

    def test_a3_sigint_clean_exit(self):
        self.assertEqual(self.agent.stop(signal.SIGINT), 0)
        self.assertFalse(os.path.exists(self.agent.sock))


class TestAgentLogLevel(unittest.TestCase):
    def test_a3_error_level_is_quiet(self):
        agent = Agent({"NEIRA_LOG_LEVEL": "error"})
        try:
            a = PB["agent"]
            agent.unary(SVC + "HealthCheck", a.HealthCheckRequest(service="python-agent"), a.HealthCheckResponse)
            self.assertEqual(agent.stop(), 0)
            self.assertEqual(agent.stderr, "")
        finally:
            agent.cleanup()

    def test_a3_debug_level_logs_calls(self):
        agent = Agent({"NEIRA_LOG_LEVEL": "debug"})
        try:
            a = PB["agent"]
            agent.unary(SVC + "HealthCheck", a.HealthCheckRequest(service="python-agent"), a.HealthCheckResponse)
            agent.stop()
            self.assertIn("DEBUG HealthCheck service=python-agent", agent.stderr)
        finally:
            agent.cleanup()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--agent", required=True)
    p.add_argument("--proto-dir", required=True)
    ARGS, rest = p.parse_known_args()
    ARGS.scale = 20 if os.environ.get("NEIRA_UNDER_VALGRIND") else 1
    with tempfile.TemporaryDirectory(prefix="neira-pb2.") as out:
        generate_stubs(ARGS.proto_dir, out)
        prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()

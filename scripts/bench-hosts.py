#!/usr/bin/python3
"""bench-hosts.py — init time of any supervisor host, through the adapter
contract alone (docs/adapter-contract.md), so that the C supervisor, the Node
spec design and the Node seed design (its 500 ms readiness polling) are
measured in the same run on the same agent (issue 13). A benchmark that
prints figures, never a timed test: it fails only when a host does not reach
`ready`.

  bench-hosts.py [--runs N] --agent PATH NAME[:RUNS]=HOST [NAME[:RUNS]=HOST ...]

RUNS, when given, overrides --runs for that host (the seed's polling makes
each of its inits >= 0.5 s: node-seed:10=... keeps the run short).

Each run: start HOST `drive` with the agent and a socket in a fresh temp dir,
send hello, init, stop; read the event stream (init_start, spawn, marker,
ready). Per host, median and p99 of:
  init          init_start -> ready (what a caller of init waits)
  exec->marker  spawn -> marker (the agent's own start, not the supervisor's)
  share         init - (exec->marker): the supervisor's own part
and, per host, its init as a ratio of the first host's. Events are JSON
lines read with the json module."""
import argparse
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def one_run(host, agent, timeout_s=30):
    d = tempfile.mkdtemp(prefix="neira-bench-")
    p = subprocess.Popen([host, "--agent", agent, "--set", "socket_path=" + os.path.join(d, "a.sock"), "drive"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    events, buf, end = {}, b"", time.monotonic() + timeout_s
    try:
        def until(reply):
            nonlocal buf
            while True:
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    try:
                        msg = json.loads(line)
                    except ValueError:
                        continue
                    if "event" in msg:
                        events.setdefault(msg["event"], msg)
                    elif msg.get("reply") == reply:
                        return msg
                left = end - time.monotonic()
                if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
                    raise TimeoutError("%s: no %s reply in %d s" % (host, reply, timeout_s))
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    raise EOFError("%s exited before its %s reply" % (host, reply))
                buf += chunk

        for cmd in ("hello", "init"):
            p.stdin.write(json.dumps({"cmd": cmd}).encode() + b"\n")
            p.stdin.flush()
            r = until(cmd)
        if r.get("mode") != "ready":
            raise RuntimeError("%s: init ended in %s (%s)" % (host, r.get("mode"), r.get("reason")))
        p.stdin.write(b'{"cmd":"stop"}\n')
        p.stdin.flush()
        until("stop")
    finally:
        try:
            p.stdin.close()
        except OSError:
            pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
        p.stdout.close()
        shutil.rmtree(d, ignore_errors=True)
    t = {k: events[k]["t_ms"] for k in ("init_start", "spawn", "marker", "ready") if k in events}
    if len(t) < 4:
        raise RuntimeError("%s: events missing: %s" % (host, sorted({"init_start", "spawn", "marker", "ready"} - set(t))))
    init = t["ready"] - t["init_start"]
    start = t["marker"] - t["spawn"]
    return init, start, init - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=50, help="inits per host (default 50)")
    ap.add_argument("--agent", required=True, help="the agent every host starts")
    ap.add_argument("hosts", nargs="+", metavar="NAME[:RUNS]=HOST")
    a = ap.parse_args()
    hosts = []
    for h in a.hosts:
        name, sep, path = h.partition("=")
        name, colon, runs = name.partition(":")
        if not sep or not name:
            ap.error("a host is NAME[:RUNS]=PATH, not '%s'" % h)
        if colon and not (runs.isdigit() and int(runs) > 0):
            ap.error("%s: RUNS must be a positive integer, not '%s'" % (name, runs))
        n = int(runs) if colon else a.runs
        if not os.access(path, os.X_OK):
            print("bench-hosts: %s: %s is not executable; skipped" % (name, path), file=sys.stderr)
            continue
        hosts.append((name, path, n))
    if not hosts:
        print("bench-hosts: no host to measure", file=sys.stderr)
        return 2
    print("init through the adapter contract, agent %s (ms: median / p99)" % a.agent)
    print("%-12s %5s  %-17s %-17s %-17s %s" % ("host", "runs", "init", "exec->marker", "share", "init vs first"))
    first = None
    for name, path, n in hosts:
        rows = []
        for _ in range(n):
            try:
                rows.append(one_run(path, a.agent))
            except (RuntimeError, TimeoutError, EOFError, OSError) as e:
                print("bench-hosts: %s" % e, file=sys.stderr)
                return 1
        cols = list(zip(*rows))
        med = [statistics.median(c) for c in cols]
        p99 = [pct(c, 99) for c in cols]
        first = first or med[0]
        print("%-12s %5d  %7.2f / %-7.2f %7.2f / %-7.2f %7.2f / %-7.2f %.2f×" %
              (name, n, med[0], p99[0], med[1], p99[1], med[2], p99[2], med[0] / first))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Issue 10: interrupting the harness leaves nothing behind. Runs
neira-harness on two long scenarios in a fresh TMPDIR, waits (bounded) until
agents are running, interrupts it the way a person (SIGINT to the process
group, as Ctrl-C does) or a test runner (SIGTERM to the harness alone, as
meson does on timeout) would, and then checks, from a subreaper, that no
process of the run is alive, that the harness exited 130 and that TMPDIR
holds no file, directory or socket.

usage: test_interrupt.py HARNESS SCENARIO_DIR SIGINT|SIGTERM"""
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time

PR_SET_CHILD_SUBREAPER = 36


def descendants(root):
    """Live (non-zombie) descendants of root, by /proc parent links."""
    parent, state = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as fh:
                s = fh.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        parent[int(d)], state[int(d)] = int(rest[1]), rest[0]
    out = []
    for pid in parent:
        p, hops = parent.get(pid), 0
        while p and p > 1 and hops < 64:
            if p == root:
                if state[pid] != "Z":
                    out.append(pid)
                break
            p, hops = parent.get(p), hops + 1
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as fh:
            return fh.read().strip()
    except OSError:
        return "?"


def main():
    harness, scen_dir, how = sys.argv[1], sys.argv[2], sys.argv[3]
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    tmp = tempfile.mkdtemp(prefix="neira-intr-")
    env = dict(os.environ, TMPDIR=tmp)
    proc = subprocess.Popen([harness, "--scenarios", scen_dir, "run", "-j", "2", "P2-stability", "H1-never-ready"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    me = os.getpid()
    # a condition with a deadline, not a sleep: agents of the run exist
    deadline = time.monotonic() + 20
    agents = []
    while time.monotonic() < deadline:
        agents = [p for p in descendants(me) if comm(p).startswith("neira-") and "harness" not in comm(p)
                  and comm(p) != "neira-host"]
        if agents:
            break
        time.sleep(0.01)
    if not agents:
        proc.kill()
        print("FAIL: no agent started within 20 s")
        return 1
    print("agents running: %s" % ", ".join("%d (%s)" % (p, comm(p)) for p in agents))
    t0 = time.monotonic()
    if how == "SIGINT":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        print(out.decode(errors="replace"))
        print("FAIL: the harness did not exit within 30 s of %s" % how)
        return 1
    took = time.monotonic() - t0
    text = out.decode(errors="replace")
    print(text[-2000:])
    failures = []
    if proc.returncode != 130:
        failures.append("harness exit status %d, expected 130 (interrupted)" % proc.returncode)
    left = descendants(me)
    if left:
        failures.append("still alive: " + ", ".join("%d (%s)" % (p, comm(p)) for p in left))
        for p in left:
            os.kill(p, signal.SIGKILL)
    while True:  # reap whatever was re-parented to us
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break
    stray = []
    for root, dirs, files in os.walk(tmp):
        stray += [os.path.join(root, n) for n in dirs + files]
    if stray:
        failures.append("left in TMPDIR: " + ", ".join(stray[:10]))
    subprocess.run(["rm", "-rf", tmp], check=False)
    print("harness exited %.2f s after %s" % (took, how))
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("PASS: nothing left after %s (no process, file or socket)" % how)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""agent-check interrupted (Ctrl-C: SIGINT to its process group) once the
first check has reported: it ends the running check, skips the rest, says
INTERRUPTED, exits 130 — no verdict — and leaves no run directory and no
agent behind. A second SIGINT stops it at once (killed by the signal).

usage: test_interrupt.py CHECKER AGENT [ARG...]
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile


def run(checker, agent, signals):
    tmp = tempfile.mkdtemp(prefix="acint-", dir="/tmp")  # short: agent-check's TMPDIR limit is 40
    try:
        env = dict(os.environ, TMPDIR=tmp)
        p = subprocess.Popen([checker, "--agent"] + agent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env=env, start_new_session=True)
        lines = [p.stdout.readline(), p.stdout.readline()]  # the header, then the first check's line
        os.killpg(p.pid, signal.SIGINT)
        if signals > 1:  # the second once the first was taken (two pending SIGINTs are one)
            while lines[-1] and "agent-check: interrupted:" not in lines[-1]:
                lines.append(p.stdout.readline())
            os.killpg(p.pid, signal.SIGINT)
        rest, _ = p.communicate(timeout=120)
        left = os.listdir(tmp)
        try:
            os.killpg(p.pid, 0)
            group_alive = True  # a process of its group (not an agent: those have their own)
        except ProcessLookupError:
            group_alive = False
        return p.returncode, "".join(lines) + rest, left, group_alive
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    checker, agent = sys.argv[1], sys.argv[2:]
    problems = []
    rc, out, left, alive = run(checker, agent, 1)
    sys.stdout.write(out)
    if rc != 130:
        problems.append("one SIGINT: exit %s, want 130" % rc)
    if "agent-check: INTERRUPTED after" not in out or "not run: interrupted" not in out:
        problems.append("one SIGINT: no INTERRUPTED line or no check skipped as 'not run: interrupted'")
    if "agent-check: PASS" in out or "agent-check: FAIL" in out:
        problems.append("one SIGINT: a verdict was printed for a cut run")
    if left:
        problems.append("one SIGINT: left in TMPDIR: %s" % left)
    if alive:
        problems.append("one SIGINT: its process group outlived it")
    rc, out, _, _ = run(checker, agent, 2)
    if rc != -signal.SIGINT:
        problems.append("two SIGINTs: exit %s, want death by SIGINT" % rc)
    for p in problems:
        print("FAIL: " + p)
    print("ok: interrupted once: exit 130, nothing left; twice: stopped at once" if not problems else "")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

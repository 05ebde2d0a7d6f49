#!/usr/bin/python3
"""The supervisor scenario suite with the Python reference agent in place of
neira-agent: every scenarios/*.yaml whose agent is `kind: reference` or
`kind: discovered` is run by neira-harness with NEIRA_AGENT pointing at
neira-agent-py (the harness's existing substitution: `--agent PATH` / env
NEIRA_AGENT names the reference agent). Fake-agent scenarios do not involve
the reference agent and are left out (`--all` runs them too).

usage: run_scenarios.py --harness PATH --scenarios DIR --agent PATH --results DIR [-j N] [--all] [NAME...]
Exit: the harness's status; 77 (skipped) when the harness is not built.
"""
import argparse
import os
import re
import subprocess
import sys

KIND = re.compile(r"^agent:\s*(\{[^}]*\bkind:\s*(reference|discovered)\b|$)", re.M)
KIND_BLOCK = re.compile(r"^agent:\s*\n(?:[ \t]+.*\n)*?[ \t]+kind:\s*(reference|discovered)\b", re.M)


def uses_reference_agent(text):
    m = KIND.search(text)
    if m and m.group(2):
        return True
    return bool(KIND_BLOCK.search(text))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--harness", required=True)
    p.add_argument("--scenarios", required=True)
    p.add_argument("--agent", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("-j", default="2")
    p.add_argument("--all", action="store_true")
    p.add_argument("names", nargs="*")
    a = p.parse_args()
    if not os.access(a.harness, os.X_OK):
        print("neira-harness not built at %s: skipped" % a.harness)
        return 77
    names = a.names
    if not names:
        for f in sorted(os.listdir(a.scenarios)):
            if f.endswith(".yaml"):
                with open(os.path.join(a.scenarios, f)) as fh:
                    if a.all or uses_reference_agent(fh.read()):
                        names.append(f[:-5])
    if not names:
        print("no scenario uses the reference agent in %s" % a.scenarios)
        return 1
    env = dict(os.environ, NEIRA_AGENT=a.agent)
    cmd = [a.harness, "--scenarios", a.scenarios, "--agent", a.agent, "run", "-j", a.j, "--results", a.results] + names
    print("NEIRA_AGENT=%s %s" % (a.agent, " ".join(cmd)), flush=True)
    return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())

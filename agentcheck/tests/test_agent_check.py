#!/usr/bin/python3
"""agent-check against an agent, asserting WHICH checks fail (from --json):
a reference agent must pass every required check; a negative control must
fail exactly the checks named, all on the clause it breaks, and exit 1.

usage: test_agent_check.py --checker PATH [--expect-fail CHECK,...]
                           [--expect-clause ID] [--checker-arg ARG]... -- AGENT [ARG...]
"""
import argparse
import json
import subprocess
import sys


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        sys.stderr.write(__doc__)
        return 2
    cut = argv.index("--")
    p = argparse.ArgumentParser()
    p.add_argument("--checker", required=True)
    p.add_argument("--expect-fail", default="", help="check names that must FAIL (comma-separated)")
    p.add_argument("--expect-clause", default=None, help="the one clause every failed check belongs to")
    p.add_argument("--checker-arg", action="append", default=[])
    args = p.parse_args(argv[:cut])
    agent = argv[cut + 1:]
    cmd = [args.checker, "--json"] + args.checker_arg + ["--agent"] + agent
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    sys.stderr.write(proc.stderr)  # the readable check lines
    try:
        doc = json.loads(proc.stdout)
    except ValueError as e:
        print("FAIL: --json output is not JSON (%s): %r" % (e, proc.stdout[:300]))
        return 1
    assert doc["schema"] == "neira.agent-check/1", doc.get("schema")
    failed = {c["name"]: c for c in doc["checks"] if c["verdict"] == "fail"}
    want = set(x for x in args.expect_fail.split(",") if x)
    problems = []
    if want:
        if proc.returncode != 1:
            problems.append("exit status %d, expected 1" % proc.returncode)
        missing = want - set(failed)
        if missing:
            problems.append("expected to FAIL but did not: %s" % ", ".join(sorted(missing)))
        if args.expect_clause:
            wrong = {n: c["clause"] for n, c in failed.items() if c["clause"] != args.expect_clause}
            if wrong:
                problems.append("failed on other clauses than %s: %s" % (args.expect_clause, wrong))
            if doc["clauses"].get(args.expect_clause) != "fail":
                problems.append("clause %s verdict %s, expected fail" % (args.expect_clause,
                                                                        doc["clauses"].get(args.expect_clause)))
    else:
        if proc.returncode != 0:
            problems.append("exit status %d, expected 0" % proc.returncode)
        if failed:
            problems.append("failed: %s" % "; ".join("%s %s: %s" % (c["clause"], n, c["measured"])
                                                  for n, c in failed.items()))
        required_skipped = [c["name"] for c in doc["checks"] if c["verdict"] == "skip" and c["need"] == "required"]
        if required_skipped:
            problems.append("required checks not run: %s" % ", ".join(required_skipped))
        if doc["verdict"] != "pass":
            problems.append("verdict %s" % doc["verdict"])
    for msg in problems:
        print("FAIL: " + msg)
    if not problems:
        print("ok: %s" % ("failed exactly where expected: " + ", ".join(sorted(failed)) if want else "every required check passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""agent-check --report DIR writes the same four formats as the conformance
report (through reports/): conformance.json/.md/.html, junit.xml, plus its
own agent-check.json — and they agree on the verdict per clause.

usage: test_report.py --checker PATH --out DIR -- AGENT [ARG...]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET


def main():
    argv = sys.argv[1:]
    cut = argv.index("--")
    p = argparse.ArgumentParser()
    p.add_argument("--checker", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv[:cut])
    shutil.rmtree(args.out, ignore_errors=True)
    # a subset is enough to prove the formats; A4 absent is not covered here
    cmd = [args.checker, "--report", args.out, "--cycles", "2", "--agent"] + argv[cut + 1:]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    bad = []
    if proc.returncode != 0:
        bad.append("exit %d" % proc.returncode)
    for f in ("agent-check.json", "conformance.json", "conformance.md", "conformance.html", "junit.xml"):
        if not os.path.isfile(os.path.join(args.out, f)):
            bad.append("missing " + f)
    if bad:
        print("FAIL: " + "; ".join(bad))
        return 1
    ac = json.load(open(os.path.join(args.out, "agent-check.json")))
    conf = json.load(open(os.path.join(args.out, "conformance.json")))
    verdicts = {c["id"]: c["verdict"] for c in conf["clauses"]}
    for clause, v in ac["clauses"].items():
        want = {"pass": "pass", "fail": "fail", "absent": "not_applicable", "skip": "not_applicable"}[v]
        if verdicts.get(clause) != want:
            bad.append("clause %s: agent-check says %s, conformance.json %s" % (clause, v, verdicts.get(clause)))
    if set(verdicts) != set(ac["clauses"]):
        bad.append("clause sets differ: %s vs %s" % (sorted(verdicts), sorted(ac["clauses"])))
    if conf["summary"]["verdict"] != ac["verdict"]:
        bad.append("overall verdict differs")
    # every check that ran is a result of the conformance report
    ran = [c for c in ac["checks"] if c["verdict"] in ("pass", "fail", "info")]
    if conf["summary"]["results"]["total"] != len(ran):
        bad.append("%d results in conformance.json, %d checks ran" % (conf["summary"]["results"]["total"], len(ran)))
    ET.parse(os.path.join(args.out, "junit.xml"))       # well-formed
    ET.parse(os.path.join(args.out, "conformance.html"))  # the report's HTML is well-formed XML
    md = open(os.path.join(args.out, "conformance.md")).read()
    if "| A1 |" not in md.replace("**", "") and "A1" not in md:
        bad.append("conformance.md has no A1 row")
    for b in bad:
        print("FAIL: " + b)
    if not bad:
        print("ok: 5 files, %d clauses agree (%s)" % (len(verdicts), ", ".join("%s=%s" % kv for kv in sorted(verdicts.items()))))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The published JSON Schema (docs/adapter-schema.json) and the harness's own
checks agree on real traffic: run scenarios with neira-host, then validate
every event and reply they recorded against the schema (python3-jsonschema),
and check that a line the harness would reject is rejected by the schema too.

usage: test_schema.py HARNESS SCENARIO_DIR SCHEMA"""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema


def main():
    harness, scen, schema_path = sys.argv[1:4]
    schema = json.load(open(schema_path, encoding="utf-8"))
    v = jsonschema.Draft202012Validator(schema)
    out = tempfile.mkdtemp(prefix="neira-schema-")
    names = ["P1-reference-ready", "C3-half-open-one-trial", "L6-exits-early", "H1-never-ready", "K1-mock-answers"]
    r = subprocess.run([harness, "--scenarios", scen, "run", "-j", "2", "--results", out] + names,
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout[-3000:])
        print("FAIL: the scenarios themselves did not pass")
        return 1
    lines = bad = 0
    for n in names:
        res = json.load(open(os.path.join(out, n + ".json"), encoding="utf-8"))
        for line in res["events"] + res["replies"]:
            line = {k: x for k, x in line.items() if k not in ("rx_ms", "harness_ms", "async")}  # harness's own
            lines += 1
            errs = sorted(v.iter_errors(line), key=str)
            if errs:
                bad += 1
                print("FAIL: %s: %s does not match the schema: %s" % (n, json.dumps(line)[:200], errs[0].message[:200]))
    # negative controls: the schema must reject what the harness rejects
    negatives = [
        {"t_ms": 1.0, "event": "fallbak", "reason": "x", "message": "y"},                 # unknown event
        {"t_ms": 1.0, "event": "spawn", "pid": "12", "path": "/a", "socket": "/s"},       # wrong type
        {"t_ms": 1.0, "event": "spawn", "path": "/a", "socket": "/s"},                    # missing pid
        {"t_ms": 1.0, "event": "marker", "extra": 1},                                     # undeclared field
        {"reply": "stop", "exit_code": 0, "signal": None},                                # missing elapsed_ms
    ]
    for neg in negatives:
        if v.is_valid(neg):
            bad += 1
            print("FAIL: the schema accepts %s" % json.dumps(neg))
    subprocess.run(["rm", "-rf", out], check=False)
    print("%d recorded lines validated against %s, %d negative controls; %d problem(s)" %
          (lines, os.path.basename(schema_path), len(negatives), bad))
    return 1 if bad or lines == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

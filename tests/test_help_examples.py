#!/usr/bin/python3
"""The examples a tool prints under "Examples" in its --help run as printed
(issue 14: neira-host's `call sum '{"a":1,"b":2}'` had rotted):

  test_help_examples.py BUILD_ROOT SCENARIOS_DIR TOOL_PATH...

Each example line is run with /bin/sh in a fresh directory that holds
`build` (-> BUILD_ROOT) and `scenarios` (-> SCENARIOS_DIR), the tool's name
replaced by TOOL_PATH. Its exit status must be 0, or N when the line's
comment says "exit N"; a comment that is a JSON object must appear in its
output. Exit 1 naming each example that failed."""
import os
import re
import subprocess
import sys
import tempfile


def examples(tool):
    out = subprocess.run([tool, "--help"], capture_output=True, text=True, timeout=30).stdout
    lines, on = [], False
    for line in out.splitlines():
        if line.startswith("Examples"):
            on = True
        elif on and not line.strip():
            break
        elif on:
            lines.append(line.strip())
    return lines


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    build, scen, tools = argv[1], argv[2], argv[3:]
    bad, ran = [], 0
    for tool in tools:
        name = os.path.basename(tool)
        found = examples(tool)
        if not found:
            bad.append("%s --help prints no examples" % name)
        for ex in found:
            cmd, _, comment = ex.partition("#")
            m = re.search(r"exit (\d+)", comment)
            want = int(m.group(1)) if m else 0
            # the tool's name as a command word (start of line or after a pipe)
            line = re.sub(r"(^|\|\s*)%s(?=\s)" % re.escape(name), lambda g: g.group(1) + tool, cmd.strip())
            with tempfile.TemporaryDirectory(prefix="help-ex-") as d:
                os.symlink(build, os.path.join(d, "build"))
                os.symlink(scen, os.path.join(d, "scenarios"))
                p = subprocess.run(["/bin/sh", "-c", line], cwd=d, capture_output=True, text=True, timeout=120)
            ran += 1
            ok = p.returncode == want
            shown = comment.strip()  # a comment that is JSON is the output the example promises
            if shown.startswith("{") and shown not in p.stdout:
                ok = False
            print("%s exit %d (want %d): %s" % ("ok  " if ok else "FAIL", p.returncode, want, ex))
            if not ok:
                bad.append("%s: exit %d, want %d\n  stdout: %s\n  stderr: %s" % (ex, p.returncode, want,
                           p.stdout[-600:], p.stderr[-600:]))
    for b in bad:
        print("FAIL " + b)
    print("%d example(s) run, %d failed" % (ran, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

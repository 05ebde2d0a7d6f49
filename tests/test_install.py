#!/usr/bin/python3
"""`meson install` gives a usable tool (issue 14):

  test_install.py MESON BUILD_ROOT SOURCE_ROOT PREFIX BINDIR DATADIR

installs the build into a temporary DESTDIR, checks that the tools, the
scenario library, the clause catalogue and the --help texts are there, and
runs scenarios with the installed neira-harness — no option, no NEIRA_*
variable, from a directory outside the source tree — against the installed
agent and host. Exit 1 naming what is missing or failed."""
import glob
import json
import os
import subprocess
import sys
import tempfile

TOOLS = ["neira-harness", "neira-host", "neira-fake-agent", "neira-agent", "neira-report", "neira-call",
         "neira-agent-check", "neira-fault-exec"]


def main(argv):
    if len(argv) != 7:
        sys.stderr.write(__doc__)
        return 2
    meson, build, src, prefix, bindir, datadir = argv[1:]
    bad = []
    with tempfile.TemporaryDirectory(prefix="neira-install-") as dest:
        p = subprocess.run([meson, "install", "-C", build, "--destdir", dest, "--no-rebuild", "--quiet"],
                           capture_output=True, text=True, timeout=300)
        if p.returncode:
            print("meson install failed:\n" + p.stdout[-2000:] + p.stderr[-2000:])
            return 1
        root = dest + os.path.join(prefix, bindir) if not bindir.startswith("/") else dest + bindir
        share = dest + (os.path.join(prefix, datadir) if not datadir.startswith("/") else datadir)
        for t in TOOLS:
            if not os.access(os.path.join(root, t), os.X_OK):
                bad.append("not installed: %s/%s" % (bindir, t))
            hp = os.path.join(share, "doc", "neira-conformance", t + ".txt")
            if not os.path.exists(hp) or "sage" not in open(hp, encoding="utf-8").read():  # Usage/usage
                bad.append("no --help text at %s" % hp)
        lib = os.path.join(share, "neira-conformance")
        for f in ("clauses.json", "SPEC.md", "events.md"):
            if not os.path.exists(os.path.join(lib, f)):
                bad.append("not installed: %s/neira-conformance/%s" % (datadir, f))
        want = {os.path.basename(f) for f in glob.glob(os.path.join(src, "scenarios", "*.yaml"))}
        have = {os.path.basename(f) for f in glob.glob(os.path.join(lib, "scenarios", "*.yaml"))}
        if want - have:
            bad.append("scenarios not installed: %s" % ", ".join(sorted(want - have)))
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEIRA_")}
        with tempfile.TemporaryDirectory(prefix="neira-user-") as cwd:
            harness = os.path.join(root, "neira-harness")
            ls = subprocess.run([harness, "list"], capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
            if ls.returncode or len(ls.stdout.splitlines()) < len(want):
                bad.append("installed `neira-harness list` (exit %d) lists %d of %d scenarios: %s"
                           % (ls.returncode, len(ls.stdout.splitlines()), len(want), ls.stderr[-400:]))
            res = os.path.join(cwd, "results")
            run = subprocess.run([harness, "run", "P1-reference-ready", "--results", res], capture_output=True,
                                 text=True, env=env, cwd=cwd, timeout=120)
            print(run.stdout[-1500:])
            if run.returncode:
                bad.append("installed `neira-harness run P1-reference-ready` exit %d:\n%s%s"
                           % (run.returncode, run.stdout[-1500:], run.stderr[-500:]))
            else:
                with open(os.path.join(res, "P1-reference-ready.json"), encoding="utf-8") as f:
                    r = json.load(f)
                spawned = [e.get("path", "") for e in r["events"] if e["event"] == "spawn"]
                if not spawned or not all(s.startswith(dest) for s in spawned):
                    bad.append("the scenario did not run the installed agent: spawned %s" % spawned)
                if not r["file"].startswith(dest):
                    bad.append("the scenario came from %s, not the installed library" % r["file"])
    for b in bad:
        print("FAIL " + b)
    if not bad:
        print("installed into a DESTDIR: %d tools, %d scenarios, catalogue, help texts; a scenario passed from there"
              % (len(TOOLS), len(want)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

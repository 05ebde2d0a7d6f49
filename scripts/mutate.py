#!/usr/bin/python3
"""The mutation lane (issue 16): proof by reverting each fix.

  mutate.py [--subset] [--out FILE] [--dir DIR] [-j N] [--rest] [--prepare] [ID...]
  mutate.py --check-patches     every catalogued patch applies to this tree?

For each mutant of mutants/catalogue.yaml (or the IDs named, or the catalogue's
`subset:` with --subset), in one copy of the tree (DIR/src, `git archive` of
$MUT_REV, default HEAD; /work's own sources and build/ are never touched) and
one configured build dir (DIR/build, reused, so only what a patch changes is
rebuilt): apply mutants/ID.patch, build what the tests need, run first the
meson tests of the suite its clause names (`--suite L5`), then, if it survived
those, every other unit, integration and scenario test (not with --subset:
its mutants are chosen to die in the first stage, which keeps it bounded),
then reverse the patch. Records killed/survived and the tests that killed it
in DIR/mutation.json (schema neira.mutation/1), prints a table and the line
"mutants: N killed, N survived, N equivalent".

Equivalent mutants (catalogue `equivalent: true`, with a reason) are not run
unless named on the command line; their patches must still apply. A patch that
does not apply is an error naming the mutant, never a skip. Before the first
mutant the same first-stage tests run on the unmutated tree: a test that fails
there would "kill" every mutant, so the lane stops instead.

--prepare stops after the baseline and records it (DIR/baseline.json: the
commit and the tests); a later run on the same commit with the same tests
skips its baseline. The main job prepares beside its suite (a flake there
can only make the baseline red, never kill a mutant; a red prepared
baseline is simply run again) and runs the mutants alone after it.

Exit status: 0 every non-equivalent mutant killed; 1 a survivor; 2 an error
(a patch that does not apply, a mutant that does not build, a red baseline);
77 not a git checkout (skipped: the tree is copied with git archive)."""
import argparse
import fcntl
import json
import os
import subprocess
import sys
import tarfile
import io
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Never part of a mutant's run: another lane (valgrind, Node, soak, Python
# agent, fault sweeps), or controls that do not judge the supervisor.
EXCLUDED_SUITES = {"scenario-valgrind", "scenario-node", "python-valgrind", "soak", "negative", "mutation",
                   "agentcheck", "py-agent-scenarios", "sweep", "chaos", "python", "harness"}
STAGE2_SUITES = {"unit", "integration", "scenario"}


def log(*a):
    print(*a, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, **kw)


def load_catalogue():
    with open(os.path.join(ROOT, "mutants", "catalogue.yaml"), encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    muts = doc.get("mutants") or []
    ids = [m["id"] for m in muts]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        sys.exit("mutate: duplicate mutant ids in the catalogue: %s" % ", ".join(sorted(dup)))
    for m in muts:
        for k in ("id", "file", "clause", "slip"):
            if not m.get(k):
                sys.exit("mutate: mutant %s: missing key %s" % (m.get("id", "?"), k))
        if m.get("equivalent") and not m.get("reason"):
            sys.exit("mutate: mutant %s is equivalent without a reason" % m["id"])
        if not os.path.isfile(os.path.join(ROOT, "mutants", m["id"] + ".patch")):
            sys.exit("mutate: mutant %s: mutants/%s.patch is missing" % (m["id"], m["id"]))
    return muts, doc.get("subset") or []


def sync_tree(rev, src):
    """DIR/src = the tree at rev; files whose bytes are unchanged keep their
    mtime, so the build dir rebuilds only what really differs."""
    blob = run(["git", "-C", ROOT, "archive", "--format=tar", rev], capture_output=True, check=True).stdout
    want = set()
    with tarfile.open(fileobj=io.BytesIO(blob)) as tf:
        for ti in tf.getmembers():
            dst = os.path.join(src, ti.name)
            if ti.isdir():
                os.makedirs(dst, exist_ok=True)
                continue
            want.add(os.path.normpath(dst))
            data = tf.extractfile(ti).read() if ti.isfile() else None
            if ti.issym():
                if os.path.islink(dst) and os.readlink(dst) == ti.linkname:
                    continue
                if os.path.lexists(dst):
                    os.unlink(dst)
                os.symlink(ti.linkname, dst)
                continue
            try:
                with open(dst, "rb") as fh:
                    if fh.read() == data:
                        continue
            except OSError:
                pass
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as fh:
                fh.write(data)
            os.chmod(dst, ti.mode & 0o777)
    for top, _dirs, files in os.walk(src):
        for f in files:
            p = os.path.normpath(os.path.join(top, f))
            if p not in want:
                os.unlink(p)


def patch(src, mid, reverse=False, check=False):
    # --fuzz=0: a patch whose context has moved is an error naming the
    # mutant, never applied somewhere nearby
    cmd = ["patch", "-p1", "--batch", "--silent", "--fuzz=0", "-d", src]
    if reverse:
        cmd.append("-R")
    if check:
        cmd.append("--dry-run")
    cmd += ["-i", os.path.join(ROOT, "mutants", mid + ".patch")]
    r = run(cmd, capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def introspect(build):
    tests = json.loads(run(["meson", "introspect", "--tests", build], capture_output=True, check=True).stdout)
    targets = json.loads(run(["meson", "introspect", "--targets", build], capture_output=True,
                             check=True).stdout)
    files = {t["id"]: t["filename"] for t in targets}
    out = []
    for t in tests:
        suites = set(s.split(":")[-1] for s in t["suite"])
        parts = set()
        for s in suites:
            parts.update(s.split("+"))
        if parts & EXCLUDED_SUITES:
            continue
        deps = []
        for d in t.get("depends", []):
            deps += files.get(d, [])
        exe = t["cmd"][0] if t["cmd"] else ""
        if exe.startswith(os.path.abspath(build)):
            deps.append(exe)
        out.append({"name": t["name"], "suites": parts, "deps": deps, "timeout": t.get("timeout", 30)})
    progs = [os.path.relpath(f, build) for t in targets if t["type"] == "executable" and
             t["name"].startswith("neira-") for f in t["filename"]]
    return out, progs


def stage1(tests, clause):
    return [t for t in tests if clause in t["suites"]]


def stage2(tests, clause):
    return [t for t in tests if clause not in t["suites"] and t["suites"] & STAGE2_SUITES]


def build_for(build, tests, programs):
    """Build what the tests declare, plus every neira-* program (a test may
    run more than it declares: F-* scenarios run neira-fault-exec through
    the environment). After the first build only what a patch touches is
    recompiled and relinked."""
    outs = sorted({os.path.relpath(f, build) for t in tests for f in t["deps"]} | set(programs))
    r = run(["ninja", "-C", build] + outs, capture_output=True, text=True)
    return r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def meson_test(build, tests, jobs, mult):
    """Run the tests; return the names of those that failed (timeouts included)."""
    if not tests:
        return []
    logf = os.path.join(build, "meson-logs", "testlog.json")
    if os.path.exists(logf):
        os.unlink(logf)
    run(["meson", "test", "-C", build, "--no-rebuild", "--num-processes", str(jobs),
         "--timeout-multiplier", str(mult)] + [t["name"] for t in tests],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failed, seen = [], set()
    try:
        with open(logf, encoding="utf-8") as fh:
            for line in fh:
                x = json.loads(line)
                name = x["name"].split(" / ", 1)[-1]  # "project:suites / name"
                seen.add(name)
                if x.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL"):
                    failed.append(name)
    except (OSError, ValueError):
        return ["(no test log: meson test did not run)"]
    failed += [t["name"] for t in tests if t["name"] not in seen]
    return failed


def reap_strays(build):
    """A mutant that lets descendants escape (L7-no-pgid: no kill of the
    agent's group) leaves them running after its tests; they are this
    lane's own processes — their executables are in its build dir — and
    must not outlive it or disturb the next mutant."""
    prefix = os.path.realpath(build) + os.sep
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
        except OSError:
            continue
        if exe.startswith(prefix):
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ids", nargs="*")
    ap.add_argument("--subset", action="store_true", help="the catalogue's bounded subset, first stage only")
    ap.add_argument("--dir", default=os.environ.get("MUT_DIR", os.path.join(ROOT, "build-mut")))
    ap.add_argument("--out", default=None, help="the JSON result (default DIR/mutation.json)")
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("MUT_JOBS", "2")))
    ap.add_argument("--timeout-multiplier", type=float, default=float(os.environ.get("MUT_TIMEOUT_MULTIPLIER", "1")))
    ap.add_argument("--prepare", action="store_true",
                    help="copy, configure, build and run the baseline, record it in DIR/baseline.json, stop")
    ap.add_argument("--check-patches", action="store_true",
                    help="only check that every catalogued patch applies to this source tree (exit 0/1)")
    a = ap.parse_args()
    muts, subset = load_catalogue()
    if a.check_patches:  # cheap, in every suite run: a patch that rotted is seen at once
        bad = []
        for m in muts:
            ok, msg = patch(ROOT, m["id"], check=True)
            if not ok:
                bad.append("mutants/%s.patch does not apply to %s: %s" % (m["id"], m["file"], msg))
        for b in bad:
            log("mutate: " + b)
        log("mutate: %d of %d catalogued patches apply" % (len(muts) - len(bad), len(muts)))
        return 1 if bad else 0
    byid = {m["id"]: m for m in muts}
    names = subset if a.subset else a.ids
    unknown = [i for i in names if i not in byid]
    if unknown:
        log("mutate: unknown mutant(s): %s" % ", ".join(unknown))
        return 2
    chosen = [byid[i] for i in names] if names else muts
    explicit = set(a.ids)
    rev = os.environ.get("MUT_REV", "HEAD")
    if run(["git", "-C", ROOT, "rev-parse", "--verify", "-q", rev + "^{commit}"], capture_output=True).returncode:
        log("mutate: %s is not a git checkout with %s: the lane copies the tree with git archive; skipped" %
            (ROOT, rev))
        return 77
    d = os.path.abspath(a.dir)
    src, build = os.path.join(d, "src"), os.path.join(d, "build")
    out = a.out or os.path.join(d, "mutation.json")
    os.makedirs(d, exist_ok=True)
    lock = open(os.path.join(d, "lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    t_start = time.time()

    # a run interrupted with a patch applied: the tree is resynced below anyway
    os.makedirs(src, exist_ok=True)
    sync_tree(rev, src)
    commit = run(["git", "-C", ROOT, "rev-parse", rev], capture_output=True, text=True).stdout.strip()
    errors = []
    for m in chosen:  # every patch must apply, equivalent ones included
        ok, msg = patch(src, m["id"], check=True)
        if not ok:
            errors.append("mutant %s: mutants/%s.patch does not apply to %s: %s" % (m["id"], m["id"], rev, msg))
    if errors:
        for e in errors:
            log("mutate: ERROR " + e)
        return 2
    # reconfigured every time: the scenario registry is read at configure
    # time, and a scenario file added since would not be a test
    setup = ["--reconfigure"] if os.path.isfile(os.path.join(build, "build.ninja")) else []
    r = run(["meson", "setup"] + setup + [build, src], capture_output=True, text=True)
    if r.returncode != 0:
        log("mutate: ERROR meson setup failed:\n" + r.stdout[-2000:] + r.stderr[-2000:])
        return 2
    tests, programs = introspect(build)
    to_run = [m for m in chosen if not m.get("equivalent") or m["id"] in explicit]

    # baseline: the first-stage tests on the unmutated tree must pass
    base = {t["name"]: t for m in to_run for t in stage1(tests, m["clause"])}
    ok, msg = build_for(build, list(base.values()), programs)
    if not ok:
        log("mutate: ERROR the unmutated tree does not build:\n" + msg)
        return 2
    prepared = os.path.join(d, "baseline.json")
    want = {"commit": commit, "tests": sorted(base)}
    try:
        with open(prepared, encoding="utf-8") as fh:
            had = json.load(fh)
    except (OSError, ValueError):
        had = {}
    if not a.prepare and {k: had.get(k) for k in want} == want:
        log("baseline: %d first-stage tests on the unmutated tree passed when prepared (%.0f s)" %
            (len(base), had.get("seconds", 0)))
    else:
        t0 = time.time()
        red = meson_test(build, list(base.values()), a.jobs, a.timeout_multiplier)
        log("baseline: %d first-stage tests on the unmutated tree, %.0f s%s" %
            (len(base), time.time() - t0, ", FAILED: " + ", ".join(red) if red else ""))
        if os.path.exists(prepared):
            os.unlink(prepared)
        if red:
            log("mutate: ERROR the baseline is red; a mutant run would prove nothing")
            return 2
        if a.prepare:
            with open(prepared, "w", encoding="utf-8") as fh:
                json.dump(dict(want, seconds=round(time.time() - t0, 1)), fh)
    if a.prepare:
        return 0

    results = []
    log("%-36s %-4s %-9s %7s  %s" % ("mutant", "clause", "outcome", "time", "killed by"))
    for m in chosen:
        mid = m["id"]
        rec = {"id": mid, "file": m["file"], "clause": m["clause"], "seed_defect": m.get("seed_defect"),
               "slip": m["slip"], "equivalent": bool(m.get("equivalent")), "reason": m.get("reason"),
               "note": m.get("note")}
        if m not in to_run:
            rec.update(status="equivalent", killed_by=[], stage=None, seconds=0)
            results.append(rec)
            log("%-36s %-4s equivalent" % (mid, m["clause"]))
            continue
        t0 = time.time()
        ok, msg = patch(src, mid)
        if not ok:
            log("mutate: ERROR mutant %s: patch does not apply: %s" % (mid, msg))
            return 2
        try:
            s1, s2 = stage1(tests, m["clause"]), stage2(tests, m["clause"])
            ok, msg = build_for(build, s1 if a.subset else s1 + s2, programs)
            if not ok:
                rec.update(status="error", killed_by=[], stage=None, error="does not build: " + msg[-800:])
            else:
                killed = meson_test(build, s1, a.jobs, a.timeout_multiplier)
                stage = "clause"
                if not killed and not a.subset:
                    killed = meson_test(build, s2, a.jobs, a.timeout_multiplier)
                    stage = "rest"
                rec.update(status="killed" if killed else "survived", killed_by=killed,
                           stage=stage if killed else None,
                           tests_run=len(s1) + (0 if a.subset or killed and stage == "clause" else len(s2)))
        finally:
            reap_strays(build)
            ok2, msg2 = patch(src, mid, reverse=True)
            if not ok2:
                log("mutate: ERROR mutant %s: reverse patch failed: %s" % (mid, msg2))
                return 2
        rec["seconds"] = round(time.time() - t0, 1)
        results.append(rec)
        log("%-36s %-4s %-9s %5.0f s  %s" % (mid, m["clause"], rec["status"], rec["seconds"],
                                              ", ".join(rec["killed_by"][:4]) + (" …" if len(rec["killed_by"]) > 4 else "")))
        if rec["status"] == "error":
            log("  " + rec["error"].replace("\n", "\n  "))

    n = {k: sum(1 for r in results if r["status"] == k) for k in ("killed", "survived", "equivalent", "error")}
    doc = {"schema": "neira.mutation/1", "commit": commit, "subset": a.subset,
           "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_start)),
           "duration_s": round(time.time() - t_start, 1), "killed": n["killed"], "survived": n["survived"],
           "equivalent": n["equivalent"], "errors": n["error"], "mutants": results}
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)
    os.replace(tmp, out)
    log("mutants: %d killed, %d survived, %d equivalent%s (%.0f s; %s)" %
        (n["killed"], n["survived"], n["equivalent"], ", %d errors" % n["error"] if n["error"] else "",
         time.time() - t_start, out))
    if n["error"]:
        return 2
    return 1 if n["survived"] else 0


if __name__ == "__main__":
    sys.exit(main())

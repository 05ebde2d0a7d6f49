#!/usr/bin/python3
"""What `neira-harness` prints for people (issue 14), checked from outside:

  test_cli_output.py HARNESS SCENARIOS_DIR [FAULT_EXEC]

run --all: one line per scenario in completion order with [done/total] and
its time, an ETA, a "still running" line while nothing finishes, no ok lines
without -v, failures expanded at the end in the author's words (labels, not
"expected event #3"), failed scenarios named in the summary, numbers rounded,
colour only on a terminal without NO_COLOR; list within 100 columns, cut at
a word boundary; explain as aligned rows; chaos [i/N]. NEIRA_HOST,
NEIRA_FAKE_AGENT and NEIRA_AGENT come from the environment (meson)."""
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

HARNESS, SCEN = sys.argv[1], sys.argv[2]
FAULT_EXEC = sys.argv[3] if len(sys.argv) > 3 else None
PICK = ["K1-mock-answers", "L2-missing-executable", "L6-exits-early", "H1-never-ready",
        "negative/NEG-wrong-expectation", "negative/NEG-H1-zero-delay"]
NOISE = re.compile(r"\d\.\d{6,}")  # 92.355000000000004
PROGRESS = re.compile(r"^\[\s*(\d+)/(\d+)\] (PASS|FAIL|ERROR|N/A)\s+(\S+)\s+([\d.]+ m?s|\dm\d\ds)")


# A drive host that exits at its stop reply (what the contract allowed
# before hosts had to stay until stdin's EOF).
EXIT_AT_STOP_HOST = """#!/usr/bin/python3
import json, os, sys
for line in sys.stdin:
    c = json.loads(line)
    r = {"hello": {"reply": "hello", "protocol": 1, "supervisor": {"name": "x", "version": "0"}, "capabilities": []},
         "snapshot": {"reply": "snapshot", "mode": "mock", "fds": len(os.listdir("/proc/self/fd"))},
         "init": {"reply": "init", "mode": "mock", "reason": "missing_executable", "init_ms": 0.1},
         "stop": {"reply": "stop", "exit_code": None, "signal": None, "elapsed_ms": 0.0}}[c["cmd"]]
    r["id"] = c["id"]
    sys.stdout.write(json.dumps(r) + "\\n")
    sys.stdout.flush()
    if c["cmd"] == "stop":
        os._exit(0)
"""


# A drive host for `repeat_at_once`: the real host (NEIRA_HOST) run by a
# wrapper that counts its starts and the most hosts alive at once (files
# beside it, under a lock); its 3rd and 7th starts exit 3 without a host.
COUNTING_HOST = """#!/usr/bin/python3
import fcntl, os, subprocess, sys
d = os.path.dirname(os.path.abspath(__file__))
def bump(name, by, keep_max=None):
    with open(os.path.join(d, "lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = os.path.join(d, name)
        n = (int(open(p).read()) if os.path.exists(p) else 0) + by
        open(p, "w").write(str(n))
        if keep_max:
            m = os.path.join(d, keep_max)
            if n > (int(open(m).read()) if os.path.exists(m) else 0):
                open(m, "w").write(str(n))
        return n
if bump("starts", 1) in (3, 7):
    sys.exit(3)
bump("alive", 1, keep_max="most-alive")
rc = subprocess.call([os.environ["NEIRA_HOST"]] + sys.argv[1:])
bump("alive", -1)
sys.exit(rc)
"""


def run(*args, env=None, timeout=120):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.update(env or {})
    return subprocess.run([HARNESS] + list(args), capture_output=True, text=True, env=e, timeout=timeout)


def run_crafted(test, host_text, name, scenario_text):
    """Scenario NAME (scenario_text) against a Python drive host (host_text),
    both written to a fresh dir that goes when the test ends. Returns the
    dir, the harness's process and the scenario's result document."""
    d = tempfile.mkdtemp(prefix="hx-%s-" % name)
    test.addCleanup(shutil.rmtree, d)
    host = os.path.join(d, "host.py")
    with open(host, "w") as f:
        f.write(host_text)
    os.chmod(host, 0o755)
    with open(os.path.join(d, name + ".yaml"), "w") as f:
        f.write(scenario_text)
    out = os.path.join(d, "results")
    p = run("--scenarios", d, "--host", host, "run", "--results", out, name)
    with open(os.path.join(out, name + ".json")) as f:
        return d, p, json.load(f)


def shell_host(d, line):
    """A #!/bin/sh host in d that runs `line`."""
    host = os.path.join(d, "host.sh")
    with open(host, "w") as f:
        f.write("#!/bin/sh\n%s\n" % line)
    os.chmod(host, 0o755)
    return host


class RunAll(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hx-cli-")
        for p in PICK:
            shutil.copy(os.path.join(SCEN, p + ".yaml"), cls.dir)
        cls.p = run("--scenarios", cls.dir, "run", "--all", "-j", "2", env={"NEIRA_PROGRESS_MS": "300"})
        cls.lines = cls.p.stdout.splitlines()
        sys.stdout.write(cls.p.stdout[-3000:])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def test_exit_status_is_a_failed_verdict(self):
        self.assertEqual(self.p.returncode, 1, self.p.stderr)

    def test_one_line_per_scenario_in_completion_order(self):
        prog = [m for m in map(PROGRESS.match, self.lines) if m]
        self.assertEqual([int(m.group(1)) for m in prog], list(range(1, len(PICK) + 1)))
        self.assertEqual({m.group(4) for m in prog}, {os.path.basename(p) for p in PICK})
        self.assertTrue(all(int(m.group(2)) == len(PICK) for m in prog))

    def test_eta_and_still_running(self):
        self.assertTrue(any("ETA ~" in l for l in self.lines), "no ETA on a run of 6")
        self.assertTrue(any("still running:" in l and "H1-never-ready" in l for l in self.lines),
                        "no sign of the slow scenario while it ran")

    def test_no_ok_lines_without_verbose(self):
        self.assertFalse([l for l in self.lines if re.match(r"^\s+ok\s", l)])

    def test_failures_expanded_at_the_end_and_named_in_the_summary(self):
        last_progress = max(i for i, l in enumerate(self.lines) if PROGRESS.match(l))
        tail = "\n".join(self.lines[last_progress + 1:])
        self.assertIn("FAIL NEG-H1-zero-delay", tail)
        self.assertIn("FAIL NEG-wrong-expectation", tail)
        self.assertRegex(tail, r"FAIL E\d+ .*measured mock, expected ready")
        summary = self.lines[-1]
        self.assertRegex(summary, r"^6 scenario\(s\): 4 passed, 2 not passed \(.*NEG-H1-zero-delay")
        self.assertIn("NEG-wrong-expectation", summary)

    def test_messages_use_the_labels(self):
        self.assertIn("a2: health_attempt {attempt=2}, 500–750 ms after 'r1'", self.p.stdout)
        self.assertNotIn("expected event #", self.p.stdout)

    def test_numbers_rounded_and_no_colour_on_a_pipe(self):
        self.assertFalse(NOISE.findall(self.p.stdout), "float noise in the terminal output")
        self.assertNotIn("\033[", self.p.stdout)


class Output(unittest.TestCase):
    def test_report_without_testlog_says_what_evidence_is_missing(self):
        res, out = tempfile.mkdtemp(prefix="hx-rep-res-"), tempfile.mkdtemp(prefix="hx-rep-out-")
        try:
            run("--scenarios", SCEN, "run", "--results", res, "P1-reference-ready")
            p = run("report", "--from", res, "--out", out)
        finally:
            shutil.rmtree(res)
            shutil.rmtree(out)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r"not covered \(no evidence\): [A-Z]\d")
        self.assertIn("--testlog", p.stderr)

    def test_sweep_points_matching_nothing_is_an_error(self):
        p = run("--scenarios", SCEN, "sweep", "--points", "nonexistent/*", "K1-mock-answers")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("matches none of the in-code fault points", p.stderr)
        self.assertIn("supervisor/spawn/fork", p.stderr)  # says what there is
        p = run("--scenarios", SCEN, "sweep", "--max-nth", "x", "K1-mock-answers")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)

    def test_results_json_uses_the_labels(self):
        # the report is built from these descriptions: the labels the
        # scenario wrote, not "expected event #3"
        out = tempfile.mkdtemp(prefix="hx-lbl-")
        try:
            run("--scenarios", os.path.join(SCEN, "negative"), "run", "--results", out, "NEG-H1-zero-delay")
            with open(os.path.join(out, "NEG-H1-zero-delay.json")) as f:
                exps = json.load(f)["expectations"]
        finally:
            shutil.rmtree(out)
        descs = [e["description"] for e in exps]
        self.assertIn("a2: health_attempt where {\"attempt\":2} timed after 'r1'", descs)
        a2 = [e for e in exps if e["description"].startswith("a2: ")][0]
        self.assertEqual(a2["expected"].get("label"), "a2")
        self.assertFalse([d for d in descs if "expected event #" in d])

    def test_a_host_that_exits_at_its_stop_reply_cannot_pass_no_fd_leak(self):
        # the contract has the host stay until stdin's EOF after stop: one
        # that exits at once leaves no fds to count, which must not pass
        _, p, res = run_crafted(
            self, EXIT_AT_STOP_HOST, "X-exit-at-stop",
            "name: X-exit-at-stop\ndescription: a host that exits at its stop reply\nclauses: [L7]\n"
            "agent: {kind: missing}\nactions: [init, stop]\nexpect: {mode: mock}\n")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        inv = {i["name"]: i for i in res["invariants"]}
        self.assertEqual(inv["no_fd_leak_in_host"]["verdict"], "fail")
        self.assertIn("the host exited at its stop reply, before stdin's EOF", inv["no_fd_leak_in_host"]["message"])

    def test_a_host_that_stops_answering_is_reported_with_its_threads(self):
        # a CI page must say where a hung host was blocked, not just
        # "timeout": a host that never replies (sleep) and a 1 s scenario
        d = tempfile.mkdtemp(prefix="hx-hang-")
        try:
            host = shell_host(d, "exec sleep 60")
            with open(os.path.join(SCEN, "K1-mock-answers.yaml")) as f:
                doc = yaml.safe_load(f)
            doc["timeout_ms"], doc["name"] = 1000, "K1-hang"
            with open(os.path.join(d, "K1-hang.yaml"), "w") as f:
                yaml.safe_dump(doc, f)
            out = os.path.join(d, "results")
            p = run("--scenarios", d, "--host", host, "run", "--results", out, "K1-hang")
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertRegex(p.stdout, r"hello: no reply before the scenario timeout \(timeout_ms 1000 after the "
                             r"host's spawn\) \[host pid \d+ threads "
                             r"\(tid comm state wchan\): \d+ sleep S \S+\]")
            with open(os.path.join(out, "K1-hang.json")) as f:
                self.assertRegex(json.load(f)["host_threads_at_timeout"], r"^\d+ sleep S \S+$")
        finally:
            shutil.rmtree(d)

    def test_no_libfaketime_object_outlives_a_run(self):
        # C2 preloads libfaketime, which names /dev/shm objects after the
        # first process that loads it and removes them only in that process's
        # destructor: a #!/bin/sh host wrapper that execs (as the Node
        # adapters do) left a pair behind on every run
        if not os.path.exists("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"):
            self.skipTest("libfaketime is not installed")
        d = tempfile.mkdtemp(prefix="hx-shm-")
        try:
            host = shell_host(d, 'exec "$NEIRA_HOST" "$@"')
            ft = lambda: {n for n in os.listdir("/dev/shm") if "faketime_s" in n}
            before = ft()
            out = os.path.join(d, "results")
            p = run("--scenarios", SCEN, "--host", host, "run", "--results", out, "C2-wall-clock-jump")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(os.path.join(out, "C2-wall-clock-jump.json")) as f:
                cleanup = json.load(f).get("cleanup", "")
            removed = set(re.findall(r"(?:sem\.)?faketime_s\w+_\d+", cleanup))
            self.assertTrue([n for n in removed if n.startswith("sem.")], cleanup)  # the wrapper's pair
            # and it is gone (tests running beside this one may add their own)
            self.assertFalse(removed & ft(), cleanup)
            self.assertFalse(removed & before, cleanup)
        finally:
            shutil.rmtree(d)

    def test_verbose_prints_every_ok_check(self):
        p = run("--scenarios", SCEN, "run", "-v", "K1-mock-answers")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertTrue([l for l in p.stdout.splitlines() if re.match(r"^\s+ok\s+E1\s", l)], p.stdout)

    def tty_run(self, env):
        """stdout on a pseudo-terminal: what a person at a terminal sees."""
        e = dict(os.environ, **env)
        if "NO_COLOR" not in env:
            e.pop("NO_COLOR", None)
        master, slave = pty.openpty()
        p = subprocess.Popen([HARNESS, "--scenarios", SCEN, "run", "K1-mock-answers"], stdout=slave,
                             stderr=subprocess.DEVNULL, env=e)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        p.wait(timeout=60)
        return out.decode("utf-8", "replace")

    def test_colour_only_on_a_terminal_without_no_color(self):
        self.assertIn("\033[32mPASS", self.tty_run({}))
        self.assertNotIn("\033[", self.tty_run({"NO_COLOR": "1"}))

    def test_list_fits_100_columns_cut_at_a_word(self):
        p = run("--scenarios", SCEN, "list")
        self.assertEqual(p.returncode, 0, p.stdout)
        for line in p.stdout.splitlines():
            self.assertLessEqual(len(line), 100, line)
            name = line.split()[0]
            with open(os.path.join(SCEN, name + ".yaml"), encoding="utf-8") as f:
                full = " ".join(yaml.safe_load(f)["description"].split())
            shown = " ".join(line.split()[2:])
            if shown.endswith("…"):
                head = shown[:-1]
                self.assertTrue(full.startswith(head), (shown, full))
                self.assertFalse(full[len(head)].isalnum(), "cut mid-word: " + line)
            else:
                self.assertEqual(shown, full)

    def test_explain_is_an_aligned_timeline(self):
        p = run("--scenarios", SCEN, "explain", "L8-crash-mid-call")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        rows = [l for l in p.stdout.splitlines() if re.match(r"^  [ <>] +[≈–]?[\d.]* ms  ", l)]
        self.assertGreater(len(rows), 10, p.stdout)
        col = {l.index(" ms  ") for l in rows}
        self.assertEqual(len(col), 1, "time column not aligned:\n" + "\n".join(rows[:8]))
        self.assertTrue(any(re.search(r" ms  agent +child_exit +pid=\d+", l) for l in rows), p.stdout)
        self.assertFalse([l for l in p.stdout.splitlines() if '{"' in l or len(l) > 200])
        self.assertFalse(NOISE.findall(p.stdout))

    @unittest.skipUnless(FAULT_EXEC, "built without fault injection")
    def test_chaos_counts_i_of_n(self):
        with tempfile.TemporaryDirectory() as out:
            p = run("chaos", "--seed", "42", "--runs", "2", "--out", out, env={"NEIRA_FAULT_EXEC": FAULT_EXEC})
        self.assertRegex(p.stdout, r"(?m)^\[1/2\] ")
        self.assertRegex(p.stdout, r"(?m)^\[2/2\] ")
        # the throughput figure (issue 13)
        m = re.search(r"(?m)^chaos: seed 42, 2 run\(s\), \d+ violation\(s\) \(([\d.]+) s, ([\d.]+) runs/s\)$",
                      p.stdout)
        self.assertTrue(m, p.stdout)
        self.assertAlmostEqual(float(m.group(2)), 2 / float(m.group(1)), delta=0.1 * 2 / float(m.group(1)) + 0.01)


K1_DEFECT = "- {id: SD-test, clause: K1, caught_by: [K1-mock-answers]}\n"


class ProveReuse(unittest.TestCase):
    """prove --reuse NAME=DIR (issue 13): a column read from results a run
    against the same host already wrote — and a missing or stale result is
    an error in the matrix, never a pass."""

    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="hx-prove-")
        cls.scen = os.path.join(cls.d, "scenarios")
        os.mkdir(cls.scen)
        shutil.copy(os.path.join(SCEN, "K1-mock-answers.yaml"), cls.scen)
        cls.defects = os.path.join(cls.d, "defects.yaml")
        with open(cls.defects, "w") as f:
            f.write(K1_DEFECT)
        cls.res = os.path.join(cls.d, "results")
        cls.host = os.environ["NEIRA_HOST"]
        p = run("--scenarios", cls.scen, "run", "--results", cls.res, "K1-mock-answers")
        assert p.returncode == 0, p.stdout + p.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.d)

    def prove(self, reuse, out):
        return run("--scenarios", self.scen, "prove", "--host", "c=" + self.host, "--reuse", reuse,
                   "--seed", "broken=/bin/false", "--defects", self.defects, "--out", out)

    def seeded(self, name, failed, defects=K1_DEFECT):
        """prove with the seed's column a crafted result (seed_result) in
        DIR/seed-NAME; returns the process and the --out dir."""
        d = os.path.join(self.d, "seed-" + name)
        self.seed_result(d, failed)
        out = os.path.join(self.d, name)
        return self.prove_seed(d, defects, out), out

    def test_reused_results_stand_in_for_a_run(self):
        p, out = self.seeded("ok", [("E4", "K1")])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("1 pass, 0 fail, 0 n/a — results reused from " + self.res, p.stderr)
        with open(os.path.join(out, "c", "K1-mock-answers.json")) as f:
            self.assertEqual(json.load(f)["reused_from"], os.path.join(self.res, "K1-mock-answers.json"))
        with open(os.path.join(out, "prove.json")) as f:
            self.assertEqual(json.load(f)["supervisors"][0]["reused_from"], self.res)

    def test_a_missing_result_is_an_error_not_a_pass(self):
        empty = os.path.join(self.d, "empty")
        os.makedirs(empty, exist_ok=True)
        out = os.path.join(self.d, "missing")
        p = self.prove("c=" + empty, out)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        with open(os.path.join(out, "c", "K1-mock-answers.json")) as f:
            r = json.load(f)
        self.assertEqual(r["verdict"], "error")
        self.assertIn("--reuse c=%s: no result %s/K1-mock-answers.json: No such file" % (empty, empty), r["error"])

    def test_a_result_older_than_the_scenario_is_stale(self):
        stale = os.path.join(self.d, "stale")
        os.makedirs(stale, exist_ok=True)
        old = os.path.join(stale, "K1-mock-answers.json")
        shutil.copy(os.path.join(self.res, "K1-mock-answers.json"), old)
        os.utime(old, (1, 1))
        out = os.path.join(self.d, "stale-out")
        p = self.prove("c=" + stale, out)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        with open(os.path.join(out, "c", "K1-mock-answers.json")) as f:
            self.assertRegex(json.load(f)["error"], r"is older than the host .* or the scenario .*: stale$")

    def seed_result(self, d, failed):
        """A seed result for K1-mock-answers in d whose failed checks are
        `failed` ([(id or invariant name, clause or None)])."""
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(self.res, "K1-mock-answers.json")) as f:
            r = json.load(f)
        r["verdict"] = "fail"
        r["expectations"] = [{"id": c, "clause": k, "verdict": "fail"} for c, k in failed if k]
        r["invariants"] = [{"name": c, "verdict": "fail", "message": "x"} for c, k in failed if not k]
        with open(os.path.join(d, "K1-mock-answers.json"), "w") as f:
            json.dump(r, f)

    def prove_seed(self, seed_dir, defects, out):
        with open(self.defects + ".x", "w") as f:
            f.write(defects)
        return run("--scenarios", self.scen, "prove", "--host", "c=" + self.host, "--reuse", "c=" + self.res,
                   "--seed", "seed=/bin/false", "--reuse", "seed=" + seed_dir, "--defects", self.defects + ".x",
                   "--out", out)

    def test_a_defect_is_caught_only_through_what_it_fails(self):
        # the seed fails K1-mock-answers, but on a K2 expectation: the K1
        # defect is not caught; on a K1 one it is, and the report says how
        p, out = self.seeded("k2", [("E3", "K2")])
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("prove: defect SD-test (K1) is not caught: no scenario it lists passes on every conforming "
                      "supervisor and fails on the seed design through K1", p.stdout)
        p, out = self.seeded("k1", [("E3", "K2"), ("E4", "K1"), ("no_orphan", None)])
        d = os.path.join(self.d, "seed-k1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(out, "prove.json")) as f:
            dj = json.load(f)["defects"][0]
        self.assertEqual(dj["via"], {"K1-mock-answers": ["E4 (K1)"]})
        # an invariant named in `fails`
        p = self.prove_seed(d, "- {id: SD-test, clause: L7, fails: [no_orphan], caught_by: [K1-mock-answers]}\n",
                            os.path.join(self.d, "inv"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(self.d, "inv", "prove.md")) as f:
            self.assertIn("K1-mock-answers [no_orphan]", f.read())

    def test_a_seed_that_never_answers_hello_catches_nothing(self):
        # /bin/false as the seed design fails every expectation of every
        # scenario — and shows no defect at all
        out = os.path.join(self.d, "false")
        p = self.prove("c=" + self.res, out)
        with open(os.path.join(out, "broken", "K1-mock-answers.json")) as f:
            self.assertEqual(json.load(f)["verdict"], "fail")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("0 of 1 seed defects caught", p.stdout)

    def test_fails_names_are_checked_when_the_catalogue_loads(self):
        p, _ = self.seeded("typo", [("E4", "K1")],
                           "- {id: SD-test, clause: K1, fails: [no_orphn], caught_by: [K1-mock-answers]}\n")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("fails names 'no_orphn', which is neither a SPEC clause nor an invariant", p.stderr)

    def test_reuse_must_name_a_given_supervisor(self):
        p = self.prove("nobody=" + self.res, os.path.join(self.d, "x"))
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("--reuse wants NAME=DIR, NAME a --host or --seed given once", p.stderr)


class Repeat(unittest.TestCase):
    """`repeat: N` with `repeat_at_once: K` (issue 13): all N runs happen,
    K at a time (seen by the hosts themselves), and each failing run is
    named."""

    def test_runs_at_once_all_counted_failures_named(self):
        d, p, res = run_crafted(
            self, COUNTING_HOST, "X-repeat",
            "name: X-repeat\ndescription: ten starts, five at a time\nclauses: [P2]\n"
            "repeat: 10\nrepeat_at_once: 5\nagent: {kind: fake, script: {bind_delay_ms: 100}}\n"
            "actions: [init, stop]\nexpect: {mode: ready}\n")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        with open(os.path.join(d, "starts")) as f:
            self.assertEqual(f.read(), "10")
        with open(os.path.join(d, "most-alive")) as f:
            self.assertGreaterEqual(int(f.read()), 2)  # they did run at once
        with open(os.path.join(d, "alive")) as f:
            self.assertEqual(f.read(), "0")  # every host exited at its EOF
        rep = res["repeat"]
        self.assertEqual((rep["runs"], rep["at_once"], rep["ran"], rep["passed"]), (10, 5, 10, 8))
        self.assertEqual(len(rep["failed_runs"]), 2)
        e = [x for x in res["expectations"] if x["kind"] == "repeat"][0]
        self.assertEqual(e["verdict"], "fail")
        self.assertEqual(e["message"], "8 of 10 runs passed (5 at a time); failed: run %d, %d"
                         % tuple(rep["failed_runs"]))
        for k in rep["failed_runs"]:  # each failing run's report is printed
            self.assertIn("run %d of 10 did not pass:" % k, p.stdout)
        self.assertEqual(res["verdict"], "fail")

if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)

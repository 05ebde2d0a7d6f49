#!/usr/bin/python3
"""Checks neira-report's four outputs on reports/testdata (issue 7):
golden conformance.json compared structurally (volatile run metadata
ignored), the HTML well-formed with one timeline per scenario, the failing
fixture failing in every format, not-covered clauses failing the run.

  test_reports.py --report PATH/neira-report --testdata reports/testdata --catalogue reports/clauses.json
  ... --update-golden   rewrite testdata/golden/conformance.json (review the diff!)
"""
import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

ARGS = None
SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"
FAILING = "l8_crash_while_ready"
# Values that change from run to run or machine to machine.
VOLATILE = {("generated_at",), ("run",), ("sources", "results_dir"), ("sources", "catalogue")}


def strip_volatile(doc):
    doc = json.loads(json.dumps(doc))
    for path in VOLATILE:
        node = doc
        for key in path[:-1]:
            node = node.get(key, {})
        node.pop(path[-1], None)
    return doc


def report_cmd():
    """The CLI, under memcheck too when the valgrind setup runs this test
    (it wraps python3 itself, which does not trace children)."""
    if os.environ.get("NEIRA_UNDER_VALGRIND") and shutil.which("valgrind"):
        return ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
                "--show-leak-kinds=definite,indirect,possible",
                "--errors-for-leak-kinds=definite,indirect,possible", "--track-fds=yes",
                "--suppressions=" + ARGS.valgrind_supp, ARGS.report]
    return [ARGS.report]


def run_report(results, out, *extra):
    return subprocess.run(report_cmd() + ["--from", results, "--out", out, *extra],
                          capture_output=True, text=True, timeout=300)


class Fixture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rpt-test-")
        cls.out = os.path.join(cls.tmp, "out")
        cls.results = os.path.join(ARGS.testdata, "results")
        cls.proc = run_report(cls.results, cls.out, "--meta", "commit=0123abc", "--meta", "seed=7",
                              "--meta", "ci=meson")
        with open(os.path.join(cls.out, "conformance.json"), encoding="utf-8") as f:
            cls.doc = json.load(f)
        with open(os.path.join(cls.out, "conformance.html"), encoding="utf-8") as f:
            cls.html = f.read()
        with open(os.path.join(cls.out, "conformance.md"), encoding="utf-8") as f:
            cls.md = f.read()
        cls.junit = ET.parse(os.path.join(cls.out, "junit.xml")).getroot()
        cls.scenario_names = [s["name"] for s in cls.doc["scenarios"] if s["kind"] != "unit"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- exit status and the JSON ---

    def test_exit_1_on_fail_and_not_covered(self):
        self.assertEqual(self.proc.returncode, 1, self.proc.stderr)
        self.assertIn("FAIL", self.proc.stdout)

    def test_golden_json(self):
        golden = os.path.join(ARGS.testdata, "golden", "conformance.json")
        got = strip_volatile(self.doc)
        if ARGS.update_golden:
            with open(golden, "w", encoding="utf-8") as f:
                json.dump(got, f, indent=2, ensure_ascii=False)
                f.write("\n")
        with open(golden, encoding="utf-8") as f:
            want = json.load(f)
        self.maxDiff = None
        self.assertEqual(got, want)

    def test_run_metadata(self):
        self.assertIn("<tr><td>chaos seed</td><td><code>7</code></td></tr>", self.html)  # given: shown
        run = self.doc["run"]
        self.assertEqual(run["project_commit"], "0123abc")
        self.assertEqual(run["chaos_seed"], "7")
        self.assertEqual(run["extra"], {"ci": "meson"})
        for key in ("grpc", "protobuf_c", "compiler", "kernel", "jansson"):
            self.assertTrue(run["versions"][key], key)

    def test_every_catalogue_clause_has_a_verdict(self):
        with open(ARGS.catalogue, encoding="utf-8") as f:
            cat = json.load(f)
        ids = [c["id"] for c in cat["clauses"]]
        self.assertEqual([c["id"] for c in self.doc["clauses"]], ids)
        for c in self.doc["clauses"]:
            self.assertIn(c["verdict"], ("pass", "fail", "not_covered", "not_applicable"), c["id"])
        # the SPEC's families, all present
        self.assertEqual(sorted({i.rstrip("0123456789") for i in ids}), sorted("ACHKLMOPS"))
        s1 = next(c for c in self.doc["clauses"] if c["id"] == "S1")
        self.assertTrue(s1["applies"])
        self.assertIn("Windows", s1["not_applicable"])

    def test_h1_waits_measured(self):
        h1 = next(s for s in self.doc["scenarios"] if s["name"] == "h1_never_ready_backoff")
        waits = h1["health"]["waits"]
        self.assertEqual([w["planned_ms"] for w in waits], [500, 1000, 2000])
        for w in waits:
            self.assertLess(abs(w["actual_ms"] - w["planned_ms"]), 50)
        self.assertEqual(len(h1["health"]["attempts"]), 3)

    def test_unit_evidence_without_events(self):
        unit = next(s for s in self.doc["scenarios"] if s["kind"] == "unit")
        self.assertEqual(unit["event_count"], 0)
        for cid in ("C1", "C2", "C3", "C4"):
            c = next(c for c in self.doc["clauses"] if c["id"] == cid)
            self.assertIn(unit["name"], [e["result"] for e in c["evidence"]])

    # --- the failing fixture fails in all four formats ---

    def test_failing_in_json(self):
        sc = next(s for s in self.doc["scenarios"] if s["name"] == FAILING)
        self.assertEqual(sc["verdict"], "fail")
        l8 = next(c for c in self.doc["clauses"] if c["id"] == "L8")
        self.assertEqual(l8["verdict"], "fail")
        self.assertEqual(l8["evidence"][0]["failures"][0]["id"], "l8.inflight_prompt")
        # a failure tagged L8 does not fail K2, which the same scenario also proves
        k2 = next(c for c in self.doc["clauses"] if c["id"] == "K2")
        self.assertEqual(k2["verdict"], "pass")
        self.assertEqual(self.doc["summary"]["verdict"], "fail")

    def test_failing_in_markdown(self):
        self.assertIn("**FAIL**", self.md)
        row = next(l for l in self.md.splitlines() if l.startswith("| L8 |"))
        self.assertIn("fail", row)
        self.assertIn(FAILING, row)
        failures = self.md.split("## Failures", 1)[1]
        self.assertIn(FAILING, failures)
        self.assertIn("4989.5", failures)  # measured value next to the expected one

    def test_failing_in_html(self):
        root = ET.fromstring(self.html)
        arts = {a.get("id"): a for a in root.iter(XHTML + "article")}
        art = arts[FAILING]  # named after the scenario, not its index
        self.assertEqual(art.get("class"), "res-fail")
        bad_rows = [tr for tr in art.iter(XHTML + "tr") if tr.get("class") == "bad"]
        self.assertEqual(len(bad_rows), 1)
        cells = [c for c in root.iter(XHTML + "a") if c.get("href") == "#clause-L8" and c.get("class")]
        self.assertEqual(cells[0].get("class"), "fail")

    def test_failing_in_junit(self):
        cases = {c.get("name"): c for c in self.junit.iter("testcase")}
        case = cases[FAILING]
        self.assertEqual(case.get("classname"), "L")
        fail = case.find("failure")
        self.assertIsNotNone(fail)
        self.assertIn("l8.inflight_prompt", fail.get("message"))
        props = [p.get("value") for p in case.iter("property") if p.get("name") == "clause"]
        self.assertEqual(props, ["L8", "K2", "C4"])
        for name in ("h1_never_ready_backoff", "h4_marker_then_confirm", "unit:test_sup_breaker"):
            self.assertIsNone(cases[name].find("failure"), name)

    # --- not covered ---

    def test_not_covered_everywhere(self):
        l1 = next(c for c in self.doc["clauses"] if c["id"] == "L1")
        self.assertEqual((l1["verdict"], l1["evidence"]), ("not_covered", []))
        self.assertIn("**L1**", self.md.split("## Not covered", 1)[1])
        suites = {s.get("name"): s for s in self.junit.iter("testsuite")}
        l1case = next(c for c in suites["clauses"].iter("testcase") if c.get("name").startswith("L1 "))
        self.assertEqual(l1case.find("failure").get("type"), "not_covered")
        self.assertEqual(len(list(suites["scenarios"].iter("testcase"))), len(self.doc["scenarios"]))

    # --- HTML structure ---

    def test_html_parses_and_one_timeline_per_scenario(self):
        class P(html.parser.HTMLParser):
            def __init__(self):
                super().__init__()
                self.timelines = 0
                self.scripts = 0
                self.external = []

            def handle_starttag(self, tag, attrs):
                a = dict(attrs)
                if tag == "svg" and a.get("class") == "timeline":
                    self.timelines += 1
                if tag == "script":
                    self.scripts += 1
                for k in ("src", "href"):
                    if a.get(k) and not a[k].startswith("#"):
                        self.external.append(a[k])
                if tag == "link":
                    self.external.append(a.get("href"))
        p = P()
        p.feed(self.html)
        p.close()
        self.assertEqual(p.timelines, len(self.scenario_names))
        self.assertEqual(p.scripts, 0)  # the agent's "<script>" output line is escaped
        self.assertEqual(p.external, [])
        self.assertIn("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; AGENT_READYX", self.html)
        # well-formed as XML, SVGs included
        root = ET.fromstring(self.html)
        svgs = [s for s in root.iter(SVG + "svg") if s.get("class") == "timeline"]
        self.assertEqual(len(svgs), len(self.scenario_names))
        for svg in svgs:
            self.assertTrue(svg.get("viewBox"))
            self.assertGreater(len(list(svg.iter(SVG + "rect"))), 8)
        h1 = svgs[self.scenario_names.index("h1_never_ready_backoff")]
        waits = [r for r in h1.iter(SVG + "rect") if r.get("class") == "wait"]
        self.assertEqual(len(waits), 3)
        # drawn to scale: widths in proportion 1 : 2 : 4
        w = [float(r.get("width")) for r in waits]
        self.assertAlmostEqual(w[1] / w[0], 2.0, delta=0.05)
        self.assertAlmostEqual(w[2] / w[0], 4.0, delta=0.1)
        labels = " ".join(t.text or "" for t in h1.iter(SVG + "text"))
        self.assertIn("wait 500→500.4 ms", labels)
        self.assertIn("ready_timeout 1000 ms", labels)


class ExitStatus(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="rpt-exit-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_all_covered_and_passing_exits_0(self):
        """…and its page has no red: every zero pill is neutral."""
        res = os.path.join(self.tmp, "results")
        os.mkdir(res)
        for f in ("h1_never_ready_backoff.json", "unit_test_sup_breaker.json"):
            shutil.copy(os.path.join(ARGS.testdata, "results", f), res)
        with open(ARGS.catalogue, encoding="utf-8") as f:
            cat = json.load(f)
        cat["clauses"] = [c for c in cat["clauses"] if c["id"] in ("H1", "K2", "L5", "O3", "C1", "C2", "C3", "C4")]
        cat["clauses"].append({"id": "S9", "family": "S", "summary": "a clause that does not apply",
                               "applies": False, "not_applicable": "test"})
        small = os.path.join(self.tmp, "clauses.json")
        with open(small, "w", encoding="utf-8") as f:
            json.dump(cat, f)
        p = run_report(res, os.path.join(self.tmp, "out"), "--catalogue", small)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(self.tmp, "out", "conformance.json"), encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(doc["summary"]["clauses"], {"total": 9, "pass": 8, "fail": 0, "not_covered": 0,
                                                     "not_applicable": 1})
        self.assertEqual(p.stderr, "")  # nothing is missing
        with open(os.path.join(self.tmp, "out", "conformance.html"), encoding="utf-8") as f:
            root = ET.fromstring(f.read())
        pills = [s for p in root.iter(XHTML + "p") if p.get("class") == "counts" for s in p.iter(XHTML + "span")]
        self.assertEqual(len(pills), 7)
        for s in pills:
            want = "zero" if s.text.startswith("0 ") else s.get("class")
            self.assertEqual(s.get("class"), want, s.text)
            self.assertIn(s.get("class"), ("zero", "pass", "not_applicable"), s.text)
        self.assertFalse([h for h in root.iter(XHTML + "h2") if h.get("id") == "failures"])

    def test_clause_without_evidence_exits_1(self):
        res = os.path.join(self.tmp, "results")
        os.mkdir(res)
        shutil.copy(os.path.join(ARGS.testdata, "results", "unit_test_sup_breaker.json"), res)
        p = run_report(res, os.path.join(self.tmp, "out"))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("not covered", p.stdout)

    def test_mutation_section(self):
        """--meta mutation=FILE (scripts/mutate.sh's result, issue 16): the
        section "Proof by reverting each fix" — mutant, clause, killed by —
        in Markdown and HTML; an unreadable file says so, it is not dropped."""
        res = os.path.join(self.tmp, "results")
        os.mkdir(res)
        shutil.copy(os.path.join(ARGS.testdata, "results", "unit_test_sup_breaker.json"), res)
        out = os.path.join(self.tmp, "out")
        run_report(res, out, "--meta", "mutation=" + os.path.join(ARGS.testdata, "mutation.json"))
        with open(os.path.join(out, "conformance.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("## Proof by reverting each fix", md)
        self.assertIn("mutants: 1 killed, 1 survived, 1 equivalent", md)
        self.assertIn("| C3-half-open-all | C3 | SD-C3-half-open-all | killed | C3-half-open-one-trial, sup_breaker |",
                      md)
        self.assertIn("| H1-made-up-survivor | H1 | — | survived |  |", md)
        self.assertIn("| L5-no-probe-on-marker | L5 | — | equivalent | the next 5 ms probe notices it |", md)
        with open(os.path.join(out, "conformance.html"), encoding="utf-8") as f:
            page = f.read()
        self.assertIn('<h2 id="mutation">Proof by reverting each fix</h2>', page)
        self.assertIn("<td>C3-half-open-all</td><td>C3</td><td>SD-C3-half-open-all</td><td>killed</td>"
                      "<td>C3-half-open-one-trial, sup_breaker</td>", page)
        self.assertIn("<td><strong>survived</strong></td>", page)
        with open(os.path.join(out, "conformance.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["mutation"]["killed"], 1)
        run_report(res, out, "--meta", "mutation=" + os.path.join(self.tmp, "nope.json"))
        with open(os.path.join(out, "conformance.md"), encoding="utf-8") as f:
            self.assertIn("cannot read the mutation lane's result", f.read())

    def test_usage_and_io_errors_exit_2(self):
        self.assertEqual(subprocess.run(report_cmd(), capture_output=True, timeout=300).returncode, 2)
        p = run_report(os.path.join(self.tmp, "nope"), os.path.join(self.tmp, "out"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("nope", p.stderr)


# ---- issue 14: what a person sees in the HTML ----

W = 1200  # the timeline's viewBox width (rpt_timeline.c)
TIMELINE = os.path.join("timeline", "H1-zero-delay.json")  # a real failing run, 8 failed checks


def result(name, events, expectations, verdict="fail", clauses=("L4",)):
    return {"schema": "neira.scenario-result/1", "name": name, "file": "scenarios/%s.yaml" % name,
            "description": "synthetic", "clauses": list(clauses), "verdict": verdict, "duration_ms": 412.0,
            "agent": {"kind": "fake"}, "config": {}, "events": events, "expectations": expectations,
            "invariants": [], "metrics": None, "error": None}


def check(cid, kind, verdict, expected, measured, message=""):
    return {"id": cid, "clause": "L4", "kind": kind, "description": cid, "verdict": verdict,
            "expected": expected, "measured": measured, "message": message}


# Each way a failed check finds its place on the timeline: matched too late
# (window drawn), never came (marked where its window closes), one event too
# many; and labels crowding the right edge.
MARKS = result("T-marks", [
    {"t_ms": 1, "event": "spawn", "pid": 5},
    {"t_ms": 40, "event": "marker"},
    {"t_ms": 250, "event": "ready", "init_ms": 250},
    {"t_ms": 300, "event": "fallback", "reason": "agent_exit", "message": "x"},
    {"t_ms": 396, "event": "shutdown", "step": "sigterm"},
    {"t_ms": 397, "event": "shutdown", "step": "reaped"},
    {"t_ms": 398, "event": "shutdown", "step": "socket_removed"},
    {"t_ms": 399, "event": "output", "stream": "stdout", "line": "AGENT_READY"},
    {"t_ms": 399.5, "event": "marker"},
    {"t_ms": 400, "event": "shutdown", "step": "done"},
], [
    check("E1", "event", "pass", {"event": "spawn", "where": None}, {"t_ms": 1, "index": 0}),
    check("E2", "event", "fail", {"event": "ready", "where": None, "after": 0, "min_ms": 0, "max_ms": 100,
                                  "label": "up"},
          {"t_ms": 250, "delta_ms": 249, "index": 2}, "249 ms after its reference, expected ≤ 100 ms"),
    check("E3", "event", "fail", {"event": "socket_usable", "where": None, "after": 0, "min_ms": 10,
                                  "max_ms": 60}, None, "no matching event in the stream"),
    check("E4", "event_absent", "fail", {"event": "fallback", "where": None, "count": 0}, {"count": 1},
          "expected 0 matching event(s), saw 1"),
    # timed from the previous matched event (E2's ready at 250 ms), never came
    check("E5", "event", "fail", {"event": "restart", "where": None, "min_ms": 0, "max_ms": 30}, None,
          "no matching event in the stream"),
])


# A long run: its axis counts seconds, its caption reads "2 min 24 s".
LONG = result("T-long", [{"t_ms": 0, "event": "init_start"}, {"t_ms": 5, "event": "spawn", "pid": 7},
                         {"t_ms": 144235, "event": "shutdown", "step": "done"}], [], verdict="pass",
              clauses=("P2",))
LONG["duration_ms"] = 144235.2


def est_width(text, scale):
    """rpt_timeline.c's text_w: a generous width per code point."""
    w = 0.0
    for ch in text:
        w += 7.2 if "A" <= ch <= "Z" else 6.4 if ch.isdigit() else 3.5 if ch == " " else 6.0
    return w * scale


def x_scale(svg):
    """ms → x from the axis ticks (two of them fix the linear map)."""
    ticks = [(float(t.get("x")), t.text) for t in svg.iter(SVG + "text") if t.get("class") == "tick"]
    (x0, l0), (x1, l1) = ticks[0], ticks[1]
    unit = 1000.0 if any((t.text or "") == "s since start" for t in svg.iter(SVG + "text")) else 1.0
    k = (x1 - x0) / ((float(l1) - float(l0)) * unit)
    return lambda ms: x0 + (ms - float(l0) * unit) * k


def marks(svg):
    """{href: (x of the triangle's tip, the <a> element)} of the failure marks."""
    out = {}
    for a in svg.iter(SVG + "a"):
        if a.get("class") != "failcheck":
            continue
        tri = next(p for p in a.iter(SVG + "path") if p.get("class") == "failmark")
        out[a.get("href")] = (float(tri.get("d").split()[0][1:]) + 6, a)
    return out


def presentation_report(tmp):
    """The failing timeline fixture and T-marks, reported into tmp/out."""
    res = os.path.join(tmp, "results")
    os.mkdir(res)
    shutil.copy(os.path.join(ARGS.testdata, TIMELINE), res)
    for r in (MARKS, LONG):
        with open(os.path.join(res, r["name"] + ".json"), "w", encoding="utf-8") as f:
            json.dump(r, f)
    out = os.path.join(tmp, "out")
    return out, run_report(res, out, "--meta", "duration_ms=144235")


class Presentation(unittest.TestCase):
    """Issue 14's report items, asserted on the generated page: failed
    checks marked on the timeline and linked to their rows, a failures list
    first, named anchors, neutral zero pills, readable durations, no
    placeholder rows, a not-covered clause that says what it lacks."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rpt-pres-")
        cls.out, cls.proc = presentation_report(cls.tmp)
        with open(os.path.join(cls.out, "conformance.html"), encoding="utf-8") as f:
            cls.html = f.read()
        with open(os.path.join(cls.out, "conformance.md"), encoding="utf-8") as f:
            cls.md = f.read()
        with open(os.path.join(cls.out, "conformance.json"), encoding="utf-8") as f:
            cls.doc = json.load(f)
        cls.root = ET.fromstring(cls.html)
        cls.svgs = {s.get("aria-label")[len("timeline of "):]: s for s in cls.root.iter(SVG + "svg")
                    if s.get("class") == "timeline"}
        with open(os.path.join(ARGS.testdata, TIMELINE), encoding="utf-8") as f:
            cls.fixture = json.load(f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def ids(self):
        return {e.get("id") for e in self.root.iter() if e.get("id")}

    # 1. failed checks on the timeline

    def test_every_failed_check_is_a_red_mark_linking_to_its_row(self):
        rows = {tr.get("id"): tr for tr in self.root.iter(XHTML + "tr") if tr.get("id")}
        for name, res in (("H1-zero-delay", self.fixture), ("T-marks", MARKS)):
            failed = ["#%s-%s" % (name, x["id"]) for x in res["expectations"] if x["verdict"] != "pass"]
            got = marks(self.svgs[name])
            self.assertEqual(sorted(got), sorted(failed), name)
            for href in failed:
                self.assertEqual(rows[href[1:]].get("class"), "bad", href)  # the link lands on the red row
        self.assertIn("failmark", self.html.split("svg .failmark{", 1)[1].split("}")[0] + "failmark")
        self.assertIn("svg .failmark{fill:#e53e3e", self.html)  # red

    def test_too_late_event_marked_at_its_measured_time_with_its_window(self):
        svg = self.svgs["T-marks"]
        X = x_scale(svg)
        x, _ = marks(svg)["#T-marks-E2"]
        self.assertAlmostEqual(x, X(250), delta=0.5)
        wins = {r.find(SVG + "title").text.split(":")[0]: r for r in svg.iter(SVG + "rect")
                if r.get("class") == "failwin"}
        w = wins["E2"]  # ref = spawn at 1 ms, window 0…100 ms after it
        self.assertAlmostEqual(float(w.get("x")), X(1), delta=0.5)
        self.assertAlmostEqual(float(w.get("x")) + float(w.get("width")), X(101), delta=0.5)
        # a real run: E10 came 0.02 ms after its reference instead of 500–750 ms
        svg = self.svgs["H1-zero-delay"]
        X = x_scale(svg)
        e10 = next(x for x in self.fixture["expectations"] if x["id"] == "E10")
        x, _ = marks(svg)["#H1-zero-delay-E10"]
        self.assertAlmostEqual(x, X(e10["measured"]["t_ms"]), delta=0.5)
        ref = e10["measured"]["t_ms"] - e10["measured"]["delta_ms"]
        w = next(r for r in svg.iter(SVG + "rect") if r.get("class") == "failwin"
                 and r.find(SVG + "title").text.startswith("E10:"))
        self.assertAlmostEqual(float(w.get("x")), X(ref + 500), delta=0.5)

    def test_missing_event_marked_where_its_window_closes(self):
        svg = self.svgs["T-marks"]
        X = x_scale(svg)
        x, a = marks(svg)["#T-marks-E3"]
        self.assertAlmostEqual(x, X(61), delta=0.5)  # spawn at 1 + max_ms 60
        self.assertIn("no matching event", a.find(SVG + "title").text)
        x, _ = marks(svg)["#T-marks-E5"]
        self.assertAlmostEqual(x, X(280), delta=0.5)  # the previous matched event at 250 + 30

    def test_other_checks_marked_at_their_event_or_the_end(self):
        X = x_scale(self.svgs["T-marks"])
        self.assertAlmostEqual(marks(self.svgs["T-marks"])["#T-marks-E4"][0], X(300), delta=0.5)  # the fallback
        svg = self.svgs["H1-zero-delay"]
        X = x_scale(svg)
        got = marks(svg)
        t_end = max(e["t_ms"] for e in self.fixture["events"])
        self.assertAlmostEqual(got["#H1-zero-delay-E1"][0], X(t_end), delta=0.5)  # final mode: the end
        self.assertAlmostEqual(got["#H1-zero-delay-E9"][0], X(t_end), delta=0.5)  # untimed, never came
        call_end = next(e["t_ms"] for e in self.fixture["events"] if e["event"] == "call_end")
        self.assertAlmostEqual(got["#H1-zero-delay-E19"][0], X(call_end), delta=0.5)

    def test_marks_are_labelled_with_id_and_label(self):
        texts = lambda n: [t.text for t in self.svgs[n].iter(SVG + "text") if t.get("class") == "faillbl"]
        self.assertIn("✗ E2 up", texts("T-marks"))
        self.assertIn("✗ E10 a2", texts("H1-zero-delay"))
        for href, (_, a) in marks(self.svgs["H1-zero-delay"]).items():
            self.assertIn(href.rsplit("-", 1)[1] + " ", a.find(SVG + "title").text)  # full text on hover

    # 2. the failures list and the anchors

    def test_failures_list_first_and_every_link_resolves(self):
        h2 = [h.get("id") for h in self.root.iter(XHTML + "h2")]
        self.assertEqual(h2[0], "failures")
        ul = next(u for u in self.root.iter(XHTML + "ul") if u.get("class") == "faillist")
        links = [a.get("href") for a in ul.iter(XHTML + "a")]
        for want in ("#H1-zero-delay", "#H1-zero-delay-E10", "#T-marks", "#T-marks-E2", "#clause-A4"):
            self.assertIn(want, links)
        ids = self.ids()
        hrefs = re.findall(r'href="#([^"]*)"', self.html)
        self.assertGreater(len(hrefs), 40)
        for h in hrefs:
            self.assertIn(h, ids)
        self.assertFalse(re.search(r'(href|id)="#?r-\d+"', self.html))
        self.assertEqual(len(ids), len([e for e in self.root.iter() if e.get("id")]))  # unique

    # 3. pills

    def test_zero_pills_are_neutral_and_failures_red(self):
        pills = {}
        for p in self.root.iter(XHTML + "p"):
            if p.get("class") == "counts":
                pills = {s.text: s.get("class") for s in p.iter(XHTML + "span")}
        self.assertEqual(pills["0 clauses not applicable"], "zero")
        self.assertEqual(pills["1 results pass"], "pass")
        self.assertEqual(pills["0 error"], "zero")
        self.assertEqual(pills["2 fail"], "fail")  # red only for failures that exist
        self.assertEqual(pills["4 clauses fail"], "fail")

    # 6. durations, 7. no placeholders

    def test_durations_in_s_and_ms(self):
        self.assertIn("<tr><td>duration</td><td>2 min 24 s</td></tr>", self.html)
        self.assertIn(" · 322 ms", self.html)
        self.assertIn(" · 412 ms", self.html)
        self.assertIn(" · 2 min 24 s", self.html)  # T-long's own duration
        for text in (self.html, self.md):
            self.assertNotIn("144235", text)
            self.assertNotIn("322.36", text)
        self.assertIn("| ❌ fail | 322 ms |", self.md)
        long = self.svgs["T-long"]
        texts = [t.text for t in long.iter(SVG + "text")]
        self.assertIn("s since start", texts)
        self.assertIn("140", texts)  # a tick, in seconds
        self.assertFalse([t for t in texts if re.fullmatch(r"\d{5,}", t or "")])
        self.assertTrue(texts[0].startswith("3 events over 2 min 24 s"), texts[0])

    def test_no_placeholder_rows(self):
        self.assertNotIn("unknown", self.html.lower())
        self.assertNotIn("chaos seed", self.html)  # no seed on a normal run: no row
        self.assertNotIn("started at", self.html)

    # 8. not covered: what is missing and how to supply it

    def test_not_covered_says_what_evidence_is_missing(self):
        self.assertEqual(self.proc.returncode, 1)
        self.assertRegex(self.proc.stderr, r"not covered \(no evidence\): [^\n]*\bA4\b")
        self.assertIn("--testlog build/meson-logs/testlog.json", self.proc.stderr)
        a4 = next(c for c in self.doc["clauses"] if c["id"] == "A4")
        self.assertIn("--testlog build/meson-logs/testlog.json", a4["missing"])
        self.assertIn(a4["missing"], self.html)  # in its clause's row
        ul = ET.tostring(next(u for u in self.root.iter(XHTML + "ul") if u.get("class") == "faillist"),
                         encoding="unicode")
        self.assertIn("--testlog build/meson-logs/testlog.json", ul)  # and in the failures list, once
        self.assertEqual(ul.count("--testlog"), 1)
        self.assertIn("--testlog build/meson-logs/testlog.json", self.md.split("## Not covered", 1)[1])

    # 4. labels, 5. narrow screens (static; test_browser measures them rendered)

    def test_labels_inside_the_svg_and_apart(self):
        scales = {"lbl": 1.0, "in": 1.08, "faillbl": 1.2}
        for name, svg in self.svgs.items():
            rows = {}
            for t in svg.iter(SVG + "text"):
                if t.get("class") not in ("lbl", "faillbl") or t.get("y") is None:
                    continue
                w, x = est_width(t.text, scales[t.get("class")]), float(t.get("x"))
                if t.get("text-anchor") == "end":
                    self.assertLessEqual(x, W - 2, (name, t.text))
                    x -= w
                self.assertGreaterEqual(x, 0, (name, t.text))
                self.assertLessEqual(x + w, W - 1.5, (name, t.text))
                rows.setdefault(t.get("y"), []).append((x, x + w, t.text))
            for y, spans in rows.items():
                spans.sort()
                for (a0, a1, at), (b0, b1, bt) in zip(spans, spans[1:]):
                    self.assertLessEqual(a1, b0 + 0.01, (name, y, at, bt))
        crowded = [t.text for t in self.svgs["T-marks"].iter(SVG + "text")]
        self.assertIn("AGENT_READY", crowded)  # the right-edge one: kept, inside

    def test_narrow_screens_scroll_instead_of_shrinking(self):
        css = self.html.split("<style>", 1)[1].split("</style>", 1)[0]
        self.assertIn("svg.timeline{display:block;width:100%;min-width:1080px", css)
        self.assertIn(".tlwrap,.tblwrap{overflow-x:auto", css)
        parents = {c: p for p in self.root.iter() for c in p}
        for t in self.root.iter(XHTML + "table"):
            if t.get("class") == "matrix":
                continue  # its cells wrap (@media)
            self.assertEqual(parents[t].get("class"), "tblwrap", t.get("class"))
        for s in self.svgs.values():
            self.assertEqual(parents[s].get("class"), "tlwrap")


# Measured in a real browser: the layout at a phone's and a small laptop's
# width. Its own meson test (rpt-browser), which reports SKIP (exit 77), never
# a pass, where chromium is not installed.
MEASURE = r"""<script>
window.addEventListener('load', function () {
  var out = {width: innerWidth, page: document.documentElement.scrollWidth, svgs: [], problems: []};
  document.querySelectorAll('svg.timeline').forEach(function (svg) {
    var vb = svg.viewBox.baseVal, k = svg.getBoundingClientRect().width / vb.width, boxes = [];
    out.svgs.push({w: svg.getBoundingClientRect().width, font: 10 * k});
    svg.querySelectorAll('text').forEach(function (t) {
      var b = t.getBBox();
      boxes.push([b.x, b.y, b.width, b.height, t.textContent]);
      if (b.x < -0.5 || b.x + b.width > vb.width + 0.5) out.problems.push('outside: ' + t.textContent);
    });
    for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) {
      var a = boxes[i], c = boxes[j];
      var ox = Math.min(a[0] + a[2], c[0] + c[2]) - Math.max(a[0], c[0]);
      var oy = Math.min(a[1] + a[3], c[1] + c[3]) - Math.max(a[1], c[1]);
      if (ox > 0.5 && oy > 0.5) out.problems.push('overlap: ' + a[4] + ' / ' + c[4]);
    }
  });
  parent.postMessage(JSON.stringify(out), '*');
});
</script>"""
# Headless chromium's window is at least 500 px wide: the page is measured
# in a frame of the width under test, which posts what it measured here.
HOST = """<!DOCTYPE html><html><body style="margin:0"><pre id="measured"></pre>
<iframe src="measure.html" style="border:0;width:%dpx;height:2000px"></iframe>
<script>addEventListener('message', function (e) { document.getElementById('measured').textContent = e.data; });
</script></body></html>"""


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rpt-browser-")
        out, _ = presentation_report(cls.tmp)
        with open(os.path.join(out, "conformance.html"), encoding="utf-8") as f:
            page = f.read()
        cls.page = os.path.join(cls.tmp, "measure.html")
        with open(cls.page, "w", encoding="utf-8") as f:
            f.write(page.replace("</body>", MEASURE + "</body>"))
        cls.report = os.path.join(out, "conformance.html")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def chromium(self, width, *args):
        return subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                               "--user-data-dir=" + os.path.join(self.tmp, "profile"),
                               "--window-size=%d,2000" % width, *args], capture_output=True, text=True,
                              timeout=120)

    def measure(self, width):
        host = os.path.join(self.tmp, "host-%d.html" % width)
        with open(host, "w", encoding="utf-8") as f:
            f.write(HOST % width)
        p = self.chromium(max(width, 500) + 20, "--virtual-time-budget=5000", "--dump-dom", "file://" + host)
        m = re.search(r'<pre id="measured">(.+?)</pre>', p.stdout, re.S)
        self.assertTrue(m, p.stderr[-2000:])
        text = m.group(1)
        for ent, ch in (("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
            text = text.replace(ent, ch)
        return json.loads(text)

    def test_phone_and_laptop_widths(self):
        for width in (390, 800):
            with self.subTest(width=width):
                got = self.measure(width)
                self.assertEqual(got["width"], width)
                self.assertLessEqual(got["page"], width + 1, "the page itself must not scroll sideways")
                self.assertEqual(len(got["svgs"]), 3)
                for svg in got["svgs"]:
                    self.assertGreaterEqual(svg["w"], 1000, "a timeline shrunk to a thumbnail")
                    self.assertGreaterEqual(svg["font"], 8.5, "timeline text too small to read")
                self.assertEqual(got["problems"], [])

    def test_screenshots(self):
        """For a person to look at: RPT_SCREENSHOT_DIR keeps them."""
        keep = os.environ.get("RPT_SCREENSHOT_DIR") or self.tmp
        for width in (500, 800):  # 500: headless chromium's narrowest window
            png = os.path.join(keep, "report-%d.png" % width)
            self.chromium(width, "--screenshot=" + png, "file://" + self.report)
            with open(png, "rb") as f:
                head = f.read(24)
            self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
            self.assertEqual(int.from_bytes(head[16:20], "big"), width)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", required=True)
    ap.add_argument("--testdata", required=True)
    ap.add_argument("--catalogue", required=True)
    ap.add_argument("--valgrind-supp", default="/dev/null")
    ap.add_argument("--update-golden", action="store_true")
    ap.add_argument("--browser", action="store_true", help="only the checks in a real browser (chromium)")
    ARGS, rest = ap.parse_known_args()
    if ARGS.browser and not chromium():
        print("SKIP: chromium is not installed, so the report's layout at 390 and 800 px was not measured")
        sys.exit(77)  # meson: skipped, never a pass
    names = rest or (["Browser"] if ARGS.browser else ["Fixture", "ExitStatus", "Presentation"])
    unittest.main(argv=[sys.argv[0], "-v"] + names)


if __name__ == "__main__":
    main()

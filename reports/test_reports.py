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


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", required=True)
    ap.add_argument("--testdata", required=True)
    ap.add_argument("--catalogue", required=True)
    ap.add_argument("--valgrind-supp", default="/dev/null")
    ap.add_argument("--update-golden", action="store_true")
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v"] + rest)


if __name__ == "__main__":
    main()

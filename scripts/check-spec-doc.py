#!/usr/bin/python3
"""check-spec-doc.py CLAUSES_JSON SPEC_MD SCENARIOS_DIR — docs/SPEC.md (the
clause catalogue in prose) and reports/clauses.json (the registry) name the
same clauses (issue 14): every registry ID has a `### ID — title` section,
no section or bare ID in the prose is unknown to the registry, and every
scenario the prose names exists. Exit 1 naming each mismatch."""
import json
import os
import re
import sys


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        registry = [c["id"] for c in json.load(f)["clauses"]]
    with open(argv[2], encoding="utf-8") as f:
        text = f.read()
    sections = re.findall(r"(?m)^### ([A-Z]\d+) — \S", text)
    # a clause ID standing alone (not inside a scenario name like L1-discovery)
    mentioned = set(re.findall(r"(?<![\w-])([LHMCKSOPA]\d+)(?![\w-])", text))
    bad = []
    for cid in registry:
        if cid not in sections:
            bad.append("%s is in %s but has no '### %s — …' section in %s" % (cid, argv[1], cid, argv[2]))
    for cid in sorted(set(sections) | mentioned):
        if cid not in registry:
            bad.append("%s names clause %s, which %s does not know" % (argv[2], cid, argv[1]))
    for cid in {s for s in sections if sections.count(s) > 1}:
        bad.append("%s has more than one section for %s" % (argv[2], cid))
    for name in sorted(set(re.findall(r"`((?:NEG-)?[A-Z]\d*-[\w-]+)`", text))):
        if not any(os.path.exists(os.path.join(argv[3], sub, name + ".yaml")) for sub in ("", "negative")):
            bad.append("%s names scenario %s, which is not in %s" % (argv[2], name, argv[3]))
    for b in bad:
        print(b)
    if not bad:
        print("%s and %s agree on %d clauses" % (argv[1], argv[2], len(registry)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

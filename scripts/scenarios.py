#!/usr/bin/python3
"""The scenario registry, derived from the files themselves (issue 10): every
scenarios/*.yaml is a scenario test, every scenarios/negative/*.yaml a
negative control; a scenario's meson suites are its own `clauses:` families.

  scenarios.py list DIR          one line per file: KIND NAME TAGS(,-separated) PATH
                                 (TAGS: clause families, the clause IDs, "faults"
                                 for F-*, "memcheck" for `memcheck: true`, and
                                 "preload" for a scenario whose env sets
                                 LD_PRELOAD, e.g. libfaketime, and "long" for
                                 one that declares `repeat` or its own
                                 `timeout_ms`: meson starts those first)
  scenarios.py check DIR LIST    exit 1 naming every file that is not in LIST
                                 (the list meson was configured with): a file
                                 added since then must not go unnoticed.
YAML is read with PyYAML (Debian python3-yaml), never by hand."""
import os
import sys

import yaml


def scan(top):
    out = []
    for sub, kind in (("", "scenario"), ("negative", "negative")):
        d = os.path.join(top, sub)
        for f in sorted(os.listdir(d)):
            if not f.endswith(".yaml") or f.startswith("."):
                continue
            path = os.path.join(d, f)
            name = f[:-5]
            fams, memcheck, preload, long_ = [], False, False, False
            try:
                with open(path, encoding="utf-8") as fh:
                    doc = yaml.safe_load(fh)
                memcheck = (doc or {}).get("memcheck") is True
                preload = "LD_PRELOAD" in ((doc or {}).get("env") or {})
                long_ = "repeat" in (doc or {}) or "timeout_ms" in (doc or {})
                clauses = [str(c) for c in (doc or {}).get("clauses") or []]
                for c in clauses:
                    fam = c[:1]
                    if fam.isalpha() and fam not in fams:
                        fams.append(fam)
                # and each clause ID (issue 16: `meson test --suite L5`,
                # what the mutation lane runs first for an L5 mutant)
                fams += [c for c in clauses if c[:1].isalpha() and c not in fams]
            except (yaml.YAMLError, OSError, AttributeError, UnicodeDecodeError):
                pass  # registered anyway: the harness reports why it does not load
            if kind == "scenario" and name.startswith("F-"):
                fams.append("faults")
            if memcheck:
                fams.append("memcheck")
            if preload:
                fams.append("preload")
            if long_:
                fams.append("long")
            out.append((kind, name, fams, os.path.relpath(path, top)))
    return out


def main(argv):
    if len(argv) == 3 and argv[1] == "list":
        for kind, name, fams, rel in scan(argv[2]):
            print(kind, name, ",".join(fams) or "-", rel)
        return 0
    if len(argv) == 4 and argv[1] == "check":
        with open(argv[3], encoding="utf-8") as fh:
            known = {line.split()[3] for line in fh if line.strip()}
        missing = [rel for _, _, _, rel in scan(argv[2]) if rel not in known]
        for rel in missing:
            print("scenarios/%s is not registered as a meson test: reconfigure "
                  "(meson setup --reconfigure build) so that it runs" % rel)
        if not missing:
            print("every scenario file is registered (%d)" % len(known))
        return 1 if missing else 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

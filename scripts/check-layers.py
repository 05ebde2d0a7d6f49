#!/usr/bin/python3
"""check-layers.py OBJ|DIR... — no two source files call each other in a loop
(issue 10: "inside harness/, no two files call each other in a loop").
Reads each object's defined and undefined symbols with nm, builds the graph
file → files whose functions it calls, and fails naming every cycle."""
import os
import subprocess
import sys


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", obj], capture_output=True, text=True, check=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if len(l.split()) == 3 and l.split()[1] in "TDBR"}
    out = subprocess.run(["nm", "--undefined-only", obj], capture_output=True, text=True, check=True).stdout
    used = {l.split()[-1] for l in out.splitlines() if l.split()}
    return defined, used


def name(obj):
    base = os.path.basename(obj)
    return base[:-2] if base.endswith(".o") else base


def main(args):
    objs = []
    for a in args:  # a directory stands for the objects in it (meson's *.p dirs)
        objs += sorted(os.path.join(a, f) for f in os.listdir(a) if f.endswith(".o")) if os.path.isdir(a) else [a]
    if not objs:
        sys.stderr.write(__doc__)
        return 2
    defs, uses = {}, {}
    for o in objs:
        defs[name(o)], uses[name(o)] = symbols(o)
    owner = {s: f for f, ds in defs.items() for s in ds}
    graph = {f: sorted({owner[s] for s in uses[f] if s in owner and owner[s] != f}) for f in defs}
    # Tarjan's strongly connected components
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    for f in sorted(graph):
        print("%-16s → %s" % (f, ", ".join(graph[f]) or "(nothing)"))
    for c in sccs:
        print("CYCLE: %s call each other in a loop" % " ↔ ".join(c))
    print("%d files, %d cycle(s)" % (len(graph), len(sccs)))
    return 1 if sccs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""include_cycles.py — is there a circle in the include graph of lib/ and runner/? (issue 26)

A module is X.c with X.h; module X depends on Y when X.c or X.h includes Y.h. A header
X_internal.h is X's own private header (shared by X's .c files), part of module X. Prints
every circle found and exits 1 if there is one, 0 if none.
    usage: python3 scripts/include_cycles.py        (from the repository root)"""
import glob
import os
import re
import sys

FILES = sorted(glob.glob("runner/*.[ch]") + glob.glob("lib/*/*.[ch]"))


def resolve(src, inc):
    """The file an #include "inc" in src names, as the build's include path finds it."""
    here = os.path.join(os.path.dirname(src), inc)
    for cand in [here, os.path.join("lib", inc), os.path.join("runner", inc)] + sorted(glob.glob("lib/*/" + inc)):
        if os.path.exists(cand):
            return os.path.normpath(cand)
    return None  # a system or generated header


def module(path):
    return re.sub(r"_internal$", "", os.path.splitext(path)[0])


def main():
    graph = {}
    for f in FILES:
        with open(f, encoding="utf-8") as fh:
            for inc in re.findall(r'^\s*#\s*include\s+"([^"]+)"', fh.read(), re.M):
                target = resolve(f, inc)
                if target and module(target) != module(f):
                    graph.setdefault(module(f), set()).add(module(target))
    sys.setrecursionlimit(100000)
    state, stack, circles = {}, [], []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                circles.append(stack[stack.index(v):] + [v])
            elif not state.get(v):
                visit(v)
        stack.pop()
        state[u] = 2

    for m in sorted(graph):
        if not state.get(m):
            visit(m)
    modules = len(set(graph) | {v for vs in graph.values() for v in vs})
    for c in circles:
        print("include circle: " + " -> ".join(c))
    print(f"include graph: {modules} modules, {sum(len(v) for v in graph.values())} edges, {len(circles)} circles")
    return 1 if circles else 0


if __name__ == "__main__":
    sys.exit(main())

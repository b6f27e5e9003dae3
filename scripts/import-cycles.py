#!/usr/bin/env python3
"""Files that import each other (directly or through a chain), per crate: the import circles issue 13
counts. A file's imports are its `use crate::a::b` / `super::x` paths resolved to files of the same crate."""
import os, re, sys

def files_of(src):
    out = {}
    for root, _, fs in os.walk(src):
        for f in fs:
            if f.endswith('.rs'):
                p = os.path.join(root, f)
                rel = os.path.relpath(p, src)[:-3]
                parts = rel.split(os.sep)
                if parts[-1] in ('mod', 'lib', 'main'):
                    parts = parts[:-1]
                out[tuple(parts)] = p
    return out

def resolve(mods, path):
    # longest prefix of `path` that is a file
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in mods:
            return tuple(path[:n])
    return None

USE = re.compile(r'\b(crate|super|self)((?:::\w+)+)')
USE_GROUP = re.compile(r'\buse\s+(crate|super|self)((?:::\w+)*)::\{([^;]*)\};', re.S)

def imports(mods, me, text):
    # skip tests: a test module importing its parent is no circle
    text = text.split('#[cfg(test)]')[0]
    found = set()
    def add(base, rest):
        cur = list(me)  # the module path of this file: `self`
        if base == 'crate':
            cur = []
        elif base == 'super':
            cur = cur[:-1] if cur else []
        elif base == 'self':
            pass
        segs = [s for s in rest.split('::') if s]
        while segs and segs[0] == 'super':
            cur = cur[:-1]; segs = segs[1:]
        t = resolve(mods, cur + segs)
        if t is not None and t != me:
            found.add(t)
    for m in USE_GROUP.finditer(text):
        base, rest, inner = m.group(1), m.group(2), m.group(3)
        for item in re.split(r',', inner):
            item = item.strip().split(' as ')[0].strip()
            if item and item != 'self' and re.match(r'^[\w:]+$', item):
                add(base, rest + '::' + item)
            elif item == 'self':
                add(base, rest)
    for m in USE.finditer(USE_GROUP.sub('', text)):
        add(m.group(1), m.group(2))
    found.discard(())
    return found

def sccs(g):
    """Strongly connected components (Tarjan) with more than one file: longer circles."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted('/'.join(c) or 'lib' for c in comp))
    sys.setrecursionlimit(10000)
    for v in g:
        if v not in index:
            visit(v)
    return out

def graph(src):
    mods = files_of(src)
    return {m: imports(mods, m, open(p).read()) for m, p in mods.items()}

def cycles(src):
    g = graph(src)
    # a parent module file (mod.rs) declaring children is structure, not an import; count pairs only
    pairs = set()
    for a, outs in g.items():
        for b in outs:
            if a in g.get(b, ()) and a != b:
                # ignore parent<->child through `mod` + re-exports
                pairs.add(tuple(sorted(['/'.join(a) or 'lib', '/'.join(b) or 'lib'])))
    return sorted(pairs)

total = 0
for crate in sorted(os.listdir('crates')):
    src = os.path.join('crates', crate, 'src')
    if not os.path.isdir(src):
        continue
    for a, b in cycles(src):
        total += 1
        print(f'{crate}: {a} <-> {b}')
print(f'{total} pairs of files import each other')
if '--long' in sys.argv:
    for crate in sorted(os.listdir('crates')):
        src = os.path.join('crates', crate, 'src')
        if os.path.isdir(src):
            for comp in sccs(graph(src)):
                print(f'{crate}: circle of {len(comp)} files: {" ".join(comp)}')
sys.exit(0)

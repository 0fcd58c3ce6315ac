#!/bin/bash
# The README's and docs/*.md's links resolve: every in-page link ("](#a)")
# names a heading of its own file, every relative link to a file
# ("](docs/web.md#a)", "](../README.md#a)", "](config/devices/README.md)")
# names a file that exists and, for a .md file with "#a", a heading in it.
# Every "##" section of the README is in its table of contents, and every
# docs/*.md is linked from the README. Anchors follow GitHub's rules: lower
# case, punctuation other than "-" and "_" dropped, spaces to "-", a
# repeated heading gets "-1", "-2".
#   tests/config/check_toc.sh [--fix]   (--fix rewrites a link whose
#   heading moved to another of these files; review the diff)
set -u
cd "$(dirname "$0")/../.." || exit 2
python3 - "${1:-}" README.md docs/*.md <<'PYEOF'
import os, re, sys
fix, files = sys.argv[1] == "--fix", sys.argv[2:]
LINK = re.compile(r"\]\(([^)\s]+)\)")

def strip_code(text):
    return re.sub(r"```.*?```", "", text, flags=re.S)  # headings/links in code blocks are not

def anchors_of(path):
    seen, anchors, h2 = {}, set(), []
    for m in re.finditer(r"^(#{1,6}) +(.+?) *#*$", strip_code(open(path, encoding="utf-8").read()), re.M):
        a = re.sub(r"[^\w\- ]", "", m.group(2).strip().lower().replace("`", "")).replace(" ", "-")
        n = seen.get(a, 0)
        seen[a] = n + 1
        a = a if n == 0 else "%s-%d" % (a, n)
        anchors.add(a)
        if m.group(1) == "##" and a != "contents":
            h2.append(a)
    return anchors, h2

anchors = {os.path.normpath(f): anchors_of(f)[0] for f in files}

def resolve(src, target):
    """None when target resolves, else the reason."""
    if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
        return None
    path, _, frag = target.partition("#")
    dest = os.path.normpath(os.path.join(os.path.dirname(src), path)) if path else os.path.normpath(src)
    if not os.path.exists(dest):
        return "no file %s" % dest
    if frag and dest.endswith(".md"):
        if dest not in anchors:
            anchors[dest] = anchors_of(dest)[0]
        if frag not in anchors[dest]:
            return "no heading #%s in %s" % (frag, dest)
    return None

def moved(src, target):
    """The same link pointing where the heading or file now is, or None."""
    path, _, frag = target.partition("#")
    if frag:
        homes = [f for f, a in anchors.items() if frag in a and f.endswith(".md")]
        if len(homes) == 1:
            rel = os.path.relpath(homes[0], os.path.dirname(src) or ".")
            return "#" + frag if homes[0] == os.path.normpath(src) else "%s#%s" % (rel, frag)
    elif path and os.path.exists(path):  # a path written relative to the top
        return os.path.relpath(path, os.path.dirname(src) or ".")
    return None

bad, nlinks = [], 0
for f in files:
    text = open(f, encoding="utf-8").read()
    body = strip_code(text)
    for t in LINK.findall(body):
        nlinks += 1
        why = resolve(f, t)
        if why and fix and moved(f, t):
            text = text.replace("](%s)" % t, "](%s)" % moved(f, t))
            continue
        if why:
            bad.append("  %s: link (%s): %s" % (f, t, why))
    if fix:
        open(f, "w", encoding="utf-8").write(text)

readme = strip_code(open("README.md", encoding="utf-8").read())
inpage = re.findall(r"\]\(#([^)\s]+)\)", readme)
untold = ["  README: section #%s is not in the table of contents" % a for a in anchors_of("README.md")[1]
          if a not in inpage]
linked = {os.path.normpath(t.partition("#")[0]) for t in LINK.findall(readme)}
unlinked = ["  README: %s is linked from nowhere in the README" % f for f in files[1:] if os.path.normpath(f) not in linked]
if bad or untold or unlinked or not inpage:
    print("\n".join(bad + untold + unlinked))
    print("FAIL docs/toc: %d of %d links of the README and docs/*.md do not resolve; %d README sections missing from "
          "the table of contents; %d docs/*.md not linked from the README" % (len(bad), nlinks, len(untold), len(unlinked)))
    sys.exit(1)
print("PASS docs/toc: the %d links of the README and %d docs/*.md files all resolve (file and heading); every one of "
      "the README's %d sections is in its table of contents, every docs/*.md linked from it"
      % (nlinks, len(files) - 1, len(anchors_of("README.md")[1])))
PYEOF

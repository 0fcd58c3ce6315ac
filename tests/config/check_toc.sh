#!/bin/bash
# The README's in-page links (its table of contents, the quick start's
# pointers, every "](#anchor)") each name a heading that exists, and every
# "##" section is linked (the table of contents lists it), with
# GitHub's anchor rules: lower case, punctuation other than "-" and "_"
# dropped, spaces to "-", a repeated heading gets "-1", "-2".
set -u
cd "$(dirname "$0")/../.." || exit 2
python3 - README.md <<'PYEOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
body = re.sub(r"```.*?```", "", text, flags=re.S)  # headings in code blocks are not headings
seen, anchors, h2 = {}, set(), []
for m in re.finditer(r"^(#{1,6}) +(.+?) *#*$", body, re.M):
    a = re.sub(r"[^\w\- ]", "", m.group(2).strip().lower().replace("`", "")).replace(" ", "-")
    n = seen.get(a, 0)
    seen[a] = n + 1
    a = a if n == 0 else "%s-%d" % (a, n)
    anchors.add(a)
    if m.group(1) == "##" and a != "contents":  # the table itself
        h2.append(a)
links = re.findall(r"\]\(#([^)\s]+)\)", body)
bad = sorted({l for l in links if l not in anchors})
untold = [a for a in h2 if a not in links]
if bad or untold or not links:
    for l in bad:
        print("  README: no heading for #%s" % l)
    for a in untold:
        print("  README: section #%s is not in the table of contents" % a)
    print("FAIL docs/toc: %d of %d in-page links of the README name no heading; %d sections missing from the "
          "table of contents" % (len(bad), len(links), len(untold)))
    sys.exit(1)
print("PASS docs/toc: the README's %d in-page links all name a heading; every one of its %d sections is in the "
      "table of contents" % (len(links), len(h2)))
PYEOF

#!/bin/bash
# `make demo` tells the truth about time (issue 17 item 9): its rooms run
# 1 s = 1 simulated minute, and so must the shelf-life model.  The lots run on
# "lychee-demo", which tests/demo_profile.py derives from "lychee"
# (config/profiles.conf): durations /60, per-hour rates x60, K h doses /60,
# everything else and every grade and source kept.  Checks (1) the derived
# file is exactly what the script derives; (2) independently, number by
# number, that lychee-demo is lychee on the x60 clock and every other
# profile is untouched; (3) a real 40 s run of tests/demo.sh says which clock
# the figures are on, and the warm room's lot's consumed fraction rises
# between the first and the last print by what the profile's Arrhenius model
# gives for the product temperatures printed: at least the elapsed time at
# the lowest printed one (less 2 C), at most at the highest (plus 2 C).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"
command -v influxd >/dev/null 2>&1 || skip "influxd is not installed (tests/deps.sh installs it)"

DEMO_OUT=$T/demo.out
DEMO_DIR=$T/demo DEMO_SECONDS=40 DEMO_PRINT_EVERY=5 bash "$ROOT_DIR/tests/demo.sh" "$BUILD_DIR" >"$DEMO_OUT" 2>&1 </dev/null
rc=$?
[ "$rc" = 0 ] || { show_log "$DEMO_OUT" 40; die "tests/demo.sh exited $rc"; }

"$PY" "$ROOT_DIR/tests/demo_profile.py" shelf "$ROOT_DIR/config/profiles.conf" 60 >"$T/derived.conf" ||
	die "tests/demo_profile.py shelf failed"
check "the demo's profiles.conf is what tests/demo_profile.py derives" cmp -s "$T/derived.conf" "$T/demo/profiles.conf"
check "the demo's lots are on lychee-demo" grep -q 'product = "lychee-demo";' "$T/demo/demo.conf"

# (2) independently: lychee-demo against lychee, key by key.
cat >"$T/derive_check.py" <<'PYEOF'
import re, sys
orig, demo = open(sys.argv[1]).read(), open(sys.argv[2]).read()
def block(s, name):
    i = s.index('name = "%s";' % name); a = s.rindex("{", 0, i); d = 0; k = a
    while True:
        d += {"{": 1, "}": -1}.get(s[k], 0)
        if d == 0: return s[a:k + 1]
        k += 1
U = {"s": 1, "m": 60, "h": 3600, "d": 86400}
def vals(b):
    out = {}
    for sect, body in re.findall(r'(\w+) = \{([^{}]*)\}', b):
        for k, v, src in re.findall(r'(\w+) = \(("?[0-9.eE+-]+[smhd]?"?), "([^"]*)"\)', body):
            out[sect + "." + k] = (float(v.strip('"')[:-1]) * U[v.strip('"')[-1]] if v.startswith('"') else float(v), src)
    return out
a, b = vals(block(orig, "lychee")), vals(block(demo, "lychee-demo"))
F = {"model.shelf_life": 1 / 60, "model.tau": 1 / 60, "model.remaining_warn": 1 / 60, "limits.on_delay": 1 / 60,
     "limits.rh_on_delay": 1 / 60, "water.kt_fresh": 60, "water.kt_dry": 60, "chill.warn_kh": 1 / 60, "chill.alarm_kh": 1 / 60}
assert set(a) == set(b), set(a) ^ set(b)
for k in a:
    want = a[k][0] * F.get(k, 1)
    assert abs(b[k][0] - want) <= 1e-9 * abs(want) + 0.5 * (k in F and "kt" not in k and "kh" not in k), (k, a[k], b[k])
    assert b[k][1].startswith(a[k][1]), (k, a[k][1], b[k][1])
    assert (k in F) == ("demo clock: x60" in b[k][1]), (k, b[k][1])
assert 'version = "2025.2-demo";' in block(demo, "lychee-demo") or re.search(r'version = "[^"]*-demo";', block(demo, "lychee-demo"))
rest = demo.replace(block(demo, "lychee-demo") + ",", "", 1)
assert re.sub(r"\s+", " ", rest) == re.sub(r"\s+", " ", orig), "other profiles changed"
print("%d numbers, %d scaled" % (len(a), len([k for k in a if k in F])))
PYEOF
if out=$("$PY" "$T/derive_check.py" "$ROOT_DIR/config/profiles.conf" "$T/demo/profiles.conf" 2>&1); then
	pass "lychee-demo is lychee on the x60 clock ($out)"
else
	fail "lychee-demo against lychee: $out"
fi

check "the demo says which clock the shelf-life figures are on" \
	grep -qF "shelf-life figures run on the demo clock (×60): 1 s here = 1 min of storage" "$DEMO_OUT"

# (3) the warm room's lot: consumed against the model, from the prints.
cat >"$T/consumed_check.py" <<'PYEOF'
import math, re, sys
text, prof = open(sys.argv[1]).read(), open(sys.argv[2]).read()
i = prof.index('name = "lychee-demo";')
b = prof[i:prof.index("water = {", i)]
g = lambda k: re.search(r'\b%s = \("?([0-9.]+)s?"?' % k, b).group(1)
sl_s, ea, tref, vmin, vmax = float(g("shelf_life")), float(g("ea")), float(g("t_ref")), float(g("valid_min")), float(g("valid_max"))
rate = lambda t: math.exp(-(ea * 1000 / 8.314462618) * (1 / (min(max(t, vmin), vmax) + 273.15) - 1 / (tref + 273.15)))
pts, now = [], None
for line in text.splitlines():
    m = re.match(r"\[(\d\d):(\d\d):(\d\d)\]", line)
    if m:
        now = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
    m = re.search(r"lot LN-A-0612 \([^)]*\): product ([0-9.-]+) °C, ([0-9.]+) % of shelf life used", line)
    if m and now is not None:
        pts.append((now, float(m.group(1)), float(m.group(2)) / 100))
assert len(pts) >= 3, "fewer than 3 prints of lot LN-A-0612: %r" % pts
(t0, _, c0), (t1, _, c1) = pts[0], pts[-1]
dt = (t1 - t0) % 86400
temps = [p[1] for p in pts]
# Each printed figure is the last shelf_life point (every 5 s, flushed every 1 s): up to 6 s old.
lo = max(0, dt - 8) * rate(min(temps) - 2) / sl_s
hi = (dt + 8) * rate(max(temps) + 2) / sl_s
assert lo <= c1 - c0 <= hi, "consumed %.5f -> %.5f in %d s: expected %.5f..%.5f" % (c0, c1, dt, lo, hi)
print("consumed %.3f %% -> %.3f %% in %d s, model %.3f..%.3f %%; on the wall clock it would be %.4f %%" % (
    100 * c0, 100 * c1, dt, 100 * lo, 100 * hi, 100 * (c1 - c0) / 60))
PYEOF
if out=$("$PY" "$T/consumed_check.py" "$DEMO_OUT" "$T/demo/profiles.conf" 2>&1); then
	pass "room A's lot loses shelf life on the demo clock ($out)"
else
	fail "room A's lot on the demo clock: $out"
	show_log "$DEMO_OUT" 60
fi

# No system service: the demo's influxd is its own (its data dir, a free
# port) and coldchaind writes to it; the demo has no MQTT broker at all.
port=$(sed -n 's/^  influxd *on 127\.0\.0\.1:\([0-9]*\) (data in .*/\1/p' "$DEMO_OUT")
check "the demo started its own influxd (port ${port:-none}, data in its dir)" \
	grep -qE "influxd +on 127\.0\.0\.1:$port \(data in $T/demo/influxdb\)" "$DEMO_OUT"
check "coldchaind wrote to that influxd only, and to no MQTT broker" \
	eval "[ -n '$port' ] && [ \"\$(grep -c 'url = ' '$T/demo/demo.conf')\" = 1 ] && grep -q 'url = \"http://127.0.0.1:$port\"' '$T/demo/demo.conf' && ! grep -q '^mqtt' '$T/demo/demo.conf'"
check "coldchaind exited 0 at the end of the demo (under ASan: no leak, no error)" grep -qx "  coldchaind exited 0" "$DEMO_OUT"
finish

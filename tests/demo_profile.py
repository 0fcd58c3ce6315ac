"""demo_profile.py PROCESSES.CONF SCALE - prints processes.conf with one more
profile, "lychee-fa-demo": lychee-forced-air on the clock of the demo's
precooler (tests/modbus_sim --process-scale SCALE, SCALE simulated seconds a
real second), its rates (c_min, c_max, c_ref) x SCALE and durations
(medium_duration, harvest_limit) / SCALE, grades and sources kept, so the
daemon, which stamps readings at the wall clock, judges the batch as on the
simulated clock."""
import re, sys
src, scale = sys.argv[1], float(sys.argv[2])
s = open(src).read()
i = s.index('name = "lychee-forced-air";')
a = s.rindex("{", 0, i)
depth, k = 0, a
while True:
    if s[k] == "{": depth += 1
    elif s[k] == "}":
        depth -= 1
        if depth == 0: break
    k += 1
b = s[a:k + 1]
def dur_s(v):
    n, u = float(v[:-1]), v[-1]
    return n * {"s": 1, "m": 60, "h": 3600, "d": 86400}[u]
note = "; demo clock: x%g" % scale
b = b.replace('name = "lychee-forced-air";', 'name = "lychee-fa-demo";')
b = re.sub(r'version = "([^"]*)";', r'version = "\1-demo";', b)
b = re.sub(r'description = "([^"]*)";', 'description = "lychee-forced-air on the demo precooler\'s clock (1 s = %g simulated s): rates x%g, durations /%g";' % (scale, scale, scale), b)
def rate(m):
    v = "%.6g" % (float(m.group(2)) * scale)
    return '%s = (%s, "%s%s")' % (m.group(1), v if "." in v or "e" in v else v + ".0", m.group(3), note)
b = re.sub(r'(c_min|c_max|c_ref) = \(([0-9.]+), "([^"]*)"\)', rate, b)
def dur(m):
    return '%s = ("%ds", "%s%s")' % (m.group(1), max(1, round(dur_s(m.group(2)) / scale)), m.group(3), note)
b = re.sub(r'(medium_duration|harvest_limit) = \("([0-9.]+[smhd])", "([^"]*)"\)', dur, b)
m = re.search(r'process_profiles\s*=\s*\(', s)
print(s[:m.end()] + "\n  " + b + "," + s[m.end():], end="")

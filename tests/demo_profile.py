"""demo_profile.py - the demo's derived profiles, on the demo's clocks.

`demo_profile.py PROCESSES.CONF SCALE` prints processes.conf with one more
profile, "lychee-fa-demo": lychee-forced-air on the clock of the demo's
precooler (tests/modbus_sim --process-scale SCALE, SCALE simulated seconds a
real second), its rates (c_min, c_max, c_ref) x SCALE and durations
(medium_duration, harvest_limit) / SCALE, grades and sources kept, so the
daemon, which stamps readings at the wall clock, judges the batch as on the
simulated clock.

`demo_profile.py shelf PROFILES.CONF SCALE` prints profiles.conf with one
more profile, "lychee-demo": lychee on the clock of the demo's cold rooms
(SCALE simulated seconds a real second, 60: 1 s = 1 simulated minute).  The
models integrate over wall-clock time, so every duration of the profile is
divided by SCALE (model shelf_life, tau, remaining_warn; limits on_delay,
rh_on_delay), every per-hour rate multiplied by it (water kt_fresh, kt_dry,
per Pa per h) and every dose in K h divided by it (chill warn_kh,
alarm_kh); temperatures, ea, Q10s and percentages are kept, and so are the
grades and sources.  The consumed fraction per real second is then the real
profile's per simulated second x SCALE: per simulated minute for 60."""
import re
import sys

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def block(s, name):
    """The text of the { ... } group holding name = "NAME"; and its start."""
    i = s.index('name = "%s";' % name)
    a = s.rindex("{", 0, i)
    depth, k = 0, a
    while True:
        if s[k] == "{":
            depth += 1
        elif s[k] == "}":
            depth -= 1
            if depth == 0:
                break
        k += 1
    return s[a:k + 1]


def dur_s(v):
    return float(v[:-1]) * UNITS[v[-1]]


def num(x):
    v = "%.6g" % x
    return v if "." in v or "e" in v else v + ".0"


def src_note(src, note):
    """The source with the clock noted: a bare grade ("D") takes it as its note."""
    return src + note if ":" in src else src + ":" + note[1:]


def graded(keys, fn, note):
    """A substitution for `KEY = (NUMBER, "SOURCE")` with NUMBER -> fn(NUMBER)."""
    pat = r'\b(%s) = \(([0-9.eE+-]+), "([^"]*)"\)' % "|".join(keys)
    return pat, lambda m: '%s = (%s, "%s")' % (m.group(1), num(fn(float(m.group(2)))), src_note(m.group(3), note))


def graded_dur(keys, scale, note):
    pat = r'\b(%s) = \("([0-9.]+[smhd])", "([^"]*)"\)' % "|".join(keys)
    return pat, lambda m: '%s = ("%ds", "%s")' % (
        m.group(1), max(1, round(dur_s(m.group(2)) / scale)), src_note(m.group(3), note))


def insert(s, group, b):
    m = re.search(r'\b%s\s*=\s*\(' % group, s)
    return s[:m.end()] + "\n  " + b + "," + s[m.end():]


def shelf(src, scale):
    s = open(src).read()
    b = block(s, "lychee")
    note = "; demo clock: x%g" % scale
    b = b.replace('name = "lychee";', 'name = "lychee-demo";')
    b = re.sub(r'version = "([^"]*)";', r'version = "\1-demo";', b)
    b = re.sub(r'description = "([^"]*)";',
               'description = "lychee on the demo cold rooms\' clock (1 s = %g simulated s): durations /%g, '
               'rates x%g, chilling doses /%g";' % (scale, scale, scale, scale), b)
    for pat, fn in (graded_dur(("shelf_life", "tau", "remaining_warn", "on_delay", "rh_on_delay"), scale, note),
                    graded(("kt_fresh", "kt_dry"), lambda x: x * scale, note),
                    graded(("warn_kh", "alarm_kh"), lambda x: x / scale, note)):
        b = re.sub(pat, fn, b)
    return insert(s, "profiles", b)


def precool(src, scale):
    s = open(src).read()
    b = block(s, "lychee-forced-air")
    note = "; demo clock: x%g" % scale
    b = b.replace('name = "lychee-forced-air";', 'name = "lychee-fa-demo";')
    b = re.sub(r'version = "([^"]*)";', r'version = "\1-demo";', b)
    b = re.sub(r'description = "([^"]*)";', 'description = "lychee-forced-air on the demo precooler\'s clock '
               '(1 s = %g simulated s): rates x%g, durations /%g";' % (scale, scale, scale), b)
    for pat, fn in (graded(("c_min", "c_max", "c_ref"), lambda x: x * scale, note),
                    graded_dur(("medium_duration", "harvest_limit"), scale, note)):
        b = re.sub(pat, fn, b)
    return insert(s, "process_profiles", b)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "shelf":
        print(shelf(sys.argv[2], float(sys.argv[3])), end="")
    else:
        print(precool(sys.argv[1], float(sys.argv[2])), end="")

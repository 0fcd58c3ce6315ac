#!/bin/bash
# Every reply of the control socket is one line of valid UTF-8 JSON,
# whatever bytes a request holds: invalid UTF-8 (stray bytes, overlongs,
# surrogates, a sequence cut short) and NUL bytes (raw or as \u0000 inside a
# string) are refused as bad_request without being echoed; valid non-ASCII
# names are echoed intact, even where a message is cut at a byte count.
# Checked by Python's strict UTF-8 decoder and json module, not by our code.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
SOCK=$T/state/coldchaind.sock

{
	config_head
	cat <<CONF
outputs = { file = ( { name = "f"; path = "$T/out.lp"; } ); };
rooms = ( { name = "A"; temperature = "th-a1/temperature"; } );
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "the control socket" test -S "$SOCK" || die "no control socket at $SOCK"

"$PY" - "$SOCK" >"$T/utf8.out" 2>&1 <<'PYEOF'
import json, os, sys
sys.path.insert(0, os.environ["CC_ITEST_DIR"])
from ctl_client import exchange
path = sys.argv[1]

E = "\u00e9"  # e-acute, two bytes in UTF-8
cases = [
    # (name, request bytes, expected ok, expected code or None)
    ("stray 0xFF in a string", b'{"cmd":"\xff"}\n', False, "bad_request"),
    ("0xFF in an alarm id", b'{"cmd":"ack","id":"A/\xfftemp"}\n', False, "bad_request"),
    ("a 2-byte sequence cut short", b'{"cmd":"ack","id":"\xc3("}\n', False, "bad_request"),
    ("an overlong '/'", b'{"cmd":"ack","id":"\xc0\xaf"}\n', False, "bad_request"),
    ("a UTF-8 encoded surrogate", b'{"cmd":"ack","id":"\xed\xa0\x80"}\n', False, "bad_request"),
    ("past U+10FFFF", b'{"cmd":"ack","id":"\xf4\x90\x80\x80"}\n', False, "bad_request"),
    ("Latin-1 text", b'{"cmd":"lot_load","room":"A","lot":"L\xe9","product":"p"}\n', False, "bad_request"),
    ("garbage bytes only", b"\xff\xfe\xfd\n", False, "bad_request"),
    ("a raw NUL inside a string", b'{"cmd":"status\x00"}\n', False, "bad_request"),
    ("a raw NUL after the object", b'{"cmd":"ping"}\x00\n', False, "bad_request"),
    ("\\u0000 ending a command early", b'{"cmd":"status\\u0000junk"}\n', False, "bad_request"),
    ("\\u0000 inside an id", b'{"cmd":"ack","id":"A\\u0000B"}\n', False, "bad_request"),
    ("an escaped backslash before u0000 is no NUL", b'{"cmd":"ping","note":"C:\\\\u0000"}\n', True, None),
    ("a valid non-ASCII unknown command, cut at 64 bytes mid-character",
     ('{"cmd":"' + "x" * 63 + E * 4 + '"}\n').encode(), False, "bad_request"),
    ("a valid non-ASCII alarm id, its message cut at 512 bytes mid-character",
     ('{"cmd":"ack","id":"' + E * 255 + '"}\n').encode(), False, "not_found"),
    ("a valid non-ASCII unknown room", ('{"cmd":"lot_load","room":"K\u00fchl' + E + '","lot":"L","product":"p"}\n').encode(),
     False, "not_found"),
    ("a valid 4-byte character in a user name", ('{"cmd":"ping","user":"op\U0001F600"}\n').encode(), True, None),
    ("ping", b'{"cmd":"ping"}\n', True, None),
]
bad = 0
for name, data, want_ok, want_code in cases:
    raw = exchange(path, data)
    problems = []
    if not raw.endswith(b"\n") or raw.count(b"\n") != 1:
        problems.append("not one line: %r" % raw[:120])
    try:
        text = raw.decode("utf-8", "strict")
        r = json.loads(text)
    except (UnicodeDecodeError, ValueError) as e:
        problems.append("not UTF-8 JSON (%s): %r" % (e, raw[:160]))
        r = None
    if r is not None:
        if not isinstance(r, dict) or r.get("ok") is not want_ok:
            problems.append("ok is not %s: %r" % (want_ok, r))
        elif want_code and r.get("code") != want_code:
            problems.append("code %r, not %r: %r" % (r.get("code"), want_code, r))
        # invalid bytes are refused by offset and value, not echoed (even replaced)
        try:
            data.decode("utf-8", "strict")
        except UnicodeDecodeError:
            if "\ufffd" in text or "\\ufffd" in text:
                problems.append("the invalid bytes were echoed: %r" % text[:160])
        if r.get("ok") is False and "room" in name and "K\u00fchl" + E not in r.get("error", ""):
            problems.append("the valid name is not echoed intact: %r" % r)
    if problems:
        bad += 1
        print("CASE FAIL %s: %s" % (name, "; ".join(problems)))
    else:
        print("CASE OK %s" % name)
print("RESULT bad", bad, "of", len(cases))
PYEOF
sed 's/^/  | /' "$T/utf8.out" | grep -v "^  | RESULT"
expect_eq "requests whose reply is not valid UTF-8 JSON with the expected ok/code" \
	"$(sed -n 's/^RESULT bad \([0-9]*\) of .*/\1/p' "$T/utf8.out")" 0
check "the daemon is still alive" pid_alive "$DAEMON_PID"

finish

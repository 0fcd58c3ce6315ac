#!/bin/bash
# `coldchainctl user add/del/list` on the web page's users file: the file is
# written with mode 0600 (even when it was 0644 before), comments and other
# users' lines are kept, a second add of a name replaces its line (new hash
# and role) instead of adding one, and the hash is yescrypt that Python's
# crypt module (libcrypt, an independent caller) verifies against the
# password given and refuses for another.  On a terminal (a pty driven by
# Python) the password is asked twice and never echoed; two different
# entries are refused.  del removes only its line; list shows name and role.
# No daemon: the web listener reads the file with the same core
# (daemon/web/auth.c), which tests/unit/test_auth.c covers.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
U=$T/users

# verify HASH PASSWORD: exit 0 when the hash is yescrypt and matches.
verify() {
	"$PY" -W ignore -c '
import crypt, hmac, sys
h, pw = sys.argv[1], sys.argv[2]
sys.exit(0 if h.startswith("$y$") and hmac.compare_digest(crypt.crypt(pw, h), h) else 1)' "$1" "$2"
}
hash_of() { sed -n "s/^$1:\([^:]*\):.*/\1/p" "$U"; }

printf '# web page users\n\nkeep:$6$abcdefgh$%s:viewer\n' \
	"$("$PY" -c 'print("A"*86)')" >"$U"
chmod 0644 "$U"

out=$(printf 'first pass\n' | "$CTL" user add anna --role operator --file "$U" 2>&1)
expect_eq "first add says" "$out" "user anna (operator) added to $U"
expect_eq "mode after add" "$(stat -c %a "$U")" 600
check "comment, blank line and the other user are kept" \
	grep -qxF '# web page users' "$U"
check "the other user's line is kept" grep -q '^keep:\$6\$abcdefgh\$A\{86\}:viewer$' "$U"
h1=$(hash_of anna)
check "anna's hash verifies with Python's crypt (yescrypt)" verify "$h1" 'first pass'
if verify "$h1" 'first pasS'; then fail "a wrong password verified"; else pass "a wrong password does not verify"; fi

out=$(printf 'second pass\n' | "$CTL" user add anna --file "$U" 2>&1)
expect_eq "second add says" "$out" "user anna (viewer) replaced in $U"
expect_eq "anna has one line" "$(grep -c '^anna:' "$U")" 1
check "anna's line now says viewer" grep -q '^anna:.*:viewer$' "$U"
h2=$(hash_of anna)
check "the new password verifies" verify "$h2" 'second pass'
if verify "$h2" 'first pass'; then fail "the old password still verifies"; else pass "the old password no longer verifies"; fi

out=$(printf 'x\n' | "$CTL" user add bao --file "$U" 2>&1)
expect_eq "list" "$("$CTL" user list --file "$U" 2>&1)" "$(printf 'keep viewer\nanna viewer\nbao viewer')"

# On a terminal: asked twice, never echoed; a mismatch is refused.
"$PY" - "$CTL" "$U" >"$T/pty.out" 2>&1 <<'PYEOF'
import os, pty, sys, time
ctl, users = sys.argv[1], sys.argv[2]

def run(answers):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(ctl, [ctl, "user", "add", "chi", "--role", "operator", "--file", users])
    out, sent = b"", 0
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        prompts = out.count(b"Password for chi: ") + out.count(b"Again: ")
        while sent < prompts and sent < len(answers):
            os.write(fd, answers[sent] + b"\n")
            sent += 1
    _, st = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(st), out.decode(errors="replace")

rc, out = run([b"tty secret", b"tty secreT"])
print("MISMATCH rc=%d %s" % (rc, out.replace("\r", "").replace("\n", "|")))
rc, out = run([b"tty secret", b"tty secret"])
print("MATCH rc=%d %s" % (rc, out.replace("\r", "").replace("\n", "|")))
PYEOF
check "a terminal mismatch is refused (exit 1)" grep -q '^MISMATCH rc=1 .*the two passwords differ' "$T/pty.out"
check "a terminal match adds chi" grep -q '^MATCH rc=0 Password for chi: |Again: |user chi (operator) added' "$T/pty.out"
if grep -q 'tty secret' "$T/pty.out"; then fail "the password was echoed: $(cat "$T/pty.out")"; else pass "the password is never echoed"; fi
check "chi's hash verifies" verify "$(hash_of chi)" 'tty secret'

out=$("$CTL" user del anna --file "$U" 2>&1)
expect_eq "del says" "$out" "user anna removed from $U"
expect_eq "after del" "$(grep -v '^#' "$U" | grep -v '^$' | cut -d: -f1 | tr '\n' ' ')" "keep bao chi "
"$CTL" user del anna --file "$U" >/dev/null 2>&1
expect_eq "del of a missing user exits" "$?" 1
printf 'x\n' | "$CTL" user add 'bad:name' --file "$U" >/dev/null 2>&1
expect_eq "a bad name exits" "$?" 2
printf '' | "$CTL" user add dan --file "$U" >/dev/null 2>&1
expect_eq "no password exits" "$?" 1
# Sixteen adds at once: every one lands (writers take turns).
pids=()
for i in $(seq 1 16); do
	printf 'p%d\n' "$i" | "$CTL" user add "par$i" --file "$U" >/dev/null 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
expect_eq "users after 16 adds at once" "$(grep -c '^par[0-9]*:' "$U")" 16
expect_eq "mode at the end" "$(stat -c %a "$U")" 600
expect_eq "no temp file left" "$(ls "$T" | grep -c '^users\.')" 0

finish

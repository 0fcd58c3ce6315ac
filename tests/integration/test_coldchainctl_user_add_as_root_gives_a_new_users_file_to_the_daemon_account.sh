#!/bin/bash
# `coldchainctl user add` run as root: a users file it creates belongs to
# the daemon's account (the `user` key, and `group`, of -c CONFIG; without
# -c the coldchaind account when it exists), mode 0600, and says so on
# stdout; that account (nobody here, an existing non-root account) can read
# the file as the daemon does (`user list` run as it, which loads the file
# with the daemon's code); a file that exists keeps its owner; a `user` that
# is no account here is refused before anything is written; a configuration
# without `user` (the daemon stays root) leaves the new file to root.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$CTL"
[ "$(id -u)" = 0 ] || { echo "SKIP integration/$TEST_NAME: needs root (chown)"; exit 0; }
command -v runuser >/dev/null || { echo "SKIP integration/$TEST_NAME: no runuser"; exit 0; }
getent passwd nobody >/dev/null || { echo "SKIP integration/$TEST_NAME: no account nobody"; exit 0; }
NOGROUP=$(id -gn nobody)
chmod 0755 "$T" # the account must reach the file (the daemon's directory is its own)

OUTS="outputs = { file = ( { path = \"$T/points.lp\"; } ); };"
{ config_head; echo "$OUTS"; echo 'user = "nobody";'; } >"$T/nobody.conf"
{ config_head; echo "$OUTS"; echo 'user = "no-such-account-cc";'; } >"$T/ghost.conf"
{ config_head; echo "$OUTS"; } >"$T/root.conf"

U=$T/users
out=$(printf 'pw-one\n' | "$CTL" user add anna -c "$T/nobody.conf" --file "$U" 2>&1)
expect_eq "add with -c exits" "$?" 0
check "add says who owns the new file" grep -q -F "users file $U created: owner nobody (the daemon's account), mode 0600" <<<"$out"
expect_eq "the new file's owner and mode" "$(stat -c '%U:%G %a' "$U")" "nobody:$NOGROUP 600"
out=$(runuser -u nobody -- "$CTL" user list --file "$U" 2>&1)
expect_eq "the daemon's account reads it (user list as nobody)" "$out" "anna viewer"

# An existing file keeps its owner, and add says nothing about it.
chown root:root "$U"
out=$(printf 'pw-two\n' | "$CTL" user add bao -c "$T/nobody.conf" --file "$U" 2>&1)
expect_eq "add to an existing file exits" "$?" 0
check "add to an existing file says nothing of the owner" bash -c "! grep -q 'created' <<<'$out'"
expect_eq "an existing file keeps its owner" "$(stat -c '%U %a' "$U")" "root 600"

# A configured user that is no account: refused, nothing written.
out=$(printf 'pw\n' | "$CTL" user add anna -c "$T/ghost.conf" --file "$T/ghost-users" 2>&1)
expect_eq "a user that is no account exits" "$?" 1
check "it says why" grep -q "no-such-account-cc is not an account here" <<<"$out"
check "nothing written" test ! -e "$T/ghost-users"

# No `user` in the configuration: the daemon stays root, so does the file.
out=$(printf 'pw\n' | "$CTL" user add anna -c "$T/root.conf" --file "$T/root-users" 2>&1)
expect_eq "add without a configured user exits" "$?" 0
check "it says the owner is root" grep -q "created: owner root, mode 0600" <<<"$out"
expect_eq "owner root" "$(stat -c '%U %a' "$T/root-users")" "root 600"

# Without -c: the coldchaind account when there is one.
if getent passwd coldchaind >/dev/null; then
	out=$(printf 'pw\n' | "$CTL" user add anna --file "$T/cc-users" 2>&1)
	check "without -c the coldchaind account owns the new file" grep -q "owner coldchaind (the daemon's account)" <<<"$out"
	expect_eq "owner coldchaind" "$(stat -c '%U %a' "$T/cc-users")" "coldchaind 600"
else
	echo "  (no coldchaind account here: the default without -c not checked)"
fi
check "-c is refused by user del" bash -c "! '$CTL' user del anna -c '$T/nobody.conf' --file '$U' 2>/dev/null"
finish

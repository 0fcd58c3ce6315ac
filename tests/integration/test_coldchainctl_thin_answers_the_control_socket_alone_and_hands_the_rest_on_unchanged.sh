#!/bin/bash
# coldchainctl is two binaries (ctl/thin.c).  The one people run answers
# the control-socket commands linked with libc, libm and cJSON only: no
# libcurl, OpenSSL, libmodbus, libconfig or libmicrohttpd, whose loading
# cost every command 17-20 ms of CPU.  Every other command, and a
# control-socket command whose socket the daemon's runtime file does not
# name (finding it means reading the configuration), runs coldchainctl-full
# with the arguments exactly as given (the socket commands' parser reorders
# argv: the copy handed on must not be).  Shown with the thin binary copied
# beside a stand-in coldchainctl-full that records its arguments: the thin
# one alone reaches the daemon through --socket and the runtime file, and
# hands on everything else.  The real pair gives the same help and command
# list as coldchainctl-full alone.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
FULL=$BUILD_DIR/coldchainctl-full
need_bin "$COLDCHAIND" "$CTL" "$FULL"
command -v readelf >/dev/null || skip "needs readelf (binutils)"

# --- what each binary links (DT_NEEDED)
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | sort; }
# the sanitizers of `make check` (build-asan) are allowed beside the three
heavy=$(needed "$CTL" | grep -vE '^(libc|libm|libcjson|libasan|libubsan|libpthread|libdl|libgcc_s|libstdc\+\+)\.so')
check "coldchainctl links libc, libm and cJSON only$( [ -n "$heavy" ] && echo " (also: $(echo $heavy))")" [ -z "$heavy" ]
check "coldchainctl-full links libcurl, OpenSSL and libmodbus (what the thin one leaves to it)" \
	bash -c "needed() { readelf -d \"\$1\" | sed -n 's/.*(NEEDED).*\[\(.*\)\]\$/\1/p'; }
		needed '$FULL' | grep -q '^libcurl' && needed '$FULL' | grep -q '^libssl' &&
		needed '$FULL' | grep -q '^libmodbus'"

# --- the thin one beside a stand-in that records what it is given
mkdir -p "$T/bin"
cp "$CTL" "$T/bin/coldchainctl"
cat >"$T/bin/coldchainctl-full" <<EOF
#!/bin/sh
# a stand-in coldchainctl-full: one argument a line, then exit 42
printf '%s\n' "\$0" "\$@" >"$T/full.args"
exit 42
EOF
chmod 0755 "$T/bin/coldchainctl-full"
TCTL=$T/bin/coldchainctl

export COLDCHAIND_RUNTIME_DIR=$T/run
mkdir -p "$COLDCHAIND_RUNTIME_DIR"
{
	config_head
	echo "outputs = { file = ( { name = \"f\"; path = \"$T/out.lp\"; } ); };"
} >"$DAEMON_CONF"
start_daemon
SOCK=$T/state/coldchaind.sock
site_of() { json_eval 'd["site"]' <"$1" 2>/dev/null; }

# handed_on WHAT CMD...: the thin coldchainctl runs the stand-in with CMD
# exactly (its exit status 42 passed back), never the daemon
handed_on() {
	local what=$1 st
	shift
	rm -f "$T/full.args"
	"$TCTL" "$@" >"$T/h.out" 2>"$T/h.err"
	st=$?
	if [ "$st" -ne 42 ] || [ ! -f "$T/full.args" ]; then
		fail "$what: coldchainctl $* exited $st without running coldchainctl-full"
		sed 's/^/  | /' "$T/h.err" | head -n 5
		return
	fi
	# one line, | between arguments
	expect_eq "$what: coldchainctl-full gets the arguments as given" "$(tail -n +2 "$T/full.args" | paste -sd '|')" \
		"$( (($#)) && printf '%s\n' "$@" | paste -sd '|')"
}

# answered WHAT CMD...: the thin coldchainctl answers alone, from this daemon
answered() {
	local what=$1 st
	shift
	rm -f "$T/full.args"
	"$TCTL" "$@" --json >"$T/a.json" 2>"$T/a.err"
	st=$?
	expect_eq "$what: exit status" "$st" 0
	expect_eq "  it reached this daemon" "$(site_of "$T/a.json")" itest
	check "  without running coldchainctl-full" test ! -f "$T/full.args"
}

answered "status --socket" status --socket "$SOCK"
answered "status -c CONF, the runtime file naming the socket" status -c "$DAEMON_CONF"
# the same command and no runtime file: the configuration must be read
COLDCHAIND_RUNTIME_DIR=$T/none handed_on "status -c CONF without a runtime file" status -c "$DAEMON_CONF"
# options before and after the operands, one with a space: the socket
# commands' parser moves operands first in argv; the copy handed on is not
COLDCHAIND_RUNTIME_DIR=$T/none handed_on "ack with options around its operand" \
	ack -c "$DAEMON_CONF" --note "two words" some-alarm --user op
for cmd in "--version" "help" "help status" "modbus --help" "config check $DAEMON_CONF" "user list" \
	"report --help" "mqtt watch # -c $DAEMON_CONF" "__commands" "__complete status --r"; do
	# shellcheck disable=SC2086 # word splitting wanted: each is a command line
	handed_on "$cmd" $cmd
done
handed_on "no command at all (the usage)"
handed_on "an unknown command" nonesuch --json

# a socket command's own help and usage errors stay in the thin one
rm -f "$T/full.args"
"$TCTL" status --help >"$T/th.out" 2>&1
expect_eq "status --help: exit status" "$?" 0
check "  from the thin one alone" test ! -f "$T/full.args"
"$FULL" status --help >"$T/fh.out" 2>&1
check "  the same text as coldchainctl-full's" cmp -s "$T/th.out" "$T/fh.out"
"$TCTL" status --count 3 --socket "$SOCK" >/dev/null 2>"$T/u.err"
expect_eq "status --count 3 (an option status does not take): exit status" "$?" 2
check "  the message names it" grep -q -- '--count' "$T/u.err"

# --- no coldchainctl-full anywhere: the thin one says which path it tried,
# and still answers through --socket (when this machine has no installed one
# where this build looks last)
INSTALLED=$(strings "$CTL" | grep -m1 '/libexec/coldchaind/coldchainctl-full$')
mkdir -p "$T/alone"
cp "$CTL" "$T/alone/coldchainctl"
if [ -n "$INSTALLED" ] && [ ! -e "$INSTALLED" ]; then
	"$T/alone/coldchainctl" --version >"$T/al.out" 2>"$T/al.err"
	expect_eq "without coldchainctl-full: --version exit status" "$?" 1
	check "  it names the path it tried ($INSTALLED)" grep -qF "cannot run $INSTALLED: No such file or directory" "$T/al.err"
	"$T/alone/coldchainctl" status --socket "$SOCK" --json >"$T/al.json" 2>"$T/al.err"
	expect_eq "  status --socket still answers: exit status" "$?" 0
	expect_eq "  from this daemon" "$(site_of "$T/al.json")" itest
else
	echo "  (not checked without coldchainctl-full: ${INSTALLED:-no compiled-in path found} exists on this machine)"
fi

# --- the real pair: what the thin one hands on comes back the same
"$CTL" __commands >"$T/c1" 2>&1
"$FULL" __commands >"$T/c2" 2>&1
check "coldchainctl __commands (through coldchainctl-full) lists what coldchainctl-full lists" cmp -s "$T/c1" "$T/c2"
check "  status, mqtt watch and report among them" \
	bash -c "grep -q '^leaf	status' '$T/c1' && grep -q '^leaf	mqtt watch' '$T/c1' && grep -q '^leaf	report' '$T/c1'"
COLDCHAIND_RUNTIME_DIR=$T/none "$CTL" status -c "$DAEMON_CONF" --json >"$T/r.json" 2>"$T/r.err"
expect_eq "coldchainctl status -c CONF without a runtime file, through coldchainctl-full: exit status" "$?" 0
expect_eq "  it reached this daemon" "$(site_of "$T/r.json")" itest
finish

#!/bin/bash
# The bash completion (contrib/bash-completion/coldchainctl) in a real bash
# against a real daemon on the Modbus simulator: it is registered for
# coldchainctl (complete -p); `coldchainctl b<TAB>` gives batch;
# `coldchainctl ack <TAB>` the active alarm ids the daemon reports;
# `coldchainctl lot move <TAB>` its lots and `lot move LOT <TAB>` its rooms;
# options per subcommand; file names after -c; `batch phase B <TAB>` the
# phases.  With the daemon stopped a TAB is silent and quick (no message,
# well under the 1 s reply bound).  coldchaind's completion offers every
# option.  And the installed copy: make install puts both files in
# DATADIR/bash-completion/completions.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$MODBUS_SIM" "$CTL"
COMP=$ROOT_DIR/contrib/bash-completion

printf '1 input 0 int16 ABCD 80\n2 input 0 int16 ABCD 30\n' >"$T/sim.map" # A 8.0 C, B 3.0 C
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
{
	config_head
	cat <<CONF
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "1s"; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
rooms = ( { name = "A"; temperature = "th-a1/temperature";
            lots = ( { id = "LOT-1"; product = "lychee"; loaded = "$(date -u +%Y-%m-%dT%H:%M:%SZ)"; } ); },
          { name = "B"; temperature = "th-b1/temperature"; profile = "lychee";
            lots = ( { id = "LOT-2"; product = "lychee"; loaded = "$(date -u +%Y-%m-%dT%H:%M:%SZ)"; } ); } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; };
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "300ms";
    devices = ( { name = "th-a1"; unit = 1; room = "A";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; } ); },
                { name = "th-b1"; unit = 2; room = "B";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; } ); } ); }
);
outputs = { file = ( { path = "$T/points.lp"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon

# complete WORD...: COMPREPLY of the completion function for
# "coldchainctl WORD..." (the last word is the one completed), sorted, one
# line; $CTL's directory first on PATH, as an installed coldchainctl is.
complete_words() {
	PATH="$BUILD_DIR:$PATH" bash --norc --noprofile -c '
		. "$1/coldchainctl"
		shift
		COMP_WORDS=(coldchainctl "$@")
		COMP_CWORD=$#
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		_coldchainctl
		printf "%s\n" "${COMPREPLY[@]}" | sort | paste -sd" "' _ "$COMP" "$@"
}
alarm_active() { "$CTL" alarms -c "$DAEMON_CONF" --json | json_eval '[a["id"] for a in d["alarms"] if a["id"] == "A/temp_high"][0]'; }
wait_for "A/temp_high active" alarm_active || die "A/temp_high never became active"
ids=$("$CTL" alarms -c "$DAEMON_CONF" --json | json_eval '" ".join(sorted(a["id"] for a in d["alarms"]))')

reg=$(bash --norc --noprofile -c '. "$1/coldchainctl"; . "$1/coldchaind"; complete -p coldchainctl coldchaind' _ "$COMP")
expect_eq "complete -p: both registered" "$reg" "complete -F _coldchainctl coldchainctl
complete -F _coldchaind coldchaind"
expect_eq "coldchainctl b<TAB>" "$(complete_words b)" "batch"
expect_eq "coldchainctl lo<TAB>" "$(complete_words lo)" "lot"
expect_eq "coldchainctl lot <TAB>" "$(complete_words lot '')" "load move unload"
expect_eq "coldchainctl ack <TAB>: the daemon's active alarms ($ids)" "$(complete_words ack -c "$DAEMON_CONF" '')" "$ids"
expect_eq "coldchainctl ack A/<TAB>" "$(complete_words ack -c "$DAEMON_CONF" A/)" "A/temp_high"
expect_eq "coldchainctl lot move <TAB>: the lots" "$(complete_words lot move -c "$DAEMON_CONF" '')" "LOT-1 LOT-2"
expect_eq "coldchainctl lot move LOT-1 <TAB>: the rooms" "$(complete_words lot move LOT-1 -c "$DAEMON_CONF" '')" "A B"
expect_eq "coldchainctl lot unload --socket S <TAB>: the lots" \
	"$(complete_words lot unload --socket "$T/state/coldchaind.sock" '')" "LOT-1 LOT-2"
expect_eq "coldchainctl ack --<TAB>: its options" "$(complete_words ack --)" "--config --help --json --note --socket --user"
expect_eq "coldchainctl batch phase B-1 <TAB>" "$(complete_words batch phase B-1 '')" "burning done hold purge"
expect_eq "coldchainctl report --format <TAB>" "$(complete_words report --format '')" "csv html"
mkdir -p "$T/cf" && touch "$T/cf/site.conf" "$T/cf/site.bak"
expect_eq "coldchainctl status -c <TAB>: file names" "$(complete_words status -c "$T/cf/site.c")" "$T/cf/site.conf"
expect_eq "coldchaind --c<TAB>" "$(bash --norc --noprofile -c '. "$1/coldchaind"; COMP_WORDS=(coldchaind --c); COMP_CWORD=1; _coldchaind; echo "${COMPREPLY[*]}"' _ "$COMP")" "--config --check"

# an alarm id holding ':' (a custom rule, rule:NAME): bash splits the word
# there and replaces only what follows it, so that is what is offered
mkdir -p "$T/fake" && printf '#!/bin/sh\necho rule:co2_latched\n' >"$T/fake/coldchainctl" && chmod +x "$T/fake/coldchainctl"
expect_eq "an id with ':' completes after the ':'" "$(PATH="$T/fake:$PATH" bash --norc --noprofile -c '
	. "$1/coldchainctl"; COMP_LINE="coldchainctl reset rule:co"; COMP_POINT=${#COMP_LINE}
	COMP_WORDS=(coldchainctl reset rule : co); COMP_CWORD=4; _coldchainctl; echo "${COMPREPLY[*]}"' _ "$COMP")" "co2_latched"

# --- the daemon stopped: silence, at once
stop_daemon
start_ms=$(date +%s%3N)
out=$(complete_words ack -c "$DAEMON_CONF" '' 2>&1)
took=$(($(date +%s%3N) - start_ms))
expect_eq "daemon stopped: ack <TAB> offers nothing and says nothing" "$out" ""
check "daemon stopped: the TAB took ${took} ms (< 1000)" test "$took" -lt 1000
expect_eq "daemon stopped: commands still complete" "$(complete_words st)" "status"

# --- make install puts them where bash-completion looks
make -s -C "$ROOT_DIR" install BUILD="$BUILD_DIR" DESTDIR="$T/root" PREFIX=/usr >"$T/install.log" 2>&1 ||
	{ sed 's/^/  | /' "$T/install.log" | tail -5; fail "make install failed"; }
check "installed: /usr/share/bash-completion/completions/coldchainctl" \
	cmp "$COMP/coldchainctl" "$T/root/usr/share/bash-completion/completions/coldchainctl"
check "installed: /usr/share/bash-completion/completions/coldchaind" \
	cmp "$COMP/coldchaind" "$T/root/usr/share/bash-completion/completions/coldchaind"
finish

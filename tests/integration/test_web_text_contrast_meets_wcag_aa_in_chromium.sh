#!/bin/bash
# Text contrast WCAG AA in a real browser (Debian's chromium headless,
# puppeteer-core, tests/web/contrast.js): with a critical alarm (room A), a
# warning (room B) and a shelved one (room C), the login, overview, alarms,
# room and 404 pages at 360 and 1280 px have every visible text at a
# contrast ratio >= 4.5 (>= 3 large) against its effective background, and
# every state is a word as well as a colour.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$MODBUS_SIM" "$CTL"
WEB_DIR=$(cd "$(dirname "$0")/../web" && pwd)
command -v node >/dev/null || die "node is missing (tests/deps.sh)"
[ -x /usr/bin/chromium ] || die "chromium is missing (tests/deps.sh)"
[ -d "$WEB_DIR/node_modules/puppeteer-core" ] ||
	die "puppeteer-core is missing: cd $WEB_DIR && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-save (tests/deps.sh)"

printf '1 input 0 int16 ABCD 350\n2 input 0 int16 ABCD 80\n3 input 0 int16 ABCD 80\n' >"$T/sim.map" # A 35 C, B and C 8 C
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
WEB_PORT=$(free_port)
printf 'op-secret-1\n' | "$CTL" user add op --role operator --file "$T/users" >/dev/null || die "user add op"
dev() { printf '{ name = "th-%s"; unit = %s; room = "%s"; points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; } ); }' "$1" "$2" "$3"; }
{
	config_head
	cat <<CONF
control = { group = "$(id -gn)"; };
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "1s"; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 40.0; }; } );
rooms = ( { name = "A"; temperature = "th-a/temperature"; profile = "lychee";
            lots = ( { id = "LOT-1"; product = "lychee"; loaded = "$(date -u +%Y-%m-%dT%H:%M:%SZ)"; } ); },
          { name = "B"; temperature = "th-b/temperature"; profile = "lychee"; },
          { name = "C"; temperature = "th-c/temperature"; profile = "lychee"; } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; };
modbus = ( { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "300ms";
    devices = ( $(dev a 1 A), $(dev b 2 B), $(dev c 3 C) ); } );
outputs = { file = ( { path = "$T/out.lp"; } ); };
web = { listen = "127.0.0.1:$WEB_PORT"; users_file = "$T/users"; };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "web port open" port_open "$WEB_PORT" || die "the listener did not open port $WEB_PORT"
state_of() { "$CTL" alarms -c "$DAEMON_CONF" --json | json_eval "[a['state'] for a in d['alarms'] if a['id'] == '$1'][0]" 2>/dev/null; }
alarms_up() { [ "$(state_of A/temp_high_high)" = active ] && [ "$(state_of B/temp_high)" = active ] && [ "$(state_of C/temp_high)" = active ]; }
wait_for "A critical, B and C warning active" alarms_up || die "alarms not active: $("$CTL" alarms -c "$DAEMON_CONF" 2>&1)"
"$CTL" shelve C/temp_high 1h --note "bảo trì" -c "$DAEMON_CONF" >/dev/null || die "coldchainctl shelve failed"

URL=http://127.0.0.1:$WEB_PORT OP_USER=op OP_PASS=op-secret-1 NODE_PATH=$WEB_DIR/node_modules \
	timeout 240 node "$WEB_DIR/contrast.js" >"$T/node.out" 2>"$T/node.err"
echo "  (chromium run: exit $?)"
while read -r word rest; do
	case $word in
	ok) pass "$rest" ;;
	not) fail "${rest#ok }" ;;
	esac
done <"$T/node.out"
grep -q '^ok the 404 page at 1280px\|^not ok the 404 page at 1280px' "$T/node.out" || { fail "the browser run did not reach its end"; show_log "$T/node.err"; }
finish

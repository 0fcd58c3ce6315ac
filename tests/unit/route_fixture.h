/* route_fixture.h - the configuration the notification-core tests share
 * (test_route.c, test_message.c, test_channel.c): a Luc Ngan packhouse,
 * SMS and e-mail channels (no secrets needed), five people, four routes.
 * Times: T_NIGHT is 21:05:09 in Asia/Ho_Chi_Minh, T_DAY 10:00:00. */
#ifndef ROUTE_FIXTURE_H
#define ROUTE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../daemon/config.h"

#define S_NS 1000000000LL
#define T_MIDNIGHT_UTC 1796256000LL          /* 2026-12-03T00:00:00Z */
#define T_NIGHT (1796306709LL * S_NS)        /* 2026-12-03T21:05:09+07:00 */
#define T_DAY ((T_MIDNIGHT_UTC + 3 * 3600) * S_NS) /* 10:00+07:00 */

static const char fixture_conf[] =
	"site = \"lucngan\";\n"
	"modbus = ( { name = \"b\"; tcp = { host = \"127.0.0.1\"; };\n"
	"  devices = ( { name = \"d\"; unit = 1; points = ( { channel = \"t\"; table = \"input\"; address = 0; "
	"type = \"int16\"; } ); } ); } );\n"
	"outputs = {\n"
	"  file = ( { path = \"/dev/null\"; } );\n"
	"  email = ( { name = \"mail\"; url = \"smtp://127.0.0.1:2525\"; from = \"cc <a@x.vn>\"; rate_per_min = 600; } );\n"
	"  sms = ( { name = \"modem\"; device = \"/dev/null\"; rate_per_min = 600; } );\n"
	"};\n"
	"rooms = ( { name = \"A\"; }, { name = \"B\"; } );\n"
	"recipients = (\n"
	"  { name = \"lan\"; phone = \"+84900000001\"; quiet_hours = \"21:00-06:00\"; },\n"
	"  { name = \"minh\"; lang = \"en\"; phone = \"+84900000002\"; email = \"minh@x.vn\"; },\n"
	"  { name = \"owner\"; phone = \"+84900000003\"; },\n"
	"  { name = \"office\"; email = \"office@x.vn\"; },\n"
	"  { name = \"tech\"; phone = \"+84900000004\"; }\n"
	");\n"
	"routes = (\n"
	"  { name = \"ops\"; to = [ \"lan\", \"minh\" ]; chain = [ \"tech\", \"owner\" ]; via = [ \"modem\", \"mail\" ]; },\n"
	"  { name = \"crit\"; min_severity = \"critical\"; to = [ \"owner\" ]; via = [ \"modem\" ]; },\n"
	"  { name = \"doorA\"; min_severity = \"info\"; rooms = [ \"A\" ]; kinds = [ \"door\" ]; to = [ \"tech\" ]; "
	"via = [ \"modem\" ]; },\n"
	"  { name = \"digest\"; min_severity = \"info\"; to = [ \"office\" ]; via = [ \"mail\" ]; digest = true; "
	"digest_at = \"17:00\"; }\n"
	");\n";

static inline void fixture_load_tz(void)
{
	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	tzset();
}

static inline struct cc_config *fixture_load(void)
{
	struct cc_config *cfg = NULL;
	struct cc_errors e = { 0 };

	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	tzset();
	if (config_load_string(fixture_conf, "/tmp/route-fixture.conf", &cfg, &e) != 0) {
		errors_print(&e, stderr);
		abort();
	}
	errors_free(&e);
	return cfg;
}

#endif

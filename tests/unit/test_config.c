/* test_config.c - the configuration loader: defaults, templates, channel
 * tags, error messages, secrets, the printed form and its round trip. */
#include "../../daemon/config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../daemon/util.h"
#include "testlib.h"

static char tmpdir[256];

/* Writes TMPDIR/name (mode 0644 unless given) and returns its path (static buffer). */
static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return path;
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static struct cc_config *load_text(const char *text, struct cc_errors *e)
{
	struct cc_config *cfg = NULL;
	const char *path = write_file("test.conf", text, 0644);
	int rc = config_load(path, &cfg, e);

	if (rc == 0)
		CHECK(cfg != NULL);
	else
		CHECK(cfg == NULL && rc == -EINVAL && e->n > 0);
	return cfg;
}

/* 1 if some error message ends with suffix (the FILE:LINE part holds the temp dir). */
static int has_error(const struct cc_errors *e, const char *suffix)
{
	size_t ls = strlen(suffix);
	for (size_t i = 0; i < e->n; i++) {
		size_t lm = strlen(e->msg[i]);
		if (lm >= ls && strcmp(e->msg[i] + lm - ls, suffix) == 0)
			return 1;
	}
	printf("    no error ending with \"%s\"; got:\n", suffix);
	for (size_t i = 0; i < e->n; i++)
		printf("      %s\n", e->msg[i]);
	return 0;
}

static const char *TEMPLATE_TH =
	"template = { name = \"th\"; vendor = \"v\"; model = \"m\"; manual = \"x\"; max_registers = 16;\n"
	"  points = (\n"
	"    { channel = \"temperature\"; unit = \"C\"; table = \"input\"; address = 1; type = \"int16\"; scale = 0.1; },\n"
	"    { channel = \"humidity\"; unit = \"%RH\"; table = \"input\"; address = 2; type = \"int16\"; scale = 0.1; }\n"
	"  ); };\n";

static void test_minimal_config_gets_every_default(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg = load_text("site = \"s\";\noutputs = { influxdb = ( { url = \"http://h:8086\"; "
					  "database = \"db\"; } ); };\n", &e);
	char want[600];

	if (!cfg)
		return;
	CHECK_STR(cfg->site, "s");
	CHECK_STR(cfg->state_dir, "/var/lib/coldchaind");
	snprintf(want, sizeof(want), "%s/devices", tmpdir);
	CHECK_STR(cfg->template_dir, want);
	CHECK_STR(cfg->log_target, "stderr");
	CHECK_STR(cfg->log_level, "info");
	CHECK_INT(cfg->stats_interval_ms, 60000);
	CHECK_INT(cfg->shutdown_timeout_ms, 10000);
	CHECK_INT(cfg->nbuses, 0);
	CHECK_INT(cfg->ninflux, 1);
	CHECK_STR(cfg->influx[0].name, "influxdb-1");
	CHECK(cfg->influx[0].retention_policy == NULL && cfg->influx[0].username == NULL);
	CHECK(cfg->influx[0].password == NULL && cfg->influx[0].ca_file == NULL);
	CHECK_INT(cfg->influx[0].insecure, 0);
	CHECK_INT(cfg->influx[0].gzip, 0);
	CHECK_INT(cfg->influx[0].batch, 5000);
	CHECK_INT(cfg->influx[0].flush_ms, 1000);
	CHECK_INT(cfg->influx[0].timeout_ms, 10000);
	CHECK_INT(cfg->influx[0].connect_timeout_ms, 5000);
	CHECK_INT(cfg->influx[0].backoff_max_ms, 60000);
	CHECK_INT(cfg->influx[0].batch_bytes, 4 * 1024 * 1024);
	CHECK_INT(cfg->influx[0].start_oldest, 0);
	CHECK(cfg->journal.dir != NULL && strstr(cfg->journal.dir, "/journal") != NULL);
	CHECK_INT(cfg->journal.max_size, 1024ull * 1024 * 1024);
	CHECK_INT(cfg->journal.segment_size, 64ull * 1024 * 1024);
	CHECK_INT(cfg->journal.fsync_ms, 1000);
	config_free(cfg);
	errors_free(&e);
}

static void test_bus_device_and_point_defaults(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg = load_text(
		"site = \"s\";\n"
		"modbus = (\n"
		"  { name = \"rtu\"; rtu = { device = \"/dev/ttyUSB0\"; };\n"
		"    devices = ( { name = \"d1\"; unit = 1; points = (\n"
		"      { channel = \"t\"; table = \"holding\"; address = 7; },\n"
		"      { channel = \"door\"; table = \"discrete\"; address = 0; } ); } ); },\n"
		"  { name = \"tcp\"; tcp = { host = \"h\"; }; interval = \"2s\";\n"
		"    devices = ( { name = \"d2\"; unit = 0; room = \"A\";\n"
		"      points = ( { channel = \"x\"; quantity = \"temperature\"; unit = \"C\"; table = \"input\"; address = 1;\n"
		"                   type = \"float64\"; order = \"GHEFCDAB\"; scale = 2; offset = -1; min = -5; max = 5.5; } ); } ); }\n"
		");\n"
		"outputs = { file = ( { path = \"-\"; } ); };\n",
		&e);
	const struct cc_bus_conf *r, *t;
	const struct cc_point_conf *p;

	if (!cfg)
		return;
	CHECK_INT(cfg->nbuses, 2);
	r = &cfg->buses[0];
	CHECK(r->is_rtu);
	CHECK_STR(r->device, "/dev/ttyUSB0");
	CHECK_INT(r->baud, 9600);
	CHECK(r->parity == 'N');
	CHECK_INT(r->data_bits, 8);
	CHECK_INT(r->stop_bits, 1);
	CHECK_INT(r->rs485, 0);
	CHECK_INT(r->timeout_ms, 500);
	CHECK_INT(r->byte_timeout_ms, 100);
	CHECK_INT(r->interval_ms, 10000);
	CHECK_INT(r->backoff_max_ms, 10000); /* max(shortest device interval 10s, 5s) */
	CHECK_INT(r->turnaround_ms, 20);
	CHECK_INT(r->devices[0].interval_ms, 10000);
	CHECK_INT(r->devices[0].max_gap, 8);
	CHECK_INT(r->devices[0].max_registers, 125);
	CHECK_INT(r->devices[0].max_bits, 2000);
	CHECK(r->devices[0].room == NULL && r->devices[0].template_name == NULL);
	p = &r->devices[0].points[0];
	CHECK_STR(p->quantity, "t");
	CHECK(p->unit == NULL);
	CHECK(p->table == CC_TABLE_HOLDING && p->type == CC_T_UINT16 && p->order == CC_ORDER_ABCD);
	CHECK_INT(p->address, 7);
	CHECK_INT(p->bit, -1);
	CHECK(p->scaling.scale == 1.0 && p->scaling.offset == 0.0);
	CHECK(isinf(p->scaling.valid_min) && p->scaling.valid_min < 0 && isinf(p->scaling.valid_max) && p->scaling.valid_max > 0);
	CHECK_INT(p->line, 5);
	CHECK(r->devices[0].points[1].type == CC_T_BOOL);

	t = &cfg->buses[1];
	CHECK(!t->is_rtu);
	CHECK_STR(t->host, "h");
	CHECK_INT(t->port, 502);
	CHECK_INT(t->turnaround_ms, 0);
	CHECK_INT(t->devices[0].interval_ms, 2000);
	CHECK_INT(t->backoff_max_ms, 5000); /* max(2s, 5s) */
	CHECK_INT(t->devices[0].unit, 0);
	p = &t->devices[0].points[0];
	CHECK(p->type == CC_T_FLOAT64 && p->order == CC_ORDER_CDAB);
	CHECK(p->scaling.scale == 2.0 && p->scaling.offset == -1.0 && p->scaling.valid_min == -5.0 && p->scaling.valid_max == 5.5);
	CHECK_STR(order_name(p->order, p->type), "GHEFCDAB");
	config_free(cfg);
	errors_free(&e);
}

static void test_channel_tags_point_into_the_config(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg = load_text(
		"site = \"packhouse\";\n"
		"modbus = ( { name = \"b\"; tcp = { host = \"h\"; };\n"
		"  devices = ( { name = \"th-a1\"; unit = 1; room = \"A\"; points = (\n"
		"    { channel = \"air\"; quantity = \"temperature\"; unit = \"C\"; table = \"input\"; address = 1; },\n"
		"    { channel = \"door\"; table = \"coil\"; address = 1; } ); } ); } );\n"
		"outputs = { file = ( { path = \"-\"; } ); };\n",
		&e);
	const struct cc_channel *ch;

	if (!cfg)
		return;
	ch = &cfg->buses[0].devices[0].points[0].ch;
	CHECK_STR(ch->id, "th-a1/air");
	CHECK_STR(ch->quantity, "temperature");
	CHECK_STR(ch->site, "packhouse");
	CHECK_STR(ch->room, "A");
	CHECK_STR(ch->sensor, "th-a1");
	CHECK_STR(ch->name, "air");
	CHECK_STR(ch->unit, "C");
	CHECK(ch->site == cfg->site && ch->room == cfg->buses[0].devices[0].room);
	ch = &cfg->buses[0].devices[0].points[1].ch;
	CHECK_STR(ch->id, "th-a1/door");
	CHECK_STR(ch->quantity, "door");
	CHECK(ch->unit == NULL);
	config_free(cfg);
	errors_free(&e);
}

static void test_template_points_merge_with_inline_and_quirks_apply(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg;
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/devices", tmpdir);
	mkdir(dir, 0755);
	write_file("devices/th.conf", TEMPLATE_TH, 0644);
	cfg = load_text("site = \"s\";\n"
			"modbus = ( { name = \"b\"; rtu = { device = \"/dev/ttyS0\"; };\n"
			"  devices = ( { name = \"a\"; unit = 1; template = \"th\"; },\n"
			"              { name = \"b\"; unit = 2; template = \"th\"; max_registers = 100; interval = \"1m\";\n"
			"                points = ( { channel = \"dew\"; table = \"input\"; address = 3; } ); } ); } );\n"
			"outputs = { file = ( { path = \"-\"; } ); };\n",
			&e);
	if (!cfg)
		return;
	{
		const struct cc_device_conf *a = &cfg->buses[0].devices[0], *b = &cfg->buses[0].devices[1];
		CHECK_STR(a->template_name, "th");
		CHECK_INT(a->npoints, 2);
		CHECK_INT(a->max_registers, 16);
		CHECK_STR(a->points[0].channel, "temperature");
		CHECK_STR(a->points[0].ch.id, "a/temperature");
		CHECK(a->points[0].scaling.scale == 0.1 && a->points[0].type == CC_T_INT16);
		CHECK_INT(b->npoints, 3);
		CHECK_INT(b->max_registers, 100);
		CHECK_INT(b->interval_ms, 60000);
		CHECK_STR(b->points[2].ch.id, "b/dew");
		CHECK_STR(b->points[0].ch.id, "b/temperature");
		/* each device owns its copy */
		CHECK(a->points[0].channel != b->points[0].channel);
	}
	config_free(cfg);
	errors_free(&e);
}

static void test_every_error_is_reported_with_file_line_and_path(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg = load_text(
		"site = \"s\";\n"                                                       /* 1 */
		"colour = \"red\";\n"                                                   /* 2 */
		"modbus = ( { name = \"b\"; tcp = { host = \"h\"; port = 0; };\n"       /* 3 */
		"  devices = ( { name = \"d\"; unit = 1; points = (\n"                  /* 4 */
		"    { channel = \"t\"; table = \"input\"; address = 65535; type = \"float32\"; },\n" /* 5 */
		"    { channel = \"t\"; table = \"coil\"; address = 1; type = \"int16\"; } ); } ); } );\n" /* 6 */
		"outputs = { file = ( { path = \"-\"; } ); };\n",
		&e);
	char want[700];

	CHECK(cfg == NULL);
	CHECK_INT(e.n, 5);
	snprintf(want, sizeof(want), "%s/test.conf:2: colour: unknown key", tmpdir);
	CHECK(e.n > 0 && strcmp(e.msg[0], want) == 0);
	CHECK(has_error(&e, ":3: modbus[b].tcp.port: 0 is out of range 1..65535"));
	CHECK(has_error(&e, ":5: modbus[b].devices[d].points[t].address: float32 at 65535 needs 2 registers, "
			    "past the last address 65535"));
	CHECK(has_error(&e, ":6: modbus[b].devices[d].points[t].type: int16 cannot be read from the coil table "
			    "(single bits): use bool"));
	CHECK(has_error(&e, ":6: modbus[b].devices[d].points[t].channel: channel \"t\" is already defined at line 5"));
	/* sorted by line */
	for (size_t i = 1; i < e.n; i++)
		CHECK(atoi(strchr(e.msg[i - 1], ':') + 1) <= atoi(strchr(e.msg[i], ':') + 1));
	errors_free(&e);
}

static void test_integer_literal_truncated_by_libconfig_is_an_error(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg = load_text(
		"site = \"s\";\n"
		"modbus = ( { name = \"b\"; tcp = { host = \"h\"; port = 4294967798; };\n"
		"  devices = ( { name = \"d\"; unit = 1; points = ( { channel = \"t\"; table = \"input\"; address = 1; } ); } ); } );\n"
		"outputs = { file = ( { path = \"-\"; } ); };\n",
		&e);

	/* 4294967798 wraps to 502 in a 32-bit int */
	CHECK(cfg == NULL);
	CHECK(has_error(&e, ":2: modbus[b].tcp.port: 4294967798 is out of range 1..65535"));
	config_free(cfg);
	errors_free(&e);
}

static void test_syntax_error_and_missing_file(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg = load_text("site = \"s\";\nlog = { level = \"info\"\n", &e);
	char path[600];

	CHECK(cfg == NULL);
	CHECK_INT(e.n, 1);
	CHECK(has_error(&e, ":3: syntax error: the '{' opened on line 2 is not closed (expected '}' before the end of "
			    "the file)"));
	errors_free(&e);

	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
	CHECK_INT(config_load(path, &cfg, &e), -EINVAL);
	CHECK(cfg == NULL);
	CHECK(has_error(&e, "does-not-exist.conf:1: cannot read: No such file or directory"));
	errors_free(&e);

	CHECK_INT(config_load(tmpdir, &cfg, &e), -EINVAL);
	CHECK(has_error(&e, ":1: cannot read: not a regular file"));
	errors_free(&e);
}

static void test_password_file_is_read_and_must_be_private(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg;
	const char *conf = "site = \"s\";\n"
			   "outputs = { influxdb = ( { url = \"http://h:8086\"; database = \"db\"; username = \"u\";\n"
			   "  password_file = \"pw\"; } ); };\n";

	write_file("pw", "hunter2\nsecond line\n", 0600);
	cfg = load_text(conf, &e);
	if (cfg) {
		char want[600];
		snprintf(want, sizeof(want), "%s/pw", tmpdir);
		CHECK_STR(cfg->influx[0].password, "hunter2");
		CHECK_STR(cfg->influx[0].password_file, want);
		CHECK_STR(cfg->influx[0].username, "u");
		config_free(cfg);
	}
	errors_free(&e);

	write_file("pw", "hunter2\n", 0640);
	cfg = load_text(conf, &e);
	CHECK(cfg == NULL);
	CHECK(e.n == 1 && strstr(e.msg[0], "/pw is readable by others"));
	CHECK(e.n == 1 && strstr(e.msg[0], ":3: outputs.influxdb[0].password_file: password file "));
	errors_free(&e);

	write_file("pw", "\n", 0600);
	cfg = load_text(conf, &e);
	CHECK(cfg == NULL && e.n == 1 && strstr(e.msg[0], "/pw is empty"));
	errors_free(&e);

	{
		char *line = xmalloc(CONFIG_MAX_SECRET + 3);
		memset(line, 'p', CONFIG_MAX_SECRET);
		strcpy(line + CONFIG_MAX_SECRET, "\n");
		write_file("pw", line, 0600);
		cfg = load_text(conf, &e);
		CHECK(cfg != NULL && strlen(cfg->influx[0].password) == CONFIG_MAX_SECRET);
		config_free(cfg);
		errors_free(&e);
		strcpy(line + CONFIG_MAX_SECRET, "p\n");
		write_file("pw", line, 0600);
		cfg = load_text(conf, &e);
		CHECK(cfg == NULL && e.n == 1 && strstr(e.msg[0], "/pw: the first line is longer than 4096 bytes"));
		CHECK(e.n == 1 && !strstr(e.msg[0], "pppp"));
		errors_free(&e);
		free(line);
	}
}

/* A secret its transport would refuse (a Telegram token goes into the
 * URL's path, a Zalo key into a header line) is refused at load, so
 * `coldchaind -n` says it instead of the daemon failing to start; the
 * message names the file and never shows the secret. */
static void test_a_secret_of_the_wrong_form_for_its_transport_is_refused_without_showing_it(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg;
	const char *tg = "site = \"s\";\n"
			 "outputs = { file = ( { path = \"/dev/null\"; } );\n"
			 "  telegram = ( { name = \"tg\"; token_file = \"tok\"; } ); };\n";
	const char *za = "site = \"s\";\n"
			 "outputs = { file = ( { path = \"/dev/null\"; } );\n"
			 "  zalo = ( { name = \"oa\"; app_id = \"4242\"; secret_key_file = \"sk\";\n"
			 "  refresh_token_file = \"rt\"; } ); };\n";

	write_file("tok", "123456789:AAH-good_token\n", 0600);
	cfg = load_text(tg, &e);
	CHECK(cfg != NULL && e.n == 0);
	if (cfg)
		CHECK_STR(cfg->telegrams[0].token, "123456789:AAH-good_token");
	config_free(cfg);
	errors_free(&e);
	write_file("tok", "123456789:AAH/../../evil?x\n", 0600);
	cfg = load_text(tg, &e);
	CHECK(cfg == NULL && e.n == 1);
	CHECK(e.n == 1 && strstr(e.msg[0], ":3: outputs.telegram[tg].token_file: bot token file ") &&
	      strstr(e.msg[0], "/tok: the first line is not a bot token"));
	CHECK(e.n == 1 && !strstr(e.msg[0], "evil"));
	errors_free(&e);

	write_file("sk", "key-without-spaces\n", 0600);
	write_file("rt", "refresh.token-1\n", 0600);
	cfg = load_text(za, &e);
	CHECK(cfg != NULL && e.n == 0);
	config_free(cfg);
	errors_free(&e);
	write_file("rt", "refresh token\twith blanks\n", 0600);
	cfg = load_text(za, &e);
	CHECK(cfg == NULL && e.n == 1 && strstr(e.msg[0], "refresh_token_file: refresh token file ") &&
	      strstr(e.msg[0], "/rt: the first line is not a refresh token"));
	CHECK(e.n == 1 && !strstr(e.msg[0], "blanks"));
	errors_free(&e);
}

static char *print_to_string(const struct cc_config *cfg)
{
	FILE *f = tmpfile();
	char *buf;
	long len;

	if (!f)
		return xstrdup("");
	config_print(cfg, f);
	len = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)len + 1);
	buf[fread(buf, 1, (size_t)len, f)] = '\0';
	fclose(f);
	return buf;
}

static const char *FULL =
	"site = \"s\";\n"
	"log = { level = \"debug\"; };\n"
	"modbus = (\n"
	"  { name = \"b\"; rtu = { device = \"/dev/ttyS1\"; parity = \"odd\"; baud = 115200; stop_bits = 2; };\n"
	"    devices = ( { name = \"th\"; unit = 1; room = \"cold \\\"room\\\"\"; template = \"th\"; },\n"
	"      { name = \"ctl\"; unit = 2; max_gap = 0;\n"
	"        points = ( { channel = \"a\"; table = \"holding\"; address = 0; scale = 0.1; },\n"
	"                   { channel = \"b\"; table = \"holding\"; address = 1; type = \"bool\"; bit = 4; },\n"
	"                   { channel = \"c\"; table = \"holding\"; address = 10; type = \"uint64\"; order = \"HGFEDCBA\"; min = 0; max = 1e12; } ); } ); }\n"
	");\n"
	"outputs = { influxdb = ( { url = \"http://h:8086\"; database = \"db\"; username = \"u\"; password_file = \"pw\"; } );\n"
	"            file = ( { name = \"out\"; path = \"out.lp\"; } ); };\n";

static void test_print_shows_plan_and_hides_the_password(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg;
	char *text;

	write_file("pw", "hunter2\n", 0600);
	write_file("devices/th.conf", TEMPLATE_TH, 0644);
	cfg = load_text(FULL, &e);
	if (!cfg) {
		for (size_t i = 0; i < e.n; i++)
			printf("      %s\n", e.msg[i]);
		errors_free(&e);
		return;
	}
	text = print_to_string(cfg);
	CHECK(strstr(text, "hunter2") == NULL);
	CHECK(strstr(text, "# password: (from ") != NULL);
	CHECK(strstr(text, "# request plan (max_gap 8, max_registers 16, max_bits 2000):\n") != NULL);
	CHECK(strstr(text, "#   input 1..2 (2 regs, 2 points)\n") != NULL);
	CHECK(strstr(text, "#   holding 0..1 (2 regs, 2 points)\n") != NULL);
	CHECK(strstr(text, "#   holding 10..13 (4 regs, 1 point)\n") != NULL);
	CHECK(strstr(text, "order = \"HGFEDCBA\";") != NULL);
	CHECK(strstr(text, "parity = \"odd\";") != NULL);
	CHECK(strstr(text, "room = \"cold \\\"room\\\"\";") != NULL);
	CHECK(strstr(text, "turnaround = \"20ms\";") != NULL);
	CHECK(strstr(text, "max = 1000000000000.0;") != NULL || strstr(text, "max = 1e+12;") != NULL);
	free(text);
	config_free(cfg);
	errors_free(&e);
}

static void test_includes_and_file_sizes_are_bounded_before_parsing(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg;
	const char *base = "site = \"s\";\noutputs = { file = ( { path = \"out.lp\"; } ); };\n";
	char *text, *p, want[400];
	FILE *f;

	/* a flat list just at the bound loads */
	write_file("empty.inc", "# nothing\n", 0644);
	text = p = xmalloc(strlen(base) + 32 * (CONFIG_MAX_INCLUDES + 1));
	p += sprintf(p, "%s", base);
	for (int i = 0; i < CONFIG_MAX_INCLUDES; i++)
		p += sprintf(p, "@include \"empty.inc\"\n");
	cfg = load_text(text, &e);
	CHECK(cfg != NULL);
	config_free(cfg);
	errors_free(&e);
	/* one more is refused, at the line that crosses it */
	sprintf(p, "@include \"empty.inc\"\n");
	cfg = load_text(text, &e);
	CHECK(cfg == NULL);
	snprintf(want, sizeof(want), "test.conf:%d: @include \"empty.inc\": more than %d @include in all "
		 "(CONFIG_MAX_INCLUDES): refused", 3 + CONFIG_MAX_INCLUDES, CONFIG_MAX_INCLUDES);
	CHECK(e.n == 1 && has_error(&e, want));
	errors_free(&e);
	free(text);

	/* fan-out: 20 x 20 inclusions of one small file are refused, not read
	 * 400 times (and 20^10 never attempted) */
	text = p = xmalloc(32 * 21);
	for (int i = 0; i < 20; i++)
		p += sprintf(p, "@include \"empty.inc\"\n");
	write_file("twenty.inc", text, 0644);
	free(text);
	text = p = xmalloc(strlen(base) + 32 * 21);
	p += sprintf(p, "%s", base);
	for (int i = 0; i < 20; i++)
		p += sprintf(p, "@include \"twenty.inc\"\n");
	cfg = load_text(text, &e);
	CHECK(cfg == NULL);
	CHECK(e.n == 1 && strstr(e.msg[0], "(CONFIG_MAX_INCLUDES): refused"));
	errors_free(&e);
	free(text);

	/* an included file past CONFIG_MAX_BYTES (sparse: refused by its size,
	 * never read) */
	snprintf(want, sizeof(want), "%s/huge.inc", tmpdir);
	f = fopen(want, "w");
	CHECK(f != NULL && ftruncate(fileno(f), (off_t)CONFIG_MAX_BYTES) == 0);
	if (f)
		fclose(f);
	text = xasprintf("%s@include \"huge.inc\"\n", base);
	cfg = load_text(text, &e);
	CHECK(cfg == NULL);
	CHECK(e.n == 1 && has_error(&e, "huge.inc:1: the configuration files add up to more than 16 MiB "
				     "(CONFIG_MAX_BYTES): refused"));
	errors_free(&e);
	free(text);
	unlink(want);
}

static void test_print_shows_no_secret_of_any_kind(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg;
	const char *conf =
		"site = \"s\";\n"
		"outputs = { influxdb = ( { url = \"http://h:8086\"; database = \"db\"; username = \"u\";\n"
		"                          password_file = \"s1\"; } );\n"
		"  influxdb2 = ( { url = \"https://h:8086\"; org = \"o\"; bucket = \"b\"; token_file = \"s2\"; } );\n"
		"  webhook = ( { url = \"https://hooks.example.com/x\"; token_file = \"s3\"; } );\n"
		"  alerts_mqtt = { broker = { host = \"m\"; username = \"a\"; password_file = \"s4\"; }; }; };\n"
		"mqtt = { broker = { host = \"m\"; username = \"u\"; password_file = \"s5\"; };\n"
		"  subscriptions = ( { topic = \"t/{sensor}\"; quantity = \"temperature\"; } ); };\n";
	const char *secrets[] = { "influx-pw-1", "influx2-token-2", "webhook-token-3", "alerts-pw-4", "mqtt-pw-5" };
	char name[16], *text;

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "s%d", i + 1);
		write_file(name, secrets[i], 0600);
	}
	cfg = load_text(conf, &e);
	if (!cfg) {
		for (size_t i = 0; i < e.n; i++)
			printf("      %s\n", e.msg[i]);
		errors_free(&e);
		return;
	}
	CHECK_STR(cfg->influx[1].token, "influx2-token-2");
	CHECK_STR(cfg->mqtt->password, "mqtt-pw-5");
	text = print_to_string(cfg);
	for (int i = 0; i < 5; i++)
		if (strstr(text, secrets[i])) {
			printf("    config_print shows %s\n", secrets[i]);
			CHECK(0);
		}
	CHECK(strstr(text, "token_file = ") != NULL && strstr(text, "password_file = ") != NULL);
	free(text);
	config_free(cfg);
	errors_free(&e);
}

static void test_printed_config_loads_back_the_same(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *a, *b = NULL;
	char *t1, *t2, path[600];
	FILE *f;

	write_file("pw", "hunter2\n", 0600);
	write_file("devices/th.conf", TEMPLATE_TH, 0644);
	a = load_text(FULL, &e);
	if (!a) {
		errors_free(&e);
		return;
	}
	t1 = print_to_string(a);
	/* somewhere else: the printed form must not depend on its directory */
	snprintf(path, sizeof(path), "%s/sub", tmpdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sub/printed.conf", tmpdir);
	f = fopen(path, "w");
	if (f) {
		fputs(t1, f);
		fclose(f);
	}
	CHECK_INT(config_load(path, &b, &e), 0);
	for (size_t i = 0; i < e.n; i++)
		printf("      %s\n", e.msg[i]);
	if (b) {
		const char *h1, *h2;
		CHECK_INT(b->nbuses, 1);
		CHECK_INT(b->buses[0].ndevices, 2);
		CHECK_INT(b->buses[0].devices[0].npoints, 2);
		CHECK_INT(b->buses[0].devices[0].max_registers, 16);
		CHECK(b->buses[0].parity == 'O' && b->buses[0].baud == 115200 && b->buses[0].stop_bits == 2);
		CHECK_STR(b->buses[0].devices[0].room, "cold \"room\"");
		CHECK_STR(b->influx[0].password, "hunter2");
		CHECK_STR(b->files[0].path, a->files[0].path);
		CHECK(b->buses[0].devices[1].points[2].scaling.valid_max == 1e12);
		CHECK(b->buses[0].devices[1].points[0].scaling.scale == 0.1);
		t2 = print_to_string(b);
		/* the same but for the header (file name) and the template comments */
		h1 = strstr(t1, "\nsite = ");
		h2 = strstr(t2, "\nsite = ");
		CHECK(h1 && h2);
		if (h1 && h2) {
			char *x = xstrdup(h1), *p;
			while ((p = strstr(x, "        # template \"th\": its points are expanded below\n")))
				memmove(p, strchr(p, '\n') + 1, strlen(strchr(p, '\n') + 1) + 1);
			CHECK_STR(x, h2);
			free(x);
		}
		free(t2);
		config_free(b);
	}
	free(t1);
	config_free(a);
	errors_free(&e);
}

struct schema_count {
	int keys, groups_seen, missing_help, restart_only;
	char last_group[64];
};

static void count_key(const struct config_key_doc *d, void *arg)
{
	struct schema_count *c = arg;

	c->keys++;
	if (strcmp(c->last_group, d->group) != 0 || c->keys == 1) {
		c->groups_seen++;
		snprintf(c->last_group, sizeof(c->last_group), "%s", d->group);
	}
	if (!d->help || !*d->help || !d->type)
		c->missing_help++;
	if (!d->reloadable)
		c->restart_only++;
	if (d->required && d->def)
		c->missing_help++; /* a required key has no default */
}

static void test_schema_export_covers_every_group(void)
{
	struct schema_count c = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	config_schema_foreach(count_key, &c);
	CHECK_INT(c.groups_seen, 49); /* + control, outputs.webhook, outputs.alerts_mqtt; + 10 of process_profiles; processes; web;
					 + outputs.email, .telegram, .zalo, .sms, recipients, routes */
	CHECK(c.keys > 60);
	CHECK_INT(c.missing_help, 0);
	CHECK_INT(c.restart_only, 20); /* state_dir, user, group, log.target, journal.dir, control.socket, control.group,
					 web, timezone and the 11 keys of group web */

	f = open_memstream(&buf, &len);
	config_schema_print(f);
	fclose(f);
	CHECK(strstr(buf, "modbus.devices.points.order (enum)\n") != NULL);
	CHECK(strstr(buf, "state_dir (path, restart to change)\n    default: /var/lib/coldchaind\n") != NULL);
	CHECK(strstr(buf, "ABCD|CDAB|BADC|DCBA|ABCDEFGH") != NULL);
	CHECK(strstr(buf, "10ms..1m") != NULL);
	free(buf);
}

static void test_enum_names_and_widths(void)
{
	CHECK_STR(table_name(CC_TABLE_COIL), "coil");
	CHECK_STR(table_name(CC_TABLE_INPUT), "input");
	CHECK_STR(regtype_name(CC_T_FLOAT64), "float64");
	CHECK_STR(regtype_name(CC_T_BOOL), "bool");
	CHECK_STR(order_name(CC_ORDER_DCBA, CC_T_INT32), "DCBA");
	CHECK_STR(order_name(CC_ORDER_BADC, CC_T_UINT64), "BADCFEHG");
	CHECK_INT(regtype_words(CC_T_BOOL), 1);
	CHECK_INT(regtype_words(CC_T_INT16), 1);
	CHECK_INT(regtype_words(CC_T_FLOAT32), 2);
	CHECK_INT(regtype_words(CC_T_INT64), 4);
}

static void test_errors_list_keeps_order(void)
{
	struct cc_errors e = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	for (int i = 0; i < 40; i++)
		errors_add(&e, "f.conf:%d: x: message %d", i, i);
	CHECK_INT(e.n, 40);
	f = open_memstream(&buf, &len);
	errors_print(&e, f);
	fclose(f);
	CHECK(strncmp(buf, "f.conf:0: x: message 0\nf.conf:1: x: message 1\n", 46) == 0);
	free(buf);
	errors_free(&e);
	CHECK(e.n == 0 && e.msg == NULL);
}

/* The source tree, from this file's name as the compiler saw it. */
static void src_path(char *buf, size_t len, const char *rel)
{
	const char *me = __FILE__, *tail = strstr(me, "tests/unit/test_config.c");
	int n = tail ? (int)(tail - me) : 0;

	snprintf(buf, len, "%.*s%s", n, me, rel);
}

/* The shipped profiles: every number graded, A/B/C with a named source, and
 * no chilling threshold inside a storage band (lychee's 3 C lay in 2-5 C: a
 * lot kept correctly at 2 C raised the critical chilling alarm in 3 days). */
static void test_shipped_profiles_grade_every_number_and_count_chilling_below_the_band(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg;
	char src[600], *text = NULL;
	size_t len = 0;
	FILE *f, *m;
	int c, lychee = 0, chicken = 0;

	src_path(src, sizeof(src), "config/profiles.conf");
	f = fopen(src, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	m = open_memstream(&text, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	write_file("profiles.conf", text, 0644);
	free(text);
	cfg = load_text("site = \"s\";\n@include \"profiles.conf\"\noutputs = { file = ( { path = \"-\"; } ); };\n", &e);
	CHECK_INT(e.n, 0);
	if (!cfg) {
		errors_print(&e, stdout);
		errors_free(&e);
		return;
	}
	for (size_t i = 0; i < cfg->nprofiles; i++) {
		const struct cc_profile *p = &cfg->profiles[i];
		if (!isnan(p->chill_threshold_c) && !isnan(p->limits.band_low) &&
		    !(p->chill_threshold_c <= p->limits.band_low)) {
			printf("    profile %s: chilling threshold %g inside the band from %g\n", p->name, p->chill_threshold_c,
			       p->limits.band_low);
			CHECK(0);
		}
		CHECK(p->nparams > 0);
		for (size_t j = 0; j < p->nparams; j++) {
			const struct cc_param *pa = &p->params[j];
			if (!pa->grade || (pa->grade != 'D' && (!pa->source || strlen(pa->source) < 8))) {
				printf("    profile %s %s.%s: grade '%c' source %s\n", p->name, pa->group, pa->key,
				       pa->grade ? pa->grade : '-', pa->source ? pa->source : "(none)");
				CHECK(0);
			}
			if (strcmp(p->name, "lychee") == 0 && strcmp(pa->key, "band_low") == 0) {
				lychee = 1;
				CHECK(pa->grade == 'A' && strstr(pa->source, "Paull") != NULL);
				CHECK_STR(pa->value, "2.0");
			}
			if (strcmp(p->name, "yen-the-chicken") == 0 && strcmp(pa->key, "alarm_high") == 0) {
				chicken = 1;
				CHECK(pa->grade == 'A' && strstr(pa->source, "853/2004") != NULL);
			}
			if (strcmp(p->name, "longan") == 0 && strcmp(pa->key, "q10_bands") == 0)
				CHECK(pa->grade != 'A');
		}
	}
	CHECK(lychee && chicken);
	config_free(cfg);
	errors_free(&e);
}

static void test_profile_numbers_that_contradict_or_lack_a_source_are_refused(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg = load_text(
		"site = \"s\";\n"
		"profiles = ( { name = \"p\"; version = \"1\";\n"
		"  limits = { band_low = (2.0, \"A\"); band_high = (5.0, \"A: Paull et al. 2014\"); warn_high = 4.0; };\n"
		"  chill = { threshold = (3.0, \"D\"); }; } );\n"
		"outputs = { file = ( { path = \"-\"; } ); };\n",
		&e);

	CHECK(cfg == NULL);
	CHECK(has_error(&e, ":3: profiles[p].limits.band_low: grade A needs its source named after the colon (a primary "
			    "source read), e.g. \"A: Paull et al. 2014 (CTAHR F_N-29)\""));
	CHECK(has_error(&e, ":3: profiles[p].limits.warn_high: warn_high 4 is below band_high 5: the limits must read "
			    "alarm_low <= warn_low <= band_low < band_high <= warn_high <= alarm_high"));
	CHECK(has_error(&e, ":4: profiles[p].chill.threshold: 3 lies inside the storage band 2..5: a lot kept in the band "
			    "would accumulate chilling injury (the threshold must be at or below band_low)"));
	CHECK_INT(e.n, 3);
	errors_free(&e);
}

/* Loads the shipped config/processes.conf through an @include, as a site does. */
static struct cc_config *load_shipped_processes(struct cc_errors *e)
{
	char src[600], *text = NULL;
	size_t len = 0;
	FILE *f, *m;
	int c;

	src_path(src, sizeof(src), "config/processes.conf");
	f = fopen(src, "r");
	CHECK(f != NULL);
	if (!f)
		return NULL;
	m = open_memstream(&text, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	write_file("processes.conf", text, 0644);
	free(text);
	return load_text("site = \"s\";\n@include \"processes.conf\"\noutputs = { file = ( { path = \"-\"; } ); };\n", e);
}

/* Every number of the shipped process profiles is graded, A/B/C with a source. */
static void check_every_process_number_is_graded(const struct cc_config *cfg)
{
	for (size_t i = 0; i < cfg->nprocess_profiles; i++) {
		const struct cc_process_profile *p = &cfg->process_profiles[i];
		CHECK(p->nparams > 0);
		for (size_t j = 0; j < p->nparams; j++) {
			const struct cc_param *pa = &p->params[j];
			if (!pa->grade || (pa->grade != 'D' && (!pa->source || strlen(pa->source) < 8))) {
				printf("    process profile %s %s.%s[%d]: grade '%c' source %s\n", p->name, pa->group, pa->key,
				       pa->index, pa->grade ? pa->grade : '-', pa->source ? pa->source : "(none)");
				CHECK(0);
			}
		}
	}
}

static void test_shipped_process_profiles_load_with_their_values_grades_bands_and_schedules(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg = load_shipped_processes(&e);
	const struct cc_process_profile *p;
	const struct cc_param *pa;

	CHECK_INT(e.n, 0);
	if (!cfg) {
		errors_print(&e, stdout);
		errors_free(&e);
		return;
	}
	CHECK_INT(cfg->nprocess_profiles, 11);
	check_every_process_number_is_graded(cfg);

	/* precool: target 5 C (A, Sargent), fit gates of processing.md 1.2, c_ref only where derived */
	p = config_find_process_profile(cfg, "lychee-forced-air");
	CHECK(p && p->kind == CC_PROCESS_PRECOOL);
	if (p) {
		CHECK(p->precool.target_c == 5.0 && p->precool.fit.r2_min == 0.98 && p->precool.fit.min_points == 5);
		CHECK(p->precool.fit.c_min == 0.01 && p->precool.fit.c_max == 20.0);
		CHECK(p->precool.fit.j_min == 0.5 && p->precool.fit.j_max == 2.5 && p->precool.fit.t_lag_ms == -1);
		CHECK(isnan(p->precool.c_ref_h)); /* not yet measured */
		CHECK(p->precool.probe_fault_y == 1.05 && p->precool.probe_fault_step_fraction == 0.8 &&
		      p->precool.probe_fault_step_k == 2.0 && p->precool.probe_fault_rise_k == 0.5);
		CHECK(p->precool.harvest_limit_ms == 4 * 3600000LL && p->precool.medium_duration_ms == 15 * 60000LL);
		pa = config_process_param(p, "precool", "target", -1);
		CHECK(pa && pa->grade == 'A' && strstr(pa->source, "Sargent") != NULL);
		if (pa)
			CHECK_STR(pa->value, "5.0");
		pa = config_process_param(p, "precool.fit", "r2_min", -1);
		CHECK(pa && pa->grade == 'C');
		CHECK(config_process_param(p, "precool", "c_ref", -1) == NULL);
	}
	p = config_find_process_profile(cfg, "lychee-hydrocool");
	CHECK(p && fabs(p->precool.c_ref_h - 6.603) < 1e-12 && p->precool.overcool_c == 2.0);
	p = config_find_process_profile(cfg, "bo-ha-orange-room");
	pa = config_process_param(p, "precool", "target", -1);
	CHECK(p && p->precool.target_c == 7.0 && pa && pa->grade == 'D');

	/* carcass chilling: US bands 4/6/8 h below 4 lb / 8 lb, the last unbounded; EU/VN 4 C target */
	p = config_find_process_profile(cfg, "yen-the-chicken-air-chill");
	CHECK(p && p->kind == CC_PROCESS_CARCASS_CHILL);
	if (p) {
		const struct cc_carcass_chill_conf *k = &p->carcass_chill;
		CHECK_INT(k->nbands, 3);
		CHECK(k->nbands == 3 && k->bands[0].max_kg == 1.814 && k->bands[0].deadline_ms == 4 * 3600000LL);
		CHECK(k->nbands == 3 && k->bands[1].max_kg == 3.629 && k->bands[1].deadline_ms == 6 * 3600000LL);
		CHECK(k->nbands == 3 && isnan(k->bands[2].max_kg) && k->bands[2].deadline_ms == 8 * 3600000LL);
		CHECK(k->target_c == 4.0 && k->post_chill_max_c == 12.78 && k->fresh_min_c == -3.333);
		CHECK(k->giblets_deadline_ms == 2 * 3600000LL && k->min_probes == 3);
		pa = config_process_param(p, "carcass_chill.weight_bands", "deadline", 1);
		CHECK(pa && pa->grade == 'B' && strstr(pa->source, "381.66") != NULL);
		if (pa)
			CHECK_STR(pa->value, "\"6h\"");
		pa = config_process_param(p, "carcass_chill.weight_bands", "max_kg", 0);
		CHECK(pa && pa->grade == 'C');
		CHECK(config_process_param(p, "carcass_chill.weight_bands", "max_kg", 2) == NULL);
		pa = config_process_param(p, "carcass_chill", "target", -1);
		CHECK(pa && pa->grade == 'D');
	}

	/* fumigation: four named limit sets, NIOSH active; no CT window until calibrated */
	p = config_find_process_profile(cfg, "lychee-so2-fumigation");
	CHECK(p && p->kind == CC_PROCESS_FUMIGATION);
	if (p) {
		const struct cc_fumigation_conf *fu = &p->fumigation;
		CHECK_INT(fu->nlimits, 4);
		CHECK(fu->active && strcmp(fu->active->name, "niosh-rel") == 0);
		CHECK(fu->active && fu->active->twa_ppm == 2.0 && fu->active->stel_ppm == 5.0 &&
		      fu->active->twa_period_ms == 10 * 3600000LL);
		CHECK(fu->nlimits == 4 && fu->limits[0].twa_ppm == 5.0 && isnan(fu->limits[0].stel_ppm));
		CHECK(fu->nlimits == 4 && fu->limits[2].twa_ppm == 1.908 && fu->limits[2].stel_ppm == 3.816);
		CHECK(fu->nlimits == 4 && isnan(fu->limits[3].twa_ppm) && fu->limits[3].stel_ppm == 0.25);
		CHECK(fu->idlh_ppm == 100.0 && fu->stel_window_ms == 15 * 60000LL);
		CHECK(isnan(fu->ct_min_ppmh) && isnan(fu->ct_max_ppmh));
		pa = config_process_param(p, "fumigation.worker_limits", "twa", 2);
		CHECK(pa && pa->grade == 'D');
		pa = config_process_param(p, "fumigation.worker_limits", "stel", 3);
		CHECK(pa && pa->grade == 'D' && strstr(pa->source, "conflicting") != NULL);
		pa = config_process_param(p, "fumigation", "idlh", -1);
		CHECK(pa && pa->grade == 'A');
	}

	/* drying: the heat-pump schedule's four stages, one a tempering rest */
	p = config_find_process_profile(cfg, "dried-lychee-heatpump");
	CHECK(p && p->kind == CC_PROCESS_DRYING);
	if (p) {
		const struct cc_drying_conf *d = &p->drying;
		CHECK_INT(d->nstages, 4);
		CHECK(d->nstages == 4 && strcmp(d->stages[0].name, "slow-start") == 0 && d->stages[0].air_max_c == 55.0 &&
		      d->stages[0].rh_max_pct == 60.0 && d->stages[0].duration_ms == 4 * 3600000LL);
		CHECK(d->nstages == 4 && d->stages[2].tempering && isnan(d->stages[2].air_min_c));
		CHECK(d->nstages == 4 && !d->stages[3].tempering && d->stages[3].duration_ms == 10 * 3600000LL);
		CHECK(d->target_mc_wb == 22.5 && d->mass_ratio == 0.3125 && d->xe_db == 0.10);
		CHECK(d->scorch_limit_c == 80.0 && d->scorch_max_c == 100.0 && d->fast_start_c == 60.0);
		pa = config_process_param(p, "drying.schedule", "duration", 0);
		CHECK(pa && pa->grade == 'B' && strstr(pa->source, "adesheng") != NULL);
	}
	p = config_find_process_profile(cfg, "dried-lychee-kiln");
	CHECK(p && p->drying.nstages == 1 && p->drying.stages[0].duration_ms == 4 * 86400000LL);
	p = config_find_process_profile(cfg, "chu-noodles");
	CHECK(p && p->drying.open_air && p->drying.open_air_rh_pct == 80.0 && p->drying.fast_start_c == 30.0);
	p = config_find_process_profile(cfg, "long-nhan");
	CHECK(p && p->drying.initial_mc_wb == 82.0 && p->drying.target_mc_wb == 18.0);

	CHECK(config_find_process_profile(cfg, "lychee") == NULL); /* a produce profile's name, not a process's */
	CHECK(config_find_process_profile(cfg, NULL) == NULL);
	CHECK(config_find_process_profile(NULL, "lychee-hydrocool") == NULL);
	CHECK(config_process_param(NULL, "precool", "target", -1) == NULL);
	config_free(cfg);
	errors_free(&e);
}

/* The drying signal handling and the fumigation flat-sensor check are
 * graded keys: the shipped profiles set them (D), a profile without them
 * gets today's values (5m, 1h, 6h, 10m; 10m within 1 ppm). */
static void test_drying_signal_and_flat_sensor_keys_are_graded_with_todays_defaults(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg = load_shipped_processes(&e);
	const struct cc_process_profile *p;
	const struct cc_param *pa;

	CHECK_INT(e.n, 0);
	p = cfg ? config_find_process_profile(cfg, "dried-lychee-kiln") : NULL;
	CHECK(p && p->drying.loadcell_filter_ms == 5 * 60000LL && p->drying.rate_span_ms == 3600000LL &&
	      p->drying.initial_rate_window_ms == 6 * 3600000LL && p->drying.max_gap_ms == 10 * 60000LL);
	pa = config_process_param(p, "drying", "loadcell_filter", -1);
	CHECK(pa && pa->grade == 'D' && strstr(pa->source, "1-5 min") != NULL);
	p = cfg ? config_find_process_profile(cfg, "lychee-so2-fumigation") : NULL;
	CHECK(p && p->fumigation.flat_window_ms == 10 * 60000LL && p->fumigation.flat_epsilon_ppm == 1.0);
	pa = config_process_param(p, "fumigation", "flat_window", -1);
	CHECK(pa && pa->grade == 'D');
	config_free(cfg);
	errors_free(&e);

	cfg = load_text("site = \"s\";\n"
			"outputs = { file = ( { path = \"-\"; } ); };\n"
			"process_profiles = (\n"
			"  { name = \"d\"; version = \"1\"; kind = \"drying\";\n"
			"    drying = { target_mc_wb = 20.0; scorch_limit = 60.0; rate_span = \"30m\";\n"
			"               schedule = ( { name = \"dry\"; duration = \"24h\"; } ); }; },\n"
			"  { name = \"f\"; version = \"1\"; kind = \"fumigation\"; fumigation = { flat_epsilon = 2.5;\n"
			"    worker_limit = \"x\"; worker_limits = ( { name = \"x\"; stel = 5.0; } ); }; }\n"
			");\n",
			&e);
	CHECK_INT(e.n, 0);
	p = cfg ? config_find_process_profile(cfg, "d") : NULL;
	CHECK(p && p->drying.loadcell_filter_ms == 5 * 60000LL && p->drying.rate_span_ms == 30 * 60000LL &&
	      p->drying.initial_rate_window_ms == 6 * 3600000LL && p->drying.max_gap_ms == 10 * 60000LL);
	p = cfg ? config_find_process_profile(cfg, "f") : NULL;
	CHECK(p && p->fumigation.flat_window_ms == 10 * 60000LL && p->fumigation.flat_epsilon_ppm == 2.5);
	config_free(cfg);
	errors_free(&e);
}

static void test_process_profile_numbers_that_contradict_or_lack_a_source_are_refused(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg = load_text(
		"site = \"s\";\n"
		"outputs = { file = ( { path = \"-\"; } ); };\n"
		"process_profiles = (\n"
		"  { name = \"p\"; version = \"1\"; kind = \"precool\";\n"
		"    precool = { target = (5.0, \"A\"); fit = { c_min = 3.0; c_max = 1.0; }; }; },\n"
		"  { name = \"p\"; version = \"1\"; kind = \"fumigation\";\n"
		"    fumigation = { worker_limit = \"x\"; worker_limits = ( { name = \"y\"; stel = 5.0; } ); }; }\n"
		");\n",
		&e);

	CHECK(cfg == NULL);
	CHECK(has_error(&e, ":5: process_profiles[p].precool.target: grade A needs its source named after the colon (a "
			    "primary source read), e.g. \"A: Paull et al. 2014 (CTAHR F_N-29)\""));
	CHECK(has_error(&e, ":5: process_profiles[p].precool.fit.c_max: c_min 3 must be below c_max 1"));
	CHECK(has_error(&e, ":6: process_profiles[p].name: process profile \"p\" is already defined at line 4"));
	CHECK(has_error(&e, ":7: process_profiles[p].fumigation.worker_limit: no set \"x\" in worker_limits"));
	CHECK_INT(e.n, 4);
	errors_free(&e);
}

static void test_overlapping_points_are_refused_unless_declared(void)
{
	struct cc_errors e = { 0 };
#define OVERLAP_CONF(extra)                                                                                          \
	"site = \"s\";\n"                                                                                          \
	"modbus = ( { name = \"b\"; tcp = { host = \"h\"; }; devices = ( { name = \"d\"; unit = 1; points = (\n"       \
	"  { channel = \"air\"; table = \"holding\"; address = 100; type = \"float32\"; },\n"                        \
	"  { channel = \"sp\"; table = \"holding\"; address = 101; type = \"int16\";" extra " }\n"                    \
	"); } ); } );\n"                                                                                           \
	"outputs = { file = ( { path = \"-\"; } ); };\n"
	char *text = xstrdup(OVERLAP_CONF(""));
	struct cc_config *cfg = load_text(text, &e);

	CHECK(cfg == NULL);
	CHECK_INT(e.n, 1);
	CHECK(has_error(&e, ":4: modbus[b].devices[d].points[sp].address: int16 at holding register 101 overlaps float32 "
			    "at holding registers 100..101 of point \"air\" (line 3): set overlap = true on one of them "
			    "if the same registers are read on purpose"));
	errors_free(&e);
	free(text);

	text = xstrdup(OVERLAP_CONF(" overlap = true;"));
	cfg = load_text(text, &e);
	CHECK(cfg != NULL);
	CHECK_INT(e.n, 0);
	if (cfg)
		CHECK(cfg->buses[0].devices[0].points[1].overlap == 1 && cfg->buses[0].devices[0].points[0].overlap == 0);
	config_free(cfg);
	errors_free(&e);
	free(text);
}

static void test_template_name_must_be_its_file_name_and_a_missing_include_is_named(void)
{
	struct cc_errors e = { 0 };
	struct cc_config *cfg;
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/devices", tmpdir);
	mkdir(dir, 0755);
	write_file("devices/th-copy.conf", TEMPLATE_TH, 0644); /* name = "th" */
	cfg = load_text("site = \"s\";\n"
			"modbus = ( { name = \"b\"; tcp = { host = \"h\"; };\n"
			"  devices = ( { name = \"a\"; unit = 1; template = \"th-copy\"; } ); } );\n"
			"outputs = { file = ( { path = \"-\"; } ); };\n",
			&e);
	CHECK(cfg == NULL);
	CHECK(has_error(&e, "devices/th-copy.conf:1: template.name: \"th\" differs from the file name th-copy.conf: a "
			    "template's name is its file name without .conf"));
	errors_free(&e);

	cfg = load_text("site = \"s\";\n@include \"nowhere.inc\"\noutputs = { file = ( { path = \"-\"; } ); };\n", &e);
	CHECK(cfg == NULL);
	CHECK_INT(e.n, 1);
	CHECK(e.n == 1 && strstr(e.msg[0], ":2: @include \"nowhere.inc\": cannot open ") &&
	      strstr(e.msg[0], "/nowhere.inc: No such file or directory (expected a readable file"));
	errors_free(&e);

	cfg = load_text("site = \"s\";\nlog = { level = info; };\n", &e);
	CHECK(cfg == NULL);
	CHECK(has_error(&e, ":2: syntax error: expected a value after '=' of level, found the bare word info (a string "
			    "needs double quotes: \"info\")"));
	errors_free(&e);
}

/* One lookup of profiles, rooms and lots by name for the whole program. */
static void test_profiles_rooms_and_lots_are_found_by_name_and_nothing_else(void)
{
	struct cc_errors e = { 0 };
	const struct cc_room_conf *room = NULL;
	const struct cc_lot_conf *lot;
	struct cc_config *cfg = load_text(
		"site = \"s\";\n"
		"modbus = ( { name = \"gw\"; tcp = { host = \"a\"; }; devices = ( { name = \"th\"; unit = 1;\n"
		"  points = ( { channel = \"temperature\"; table = \"input\"; address = 0; type = \"int16\"; } ); } ); } );\n"
		"profiles = ( { name = \"p1\"; version = \"1\"; }, { name = \"p2\"; version = \"1\"; } );\n"
		"rooms = ( { name = \"A\"; temperature = \"th/temperature\"; },\n"
		"  { name = \"B\"; temperature = \"th/temperature\";\n"
		"    lots = ( { id = \"L1\"; product = \"p2\"; loaded = \"2026-06-12T08:00:00+07:00\"; } ); } );\n"
		"outputs = { file = ( { path = \"-\"; } ); };\n",
		&e);

	CHECK_INT(e.n, 0);
	if (!cfg) {
		errors_print(&e, stdout);
		errors_free(&e);
		return;
	}
	CHECK(config_find_profile(cfg, "p2") == &cfg->profiles[1]);
	CHECK(config_find_profile(cfg, "p3") == NULL);
	CHECK(config_find_profile(cfg, "P1") == NULL);
	CHECK(config_find_profile(cfg, NULL) == NULL);
	CHECK(config_find_profile(NULL, "p1") == NULL);
	CHECK(config_find_room(cfg, "B") == &cfg->rooms[1]);
	CHECK(config_find_room(cfg, "C") == NULL);
	CHECK(config_find_room(NULL, "A") == NULL);
	lot = config_find_lot(cfg, "L1", &room);
	CHECK(lot == &cfg->rooms[1].lots[0]);
	CHECK(room == &cfg->rooms[1]);
	CHECK(lot && lot->profile == &cfg->profiles[1]);
	CHECK(config_find_lot(cfg, "L1", NULL) == lot);
	CHECK(config_find_lot(cfg, "L2", &room) == NULL);
	CHECK(config_find_lot(NULL, "L1", &room) == NULL);
	config_free(cfg);
}

/* One URL check serves outputs.influxdb(2) and outputs.webhook: a webhook
 * may carry a query (its receiver's key), an InfluxDB URL may not; neither
 * may lack a host, even when a query follows the scheme at once. */
static void test_influx_urls_refuse_a_query_and_webhook_urls_keep_theirs(void)
{
	char msg[256];

	CHECK_INT(config_key_check_string("outputs.influxdb", "url", "https://db.example:8086", msg, sizeof(msg)), 0);
	CHECK_INT(config_key_check_string("outputs.webhook", "url", "https://hooks.example/x?key=1", msg, sizeof(msg)), 0);
	CHECK_INT(config_key_check_string("outputs.influxdb", "url", "http://db:8086/?db=x", msg, sizeof(msg)), -EINVAL);
	CHECK_STR(msg, "\"http://db:8086/?db=x\" must not have a query or fragment (database and credentials have "
		       "their own keys)");
	CHECK_INT(config_key_check_string("outputs.influxdb2", "url", "http://db#frag", msg, sizeof(msg)), -EINVAL);
	CHECK_STR(msg, "\"http://db#frag\" must not have a query or fragment (database and credentials have their own "
		       "keys)");
	/* right after the scheme: a query for InfluxDB, no host for a webhook */
	CHECK_INT(config_key_check_string("outputs.influxdb", "url", "http://?db=x", msg, sizeof(msg)), -EINVAL);
	CHECK_STR(msg, "\"http://?db=x\" must not have a query or fragment (database and credentials have their own "
		       "keys)");
	CHECK_INT(config_key_check_string("outputs.webhook", "url", "http://?key=1", msg, sizeof(msg)), -EINVAL);
	CHECK_STR(msg, "\"http://?key=1\" has no host");
	CHECK_INT(config_key_check_string("outputs.webhook", "url", "https://:443/x", msg, sizeof(msg)), -EINVAL);
	CHECK_STR(msg, "\"https://:443/x\" has no host");
	CHECK_INT(config_key_check_string("outputs.webhook", "url", "ftp://h/x", msg, sizeof(msg)), -EINVAL);
	CHECK_STR(msg, "\"ftp://h/x\" must start with http:// or https://");
	CHECK_INT(config_key_check_string("outputs.webhook", "url", "https://h/a b", msg, sizeof(msg)), -EINVAL);
	CHECK_STR(msg, "\"https://h/a b\" must not contain spaces or control characters");
	CHECK_INT(config_key_check_string("outputs.influxdb", "url", "https://h\t", msg, sizeof(msg)), -EINVAL);
	CHECK_STR(msg, "\"https://h\t\" must not contain spaces or control characters");
}

int main(void)
{
	tl_prog = "unit/config";
	if (tl_mkdtemp(tmpdir, sizeof(tmpdir), "config") < 0) {
		printf("FAIL unit/config: cannot create a temp dir\n");
		return 1;
	}
	RUN(test_minimal_config_gets_every_default);
	RUN(test_bus_device_and_point_defaults);
	RUN(test_channel_tags_point_into_the_config);
	RUN(test_template_points_merge_with_inline_and_quirks_apply);
	RUN(test_every_error_is_reported_with_file_line_and_path);
	RUN(test_integer_literal_truncated_by_libconfig_is_an_error);
	RUN(test_syntax_error_and_missing_file);
	RUN(test_password_file_is_read_and_must_be_private);
	RUN(test_a_secret_of_the_wrong_form_for_its_transport_is_refused_without_showing_it);
	RUN(test_print_shows_plan_and_hides_the_password);
	RUN(test_print_shows_no_secret_of_any_kind);
	RUN(test_includes_and_file_sizes_are_bounded_before_parsing);
	RUN(test_printed_config_loads_back_the_same);
	RUN(test_schema_export_covers_every_group);
	RUN(test_enum_names_and_widths);
	RUN(test_errors_list_keeps_order);
	RUN(test_shipped_profiles_grade_every_number_and_count_chilling_below_the_band);
	RUN(test_profiles_rooms_and_lots_are_found_by_name_and_nothing_else);
	RUN(test_profile_numbers_that_contradict_or_lack_a_source_are_refused);
	RUN(test_shipped_process_profiles_load_with_their_values_grades_bands_and_schedules);
	RUN(test_drying_signal_and_flat_sensor_keys_are_graded_with_todays_defaults);
	RUN(test_process_profile_numbers_that_contradict_or_lack_a_source_are_refused);
	RUN(test_overlapping_points_are_refused_unless_declared);
	RUN(test_template_name_must_be_its_file_name_and_a_missing_include_is_named);
	RUN(test_influx_urls_refuse_a_query_and_webhook_urls_keep_theirs);
	tl_rmtree(tmpdir);
	return TL_DONE();
}

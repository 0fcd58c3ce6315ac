/* test_jsonw.c - the JSON writer (codec/jsonw.c) against cJSON, whose text
 * the control socket's replies had: hostile strings byte for byte, numbers
 * read back as the very same double (and byte for byte wherever cJSON's
 * own text reads back exactly), and the engine's status of a configuration
 * with 150 rooms written both ways, with the site and room filters. */
#include "../../codec/jsonw.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/engine.h"
#include "../../daemon/log.h"
#include "../../daemon/sample.h"
#include "../../daemon/util.h"
#include "testlib.h"

/* cJSON's text of one value. */
static char *cjson_text(cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	return s;
}

static char *jsonw_text_str(const char *s)
{
	struct jsonw w;
	jsonw_init(&w);
	jsonw_str(&w, NULL, s);
	return jsonw_take(&w, NULL);
}

static void test_jsonw_strings_escape_as_cjson_does(void)
{
	const char *cases[] = { "", "plain", "quote \" and backslash \\ and slash /", "tab\tnl\ncr\rbs\bff\f",
				"\x01\x02\x1f\x7f end", "Phòng lạnh Bố Hạ: nhiệt độ cao 8,0 °C", "emoji \xf0\x9f\x8d\x8b",
				"</script><b>&amp;", "\\u0000 literal" };
	char ctl[40];

	for (int i = 1; i < 32; i++)
		ctl[i - 1] = (char)i;
	ctl[31] = '\0';
	for (size_t i = 0; i <= sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s = i < sizeof(cases) / sizeof(cases[0]) ? cases[i] : ctl;
		char *a = jsonw_text_str(s), *b = cjson_text(cJSON_CreateString(s));
		CHECK_STR(a, b);
		free(a);
		cJSON_free(b);
	}
	/* bytes that are not UTF-8 (a name from the configuration): U+FFFD each,
	 * as control.c's replies had them (overlong, surrogate, past U+10FFFF,
	 * cut short) */
	{
		char *a = jsonw_text_str("bad \xff\xfe \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe1\x80 \xc3\xa9");
		CHECK_STR(a, "\"bad \\ufffd\\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd \xc3\xa9\"");
		free(a);
	}
}

/* 1 when text reads back (as cJSON reads a reply) as exactly v. */
static int reads_back(const char *text, double v)
{
	cJSON *p = cJSON_Parse(text);
	int ok = cJSON_IsNumber(p) && (p->valuedouble == v || (v == 0 && p->valuedouble == 0));
	cJSON_Delete(p);
	return ok;
}

static void check_number(double v)
{
	char a[32], *b = cjson_text(cJSON_CreateNumber(v));

	jsonw_fmt_num(v, a);
	if (!isfinite(v)) {
		CHECK_STR(a, "null");
		CHECK_STR(b, "null");
	} else {
		if (!reads_back(a, v))
			printf("    %.17g written %s does not read back\n", v, a);
		CHECK(reads_back(a, v));
		CHECK(strlen(a) <= 24);
		/* where cJSON's text is exact: the same bytes, or (cJSON's %1.17g
		 * fallback) the same double in fewer digits */
		if (reads_back(b, v) && strcmp(a, b) != 0 && strlen(a) >= strlen(b))
			printf("    %.17g: jsonw %s, cJSON %s (which reads back)\n", v, a, b);
		CHECK(!reads_back(b, v) || strcmp(a, b) == 0 || strlen(a) < strlen(b));
	}
	cJSON_free(b);
}

static void test_jsonw_numbers_read_back_exactly_and_match_cjson_where_it_is_exact(void)
{
	const double cases[] = { NAN, INFINITY, -INFINITY, 0.0, -0.0, 1, -1, 1e-300, -1e-300, 0.1 + 0.2, 0.1, 4.2,
				 -12.5, 0.05, 0.0001, 0.00012, 1e-5, 1e15, 1e16, 3e9, -3e9, INT_MAX, INT_MIN,
				 (double)INT_MAX + 1, 1.0 / 3, 200.0 / 3, 123456.789, 999999999.999999, 5e-324,
				 DBL_MAX, -DBL_MAX, DBL_MIN, 2.5e-7, 7.999999999999999, 0.30000000000000004,
				 1234567.125, 98.6, -40.0, 22.45, 1e21, 1e22, 9007199254740993.0 };
	char a[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_number(cases[i]);
	/* -0 as cJSON writes it; 0.1 + 0.2 exactly (cJSON: "0.3", another double) */
	jsonw_fmt_num(-0.0, a);
	CHECK_STR(a, "-0");
	jsonw_fmt_num(0.1 + 0.2, a);
	CHECK_STR(a, "0.30000000000000004");
	jsonw_fmt_num(4.2, a);
	CHECK_STR(a, "4.2");
	jsonw_fmt_num(1e-300, a);
	CHECK_STR(a, "1e-300");
	srand(18);
	for (int i = 0; i < 50000; i++) {
		double x = (double)rand() / RAND_MAX * pow(10, rand() % 40 - 20) * (rand() & 1 ? -1 : 1);
		check_number(x);
		check_number(round(x * 100) / 100); /* readings with two decimals */
		check_number((double)(rand() % 100000) / 10); /* and with one */
	}
}

/* jsonw_num17 (the engine's state file): every double reads back as
 * itself; integers and a reading's m/10^k as jsonw_num writes them; the
 * rest in 17 significant digits. */
static void test_jsonw_num17_reads_back_exactly_and_keeps_the_short_forms(void)
{
	char a[32], b[32];

	jsonw_fmt_num17(0.1 + 0.2, a);
	CHECK_STR(a, "0.30000000000000004");
	jsonw_fmt_num17(4.2, a);
	CHECK_STR(a, "4.2");
	jsonw_fmt_num17(1796414062053.0, a); /* a time in ms */
	CHECK_STR(a, "1796414062053");
	jsonw_fmt_num17(1.0 / 3, a);
	CHECK_STR(a, "0.33333333333333331");
	jsonw_fmt_num17(NAN, a);
	CHECK_STR(a, "null");
	srand(1817);
	for (int i = 0; i < 100000; i++) {
		double x = (double)rand() / RAND_MAX * pow(10, rand() % 40 - 20) * (rand() & 1 ? -1 : 1);
		double r = (double)(rand() % 100000) / 10;
		jsonw_fmt_num17(x, a);
		if (strtod(a, NULL) != x) {
			CHECK(!"jsonw_num17 reads back");
			printf("    %.17g: %s\n", x, a);
			break;
		}
		jsonw_fmt_num17(r, a);
		jsonw_fmt_num(r, b);
		CHECK_STR(a, b);
	}
}

static void test_jsonw_nesting_and_raw(void)
{
	struct jsonw w;
	char *s;
	size_t n;

	jsonw_init(&w);
	jsonw_obj_begin(&w, NULL);
	jsonw_bool(&w, "ok", 1);
	jsonw_arr_begin(&w, "a");
	jsonw_num(&w, NULL, 1.5);
	jsonw_null(&w, NULL);
	jsonw_obj_begin(&w, NULL);
	jsonw_obj_end(&w);
	jsonw_arr_end(&w);
	jsonw_raw(&w, "h", "[{\"x\":1}]");
	jsonw_bool(&w, "f", 0);
	jsonw_obj_end(&w);
	s = jsonw_take(&w, &n);
	CHECK_STR(s, "{\"ok\":true,\"a\":[1.5,null,{}],\"h\":[{\"x\":1}],\"f\":false}");
	CHECK_INT(n, strlen(s));
	free(s);
}

/* --- the engine's status, both ways -------------------------------------- */

static char dir[64];

/* 1 when a and b hold the same members in the same order with the same
 * values (numbers as the same double; age_s within a second: the two
 * snapshots are not taken at the same instant). */
static int same(const cJSON *a, const cJSON *b, const char *key)
{
	if (!a || !b || (a->type & 0xff) != (b->type & 0xff))
		return 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble ||
		       (key && strcmp(key, "age_s") == 0 && fabs(a->valuedouble - b->valuedouble) <= 1.0);
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsArray(a) || cJSON_IsObject(a)) {
		const cJSON *x = a->child, *y = b->child;
		for (; x && y; x = x->next, y = y->next)
			if ((cJSON_IsObject(a) && strcmp(x->string, y->string) != 0) || !same(x, y, x->string))
				return 0;
		return !x && !y;
	}
	return 1;
}

static struct cc_config *hub_config(void)
{
	char *path = xasprintf("%s/hub.conf", dir);
	FILE *f = fopen(path, "w");
	struct cc_errors e = { 0 };
	struct cc_config *cfg = NULL;

	fprintf(f, "site = \"hub\"; state_dir = \"%s\";\n"
		   "profiles = ( { name = \"lychee\"; version = \"t1\";\n"
		   "  limits = { band_low = 2.5; band_high = 6.25; warn_high = 7.0; alarm_high = 10.0; warn_low = 2.0; on_delay = \"0s\"; };\n"
		   "  model = { type = \"arrhenius\"; t_ref = 3.5; shelf_life = \"28d\"; ea = 75.0; valid_min = 1.0;"
		   " valid_max = 35.0; pre_monitoring = 30.0; }; } );\n"
		   "alarms = { stale_after = \"1d\"; };\n"
		   "outputs = { file = ( { path = \"-\"; } ); };\nrooms = (\n", dir);
	for (int i = 0; i < 150; i++)
		fprintf(f, "  { name = \"s%03d/r\\\"%d\\t\"; temperature = \"s%03d-k0/temperature\"; profile = \"lychee\";\n"
			   "    lots = ( { id = \"L%d\"; product = \"lychee\"; loaded = \"2026-12-01T08:00:00+07:00\"; },"
			   " { id = \"M%d\"; product = \"lychee\"; loaded = \"2026-12-02T08:00:00+07:00\"; plan_temperature = 4.0; } ); },\n",
			i % 50, i, i, i, i);
	fprintf(f, "  { name = \"Phòng B\"; temperature = \"b/temperature\"; } );\n");
	fclose(f);
	if (config_load(path, &cfg, &e) < 0)
		errors_print(&e, stdout);
	errors_free(&e);
	free(path);
	return cfg;
}

static void feed_rooms(struct engine *E, struct cc_channel *ch, char (*ids)[40])
{
	int64_t now = time_now_ns();

	for (int i = 0; i < 150; i++) {
		double v = i % 7 == 0 ? 12.3 : i % 5 == 0 ? 0.1 + 0.2 : 3.0 + i / 100.0;
		struct cc_sample s = { .ch = &ch[i], .ts_ns = now - (int64_t)(i % 60) * 1000000000LL, .value = v,
				       .quality = CC_Q_GOOD };
		snprintf(ids[i], 40, "s%03d-k0/temperature", i);
		ch[i] = (struct cc_channel){ .id = ids[i], .quantity = "temperature", .site = "hub", .room = "r",
					     .sensor = "s", .name = "temperature" };
		engine_process(E, &s, 1);
		s.ts_ns += 60LL * 1000000000LL;
		engine_process(E, &s, 1);
	}
}

/* The writer's text of E's status (f: a filter) against cJSON's. */
static void check_status(struct engine *E, const struct engine_status_filter *f, int want_rooms)
{
	cJSON *tree = engine_status_json_filtered(E, 1, f), *wrote;
	struct jsonw w;
	char *text;

	jsonw_init(&w);
	jsonw_obj_begin(&w, NULL);
	CHECK_INT(engine_status_write(E, 1, f, &w), 0);
	jsonw_obj_end(&w);
	text = jsonw_take(&w, NULL);
	wrote = cJSON_Parse(text);
	CHECK(wrote != NULL);
	CHECK(same(tree, wrote, NULL));
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(wrote, "rooms")), want_rooms);
	free(text);
	cJSON_Delete(tree);
	cJSON_Delete(wrote);
}

/* The worst open (active or acknowledged, not shelved) alarm of room name
 * in the status tree st: 2 critical, 1 warning, 0 none. */
static int room_worst_open_alarm(const cJSON *st, const char *name)
{
	const cJSON *a;
	int worst = 0;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(st, "alarms")) {
		const char *room = cJSON_GetStringValue(cJSON_GetObjectItem(a, "room"));
		const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(a, "state"));
		const char *sev = cJSON_GetStringValue(cJSON_GetObjectItem(a, "severity"));
		if (!room || !state || !sev || strcmp(room, name) != 0 || cJSON_IsTrue(cJSON_GetObjectItem(a, "shelved")) ||
		    (strcmp(state, "active") != 0 && strcmp(state, "acked") != 0))
			continue;
		if (strcmp(sev, "critical") == 0)
			worst = 2;
		else if (strcmp(sev, "warning") == 0 && worst < 1)
			worst = 1;
	}
	return worst;
}

/* The web overview's rows (engine_room_rows) of site: as many as the full
 * status has rooms (want), in its order, each with its lots' count and
 * least remaining life, and the state of its worst open alarm. */
static void check_room_rows(struct engine *E, const char *site, size_t want)
{
	struct engine_status_filter f = { .site = site };
	struct engine_room_rows rows;
	cJSON *full = engine_status_json_filtered(E, 1, &f);
	const cJSON *rooms = cJSON_GetObjectItem(full, "rooms");
	size_t open = 0;

	CHECK_INT(engine_room_rows(E, site, &rows), 0);
	CHECK_INT(rows.n, want);
	CHECK_INT(cJSON_GetArraySize(rooms), want);
	for (size_t i = 0; i < rows.n && i < want; i++) {
		const struct engine_room_row *w = &rows.v[i];
		const cJSON *r = cJSON_GetArrayItem(rooms, (int)i), *l;
		double least = NAN;
		int worst = room_worst_open_alarm(full, w->name);
		CHECK_STR(w->name, cJSON_GetStringValue(cJSON_GetObjectItem(r, "name")));
		CHECK_INT(w->nlots, cJSON_GetArraySize(cJSON_GetObjectItem(r, "lots")));
		cJSON_ArrayForEach(l, cJSON_GetObjectItem(r, "lots")) {
			double rem = cJSON_GetNumberValue(cJSON_GetObjectItem(l, "remaining_h"));
			if (isfinite(rem) && !(rem >= least))
				least = rem;
		}
		CHECK(isnan(least) ? isnan(w->remaining_h_min) : w->remaining_h_min == least);
		CHECK_INT(w->state == ENGINE_ROOM_CRITICAL ? 2 : w->state == ENGINE_ROOM_WARNING ? 1 : 0, worst);
		open += worst > 0;
	}
	if (site && strcmp(site, "s007") == 0)
		CHECK(open > 0); /* s007/r7: 12.3 over 10 */
	engine_room_rows_free(&rows);
	cJSON_Delete(full);
}

static void test_engine_status_written_equals_the_cjson_status_and_filters_rooms(void)
{
	struct cc_config *cfg = hub_config();
	static struct cc_channel ch[150];
	static char ids[150][40];
	struct engine *E;
	struct engine_status_filter site = { .site = "s007" }, room = { .room = "s010/r\"10\t" }, hub = { .site = "hub" },
				     none = { .site = "nowhere" };
	cJSON *st;
	char b[64];

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	E = engine_new(cfg, NULL);
	CHECK(E != NULL);
	feed_rooms(E, ch, ids);
	check_status(E, NULL, 151);
	check_status(E, &site, 3);
	check_status(E, &room, 1);
	check_status(E, &hub, 1); /* "Phòng B": no '/', the root's site */
	check_status(E, &none, 0);
	st = engine_status_json_filtered(E, 0, &site);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(st, "alarms")) > 0); /* s007/r7: 12.3 over 10 */
	cJSON_Delete(st);
	check_room_rows(E, "s007", 3);
	check_room_rows(E, NULL, 151);
	check_room_rows(E, "nowhere", 0);
	{ /* open_past (coldchainctl's text at a hub): only rooms with an open alarm, the totals of all */
		struct engine_status_filter op = { .open_past = 100 };
		struct jsonw w;
		cJSON *x, *r, *a;
		int ok = 1, n = 0;
		jsonw_init(&w);
		jsonw_obj_begin(&w, NULL);
		CHECK_INT(engine_status_write(E, 1, &op, &w), 0);
		jsonw_obj_end(&w);
		{
			char *t = jsonw_take(&w, NULL);
			x = cJSON_Parse(t);
			free(t);
		}
		CHECK_INT(cJSON_GetObjectItem(x, "rooms_total")->valuedouble, 151);
		CHECK_INT(cJSON_GetObjectItem(x, "lots_total")->valuedouble, 300);
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(x, "rooms")) {
			int has = 0;
			n++;
			cJSON_ArrayForEach(a, cJSON_GetObjectItem(x, "alarms"))
				has |= strcmp(cJSON_GetObjectItem(a, "room") ? cJSON_GetObjectItem(a, "room")->valuestring : "",
					      cJSON_GetObjectItem(r, "name")->valuestring) == 0 &&
				       strcmp(cJSON_GetObjectItem(a, "state")->valuestring, "active") == 0;
			ok &= has;
		}
		CHECK(ok);
		CHECK(n > 0 && n < 151);
		cJSON_Delete(x);
	}
	CHECK_STR(engine_room_site(cfg, "s1/a/b", b, sizeof(b)), "s1");
	CHECK_STR(engine_room_site(cfg, "/x", b, sizeof(b)), "hub");
	CHECK_STR(engine_room_site(cfg, NULL, b, sizeof(b)), "hub");
	engine_free(E);
	config_free(cfg);
}

int main(void)
{
	tl_prog = "jsonw";
	if (tl_mkdtemp(dir, sizeof(dir), "jsonw") < 0)
		return 1;
	RUN(test_jsonw_strings_escape_as_cjson_does);
	RUN(test_jsonw_numbers_read_back_exactly_and_match_cjson_where_it_is_exact);
	RUN(test_jsonw_num17_reads_back_exactly_and_keeps_the_short_forms);
	RUN(test_jsonw_nesting_and_raw);
	RUN(test_engine_status_written_equals_the_cjson_status_and_filters_rooms);
	tl_rmtree(dir);
	return TL_DONE();
}

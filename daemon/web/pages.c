/* pages.c - the status pages of issue 15: overview (a tile per room),
 * alarms (with ack / shelve / unshelve for operators), room detail (the last
 * 24 h as inline SVG), lot detail (with a move form), and the actions behind
 * the forms.  Every word through i18n_tr in the request's language, every
 * string escaped, times in the site's zone, units always shown.  Data comes
 * from engine_status_json (a copy made under the engine's lock) and
 * engine_room_trend; rendering runs without the lock. */
#include "pages_int.h"
#include "web_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/svg_trend.h"
#include "../engine.h"
#include "../i18n.h"
#include "../util.h"

#define NOTE_MAX 512

const char *pages_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double pages_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int pages_bool(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* The reading of a room by role ("temperature", "humidity", "door"). */
const cJSON *pages_reading(const cJSON *room, const char *role)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(room, "readings"))
		if (pages_str(r, "role") && strcmp(pages_str(r, "role"), role) == 0)
			return r;
	return NULL;
}

/* The contract's alarm state: shelved, active, acked, or normal (cleared,
 * waiting for an ack or not). */
static const char *alarm_page_state(const cJSON *a)
{
	const char *st = pages_str(a, "state");

	if (pages_bool(a, "shelved"))
		return "shelved";
	if (st && (strcmp(st, "active") == 0 || strcmp(st, "acked") == 0))
		return st;
	return "normal";
}

/* The worst alarm whose condition holds in room: critical, warning, ok; a
 * room without a fresh temperature is stale unless an alarm says more. */
static const char *room_state(const cJSON *room, const cJSON *alarms)
{
	const char *name = pages_str(room, "name"), *q;
	const cJSON *a, *t = pages_reading(room, "temperature");
	int worst = 0;

	cJSON_ArrayForEach(a, alarms) {
		const char *ps = alarm_page_state(a), *sev = pages_str(a, "severity");
		if (!pages_str(a, "room") || strcmp(pages_str(a, "room"), name) != 0)
			continue;
		if (strcmp(ps, "active") != 0 && strcmp(ps, "acked") != 0)
			continue;
		if (sev && strcmp(sev, "critical") == 0)
			worst = 2;
		else if (sev && strcmp(sev, "warning") == 0 && worst < 1)
			worst = 1;
	}
	if (worst)
		return worst == 2 ? "critical" : "warning";
	q = t ? pages_str(t, "quality") : NULL;
	return !q || strcmp(q, "stale") == 0 || strcmp(q, "none") == 0 ? "stale" : "ok";
}

static const char *state_word(int L, const char *st)
{
	if (strcmp(st, "critical") == 0)
		return i18n_tr(L, "Critical");
	if (strcmp(st, "warning") == 0)
		return i18n_tr(L, "Warning");
	if (strcmp(st, "stale") == 0)
		return i18n_tr(L, "Stale");
	return i18n_tr(L, "Normal");
}

void pages_figures(FILE *o, int L, const cJSON *room)
{
	const cJSON *t = pages_reading(room, "temperature"), *h = pages_reading(room, "humidity"), *d = pages_reading(room, "door");
	double v;

	fputs("<p class=\"figures\">", o);
	if (t) {
		v = pages_num(t, "value");
		fprintf(o, "<span class=\"temp\" title=\"%s\" data-value=\"", i18n_tr(L, "Temperature"));
		if (isfinite(v))
			fprintf(o, "%.1f", v);
		fputs("\">", o);
		web_num(o, L, v, 1, "°C");
		fputs("</span>", o);
	}
	if (h) {
		v = pages_num(h, "value");
		fputs("<span class=\"rh\" data-value=\"", o);
		if (isfinite(v))
			fprintf(o, "%.0f", v);
		fprintf(o, "\">%s ", i18n_tr(L, "Relative humidity"));
		web_num(o, L, v, 0, "%");
		fputs("</span>", o);
	}
	if (d) {
		int open = pages_num(d, "value") >= 0.5;
		fprintf(o, "<span class=\"door\" data-open=\"%d\">%s %s</span>", open, open ? "⚠" : "✓",
			open ? i18n_tr(L, "Door open") : i18n_tr(L, "Door closed"));
	}
	fputs("</p>", o);
}

void pages_lot_item(FILE *o, int L, const cJSON *lot)
{
	const char *id = pages_str(lot, "id");

	fputs("<li class=\"lot\" data-lot=\"", o);
	web_esc(o, id);
	fputs("\"><a href=\"/lot/", o);
	web_url_seg(o, id);
	fputs("\">", o);
	web_esc(o, id);
	fputs("</a> ", o);
	web_esc(o, pages_str(lot, "product"));
	fprintf(o, " · <span class=\"remaining\">%s: ", i18n_tr(L, "Remaining shelf life"));
	web_num(o, L, pages_num(lot, "remaining_h"), 0, "h");
	fprintf(o, "</span> · <span class=\"consumed\">%s: ", i18n_tr(L, "Consumed"));
	web_num(o, L, pages_num(lot, "consumed") * 100.0, 0, "%");
	fputs("</span></li>", o);
}

static void tile(FILE *o, int L, const cJSON *room, const cJSON *alarms)
{
	const char *name = pages_str(room, "name"), *st = room_state(room, alarms);
	const cJSON *lot, *lots = cJSON_GetObjectItemCaseSensitive(room, "lots");
	char id[128];

	web_dom_id(name, id, sizeof(id));
	fprintf(o, "<section class=\"tile\" id=\"tile-%s\" data-room=\"", id);
	web_esc(o, name);
	fprintf(o, "\" data-state=\"%s\"><h2><a href=\"/room/", st);
	web_url_seg(o, name);
	fprintf(o, "\">%s ", i18n_tr(L, "Room"));
	web_esc(o, name);
	fprintf(o, "</a></h2><p><span class=\"state state-%s\">%s</span></p>", st, state_word(L, st));
	pages_figures(o, L, room);
	if (cJSON_GetArraySize(lots) > 0) {
		fputs("<ul class=\"lots\">", o);
		cJSON_ArrayForEach(lot, lots)
			pages_lot_item(o, L, lot);
		fputs("</ul>", o);
	}
	fputs("</section>", o);
}

cJSON *pages_status(struct web_req *req, int rooms, const char *room)
{
	struct engine_status_filter f = { .room = room };

	return pages_status_filtered(req, rooms, room ? &f : NULL);
}

cJSON *pages_status_filtered(struct web_req *req, int rooms, const struct engine_status_filter *f)
{
	cJSON *st = engine_status_json_filtered(web_engine(req), rooms, f);

	if (!st)
		web_error(req, 503, "the engine is not running (reloading?)");
	return st;
}

/* ?site=: a printable name of at most 255 bytes, else NULL (all sites). */
static const char *site_arg(struct web_req *req)
{
	const char *s = web_arg(req, "site");
	size_t n = 0;

	if (!s || !*s)
		return NULL;
	for (const char *q = s; *q; q++, n++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f || n >= 255)
			return NULL;
	return s;
}

int web_page_overview(struct web_req *req)
{
	struct web_page p;
	const char *site = site_arg(req);
	/* a hub's rooms as the engine's compact rows (no tree: a cJSON tree of
	 * 2,000 rooms and their open alarms was +8 MB of peak RSS for a 31 KB
	 * page); a packhouse's again in full, a tile each */
	struct engine_room_rows rows;
	cJSON *st = NULL, *room;
	int L = req->lang_id, rc = engine_room_rows(web_engine(req), site, &rows);

	if (rc == -ENOMEM)
		return web_error(req, 500, "out of memory");
	if (rc < 0)
		return web_error(req, 503, "the engine is not running (reloading?)");
	if (!site && rows.n <= WEB_OVERVIEW_PAGE) {
		engine_room_rows_free(&rows);
		if (!(st = engine_status_json(web_engine(req), 1)))
			return web_error(req, 503, "the engine is not running (reloading?)");
	}
	if (web_page_begin(&p, req) < 0) {
		cJSON_Delete(st);
		engine_room_rows_free(&rows);
		return web_error(req, 500, "out of memory");
	}
	fprintf(p.o, "<h1>%s</h1><p class=\"updated\">%s ", i18n_tr(L, "Overview"), i18n_tr(L, "Updated"));
	web_time(p.o, time_now_ns());
	fputs("</p>", p.o);
	if (!st) {
		pages_overview_hub(p.o, req, &rows, site);
		engine_room_rows_free(&rows);
	} else {
		fputs("<div class=\"tiles\">", p.o);
		cJSON_ArrayForEach(room, cJSON_GetObjectItemCaseSensitive(st, "rooms"))
			tile(p.o, L, room, cJSON_GetObjectItemCaseSensitive(st, "alarms"));
		fputs("</div>", p.o);
		cJSON_Delete(st);
	}
	return web_page_end(&p, 200, i18n_tr(L, "Overview"));
}

/* --- alarms ------------------------------------------------------------ */

static void alarm_form(FILE *o, struct web_req *req, const char *verb, const char *id, const char *aid,
		       const char *button)
{
	int L = req->lang_id;

	fprintf(o, "<form class=\"%s\" method=\"post\" action=\"/alarms/%s\"><input type=\"hidden\" name=\"id\" "
		   "value=\"", verb, verb);
	web_esc(o, id);
	fputs("\"><input type=\"hidden\" name=\"next\" value=\"", o);
	web_esc(o, req->path); /* decoded: the action encodes it for Location */
	fprintf(o, "\"><input type=\"hidden\" name=\"csrf\" value=\"%s\"><label for=\"%s-note-%s\">%s</label>"
		   "<textarea id=\"%s-note-%s\" name=\"note\" rows=\"2\" maxlength=\"%d\"></textarea>",
		req->sess.csrf, verb, aid, i18n_tr(L, "Note"), verb, aid, NOTE_MAX);
	if (strcmp(verb, "shelve") == 0)
		fprintf(o, "<label for=\"shelve-dur-%s\">%s</label><select id=\"shelve-dur-%s\" name=\"duration\">"
			   "<option value=\"15\">%s</option><option value=\"60\">%s</option>"
			   "<option value=\"240\">%s</option><option value=\"480\">%s</option></select>",
			aid, i18n_tr(L, "Shelve for"), aid, i18n_tr(L, "15 min"), i18n_tr(L, "1 h"), i18n_tr(L, "4 h"),
			i18n_tr(L, "8 h"));
	fprintf(o, "<button type=\"submit\">%s</button></form>", button);
}

static const char *alarm_state_word(int L, const cJSON *a)
{
	const char *ps = alarm_page_state(a), *st = pages_str(a, "state");

	if (strcmp(ps, "shelved") == 0)
		return i18n_tr(L, "Shelved");
	if (strcmp(ps, "active") == 0)
		return i18n_tr(L, "Active");
	if (strcmp(ps, "acked") == 0)
		return i18n_tr(L, "Acknowledged");
	return st && strcmp(st, "cleared_unacked") == 0 ? i18n_tr(L, "Cleared, not acknowledged") : i18n_tr(L, "Normal");
}

/* What the alarm is, in the page's language: "nhiệt độ cao 8,0 °C (giới
 * hạn 7,0 °C)"; the engine's (English) message only for a rule without
 * words in the catalogue. */
static void alarm_what(FILE *o, int L, const cJSON *a)
{
	const struct i18n_rule_words *w = i18n_rule(pages_str(a, "rule"));
	const char *room = pages_str(a, "room");
	double v = pages_num(a, "value"), lim = pages_num(a, "limit");

	if (!w) {
		web_esc(o, pages_str(a, "message"));
		return;
	}
	if (room) {
		fprintf(o, "%s ", i18n_tr(L, "Cold store"));
		web_esc(o, room);
		fputs(": ", o);
	}
	web_esc(o, i18n_tr(L, w->what));
	if (w->unit[0] && isfinite(v)) {
		fputs(" ", o);
		web_num(o, L, v, 1, w->unit);
	}
	if (w->unit[0] && isfinite(lim)) {
		fprintf(o, " (%s ", i18n_tr(L, "limit"));
		web_num(o, L, lim, 1, w->unit);
		fputs(")", o);
	}
}

static void alarm_row(FILE *o, struct web_req *req, const cJSON *a)
{
	const char *id = pages_str(a, "id"), *ps = alarm_page_state(a), *sev = pages_str(a, "severity"), *st = pages_str(a, "state");
	int L = req->lang_id, op = req->has_session && req->sess.role == AUTH_ROLE_OPERATOR;
	char aid[160];

	web_dom_id(id, aid, sizeof(aid));
	fprintf(o, "<tr id=\"alarm-%s\" data-alarm=\"", aid);
	web_esc(o, id);
	fprintf(o, "\" data-state=\"%s\" data-severity=\"%s\"><td>", ps,
		sev && strcmp(sev, "critical") == 0 ? "critical" : "warning");
	web_esc(o, id);
	fprintf(o, "</td><td>%s</td><td>%s</td><td>", alarm_state_word(L, a),
		sev && strcmp(sev, "critical") == 0 ? i18n_tr(L, "Critical") : i18n_tr(L, "Warning"));
	alarm_what(o, L, a);
	fputs("</td><td>", o);
	web_time_iso(o, pages_str(a, "active_since"));
	fputs("</td><td>", o);
	if (op && strcmp(ps, "shelved") == 0)
		alarm_form(o, req, "unshelve", id, aid, i18n_tr(L, "Unshelve"));
	else if (op && (strcmp(ps, "active") == 0 || (st && strcmp(st, "cleared_unacked") == 0))) {
		alarm_form(o, req, "ack", id, aid, i18n_tr(L, "Acknowledge"));
		alarm_form(o, req, "shelve", id, aid, i18n_tr(L, "Shelve for"));
	} else if (op && strcmp(ps, "acked") == 0)
		alarm_form(o, req, "shelve", id, aid, i18n_tr(L, "Shelve for"));
	fputs("</td></tr>", o);
}

/* The alarms table, of one room when room is not NULL. */
void pages_alarm_table(FILE *o, struct web_req *req, const cJSON *alarms, const char *room)
{
	int L = req->lang_id;
	const cJSON *a;

	fprintf(o, "<div class=\"table-wrap\"><table id=\"alarms\" class=\"stack\"><thead><tr><th>%s</th><th>%s</th>"
		   "<th>%s</th><th>%s</th><th>%s</th><th></th></tr></thead><tbody>",
		i18n_tr(L, "Alarm"), i18n_tr(L, "State"), i18n_tr(L, "Severity"), i18n_tr(L, "Message"),
		i18n_tr(L, "Since"));
	cJSON_ArrayForEach(a, alarms) {
		if (room && (!pages_str(a, "room") || strcmp(pages_str(a, "room"), room) != 0))
			continue;
		alarm_row(o, req, a);
	}
	fputs("</tbody></table></div>", o);
}

/* The alarms, WEB_OVERVIEW_PAGE a page past that many (?page=N; a hub's
 * thousands were a 1.9 MB page and a tree of them all, 10 MB of peak RSS,
 * built under the engine's lock); a packhouse's all on one. */
int web_page_alarms(struct web_req *req)
{
	struct engine_status_filter f = { .alarms_max = WEB_OVERVIEW_PAGE };
	long page = pages_page_arg(req, LONG_MAX / WEB_OVERVIEW_PAGE), pages;
	struct web_page p;
	cJSON *st;
	int L = req->lang_id;
	const char *done = web_arg(req, "done");
	size_t total;

	f.alarms_skip = (size_t)(page - 1) * WEB_OVERVIEW_PAGE;
	if (!(st = pages_status_filtered(req, 0, &f)))
		return 0;
	total = (size_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(st, "alarms_total"));
	pages = total ? (long)((total + WEB_OVERVIEW_PAGE - 1) / WEB_OVERVIEW_PAGE) : 1;
	if (page > pages) { /* past the end (alarms ended meanwhile): the last page */
		cJSON_Delete(st);
		page = pages;
		f.alarms_skip = (size_t)(page - 1) * WEB_OVERVIEW_PAGE;
		if (!(st = pages_status_filtered(req, 0, &f)))
			return 0;
	}
	if (web_page_begin(&p, req) < 0) {
		cJSON_Delete(st);
		return web_error(req, 500, "out of memory");
	}
	fprintf(p.o, "<h1>%s</h1>", i18n_tr(L, "Alarms"));
	if (done && strcmp(done, "1") == 0)
		fprintf(p.o, "<p class=\"notice\" role=\"status\">%s</p>", i18n_tr(L, "Done"));
	if (pages > 1)
		pages_pager(p.o, L, "/alarms", NULL, page, pages);
	pages_alarm_table(p.o, req, cJSON_GetObjectItemCaseSensitive(st, "alarms"), NULL);
	if (pages > 1)
		pages_pager(p.o, L, "/alarms", NULL, page, pages);
	cJSON_Delete(st);
	return web_page_end(&p, 200, i18n_tr(L, "Alarms"));
}

int pages_engine_status(int rc)
{
	switch (rc) {
	case -ENOENT: return 404;
	case -EALREADY: return 409;
	case -ESRCH: return 503;
	default: return 400;
	}
}

int pages_engine_error(struct web_req *req, int rc)
{
	switch (rc) {
	case -ENOENT: return web_error(req, 404, "no such alarm or lot");
	case -EALREADY: return web_error(req, 409, "nothing to do: it is already so");
	case -ESRCH: return web_error(req, 503, "the engine is not running (reloading?)");
	default: return web_error(req, 400, "the daemon refused this action");
	}
}

int web_action_alarm(struct web_req *req)
{
	char id[256], note[NOTE_MAX + 2], dur[16], back[520];
	const char *verb = req->path + strlen("/alarms/");
	struct engine *e = web_engine(req);
	int rc;

	if (!web_form(req, "id", id, sizeof(id)))
		return web_error(req, 400, "id missing or too long");
	if (!web_form(req, "note", note, sizeof(note)))
		note[0] = '\0';
	if (strcmp(verb, "ack") == 0) {
		rc = engine_ack(e, id, req->sess.user, note);
	} else if (strcmp(verb, "unshelve") == 0) {
		rc = engine_unshelve(e, id, req->sess.user, note);
	} else {
		long min = web_form(req, "duration", dur, sizeof(dur)) ? strtol(dur, NULL, 10) : 0;
		if (min < 1 || min > 24 * 60)
			return web_error(req, 400, "duration: 1 to 1440 minutes");
		rc = engine_shelve(e, id, (int64_t)min * 60000, req->sess.user, note);
	}
	if (rc < 0)
		return pages_engine_error(req, rc);
	/* back to the page the form was on (the room page, or the alarms) */
	if (web_form(req, "next", back, sizeof(back)) && web_next_ok(back) && strcmp(back, "/alarms") != 0)
		return web_redirect_local(req, back);
	return web_redirect(req, "/alarms?done=1");
}

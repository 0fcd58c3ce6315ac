/* detail.c - the room page (figures, the last 24 h of temperature and RH
 * against the band as inline SVG from the engine's trend ring, the room's
 * lots and alarms) and the lot page (figures, processing history, a move
 * form for operators, the link to the storage-history report with its
 * command as a hint for technicians; the report itself: report_page.c). */
#include "pages_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/svg_trend.h"
#include "../engine.h"
#include "../i18n.h"
#include "../util.h"

static const cJSON *room_find(const cJSON *st, const char *name)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(st, "rooms"))
		if (pages_str(r, "name") && strcmp(pages_str(r, "name"), name) == 0)
			return r;
	return NULL;
}

static void chart(FILE *o, int L, const char *room, const struct engine_trend *t, int k)
{
	struct svg_trend_point pt[ENGINE_TREND_BUCKETS];
	const struct cc_limits *lim = &t->lim;
	char title[256];
	int temp = k == ENGINE_TREND_TEMP;
	struct svg_trend s = { .start_ns = t->start_ns, .step_ns = t->bucket_ns, .p = pt,
			       .n = ENGINE_TREND_BUCKETS, .unit = temp ? "°C" : "%", .cls = temp ? "temp" : "rh",
			       .no_data = i18n_tr(L, "No data") };

	for (int i = 0; i < ENGINE_TREND_BUCKETS; i++)
		pt[i] = (struct svg_trend_point){ t->s[k].b[i].min, t->s[k].b[i].max, t->s[k].b[i].mean, t->s[k].b[i].n };
	s.lim_lo = temp ? (isfinite(lim->alarm_low) ? lim->alarm_low : lim->band_low) : lim->rh_alarm_low;
	s.lim_hi = temp ? (isfinite(lim->alarm_high) ? lim->alarm_high : lim->band_high) : lim->rh_alarm_high;
	snprintf(title, sizeof(title), "%s %s: %s, %s", i18n_tr(L, "Room"), room,
		 temp ? i18n_tr(L, "Temperature") : i18n_tr(L, "Relative humidity"), i18n_tr(L, "Last 24 hours"));
	s.title = title;
	fprintf(o, "<h2>%s · %s</h2><figure class=\"chart\">",
		temp ? i18n_tr(L, "Temperature") : i18n_tr(L, "Relative humidity"), i18n_tr(L, "Last 24 hours"));
	svg_trend_write(o, &s);
	fputs("</figure>", o);
}

static void room_body(FILE *o, struct web_req *req, const cJSON *st, const cJSON *room, const struct engine_trend *t)
{
	int L = req->lang_id;
	const char *name = pages_str(room, "name");
	const cJSON *lot;

	fprintf(o, "<h1>%s ", i18n_tr(L, "Room"));
	web_esc(o, name);
	fputs("</h1>", o);
	pages_figures(o, L, room);
	fprintf(o, "<p>%s: ", i18n_tr(L, "Storage band"));
	web_num(o, L, pages_num(room, "band_low"), 1, NULL);
	fputs(" – ", o);
	web_num(o, L, pages_num(room, "band_high"), 1, "°C");
	fputs("</p>", o);
	for (int k = ENGINE_TREND_TEMP; t && k <= ENGINE_TREND_RH; k++)
		if (t->s[k].present)
			chart(o, L, name, t, k);
	fprintf(o, "<h2>%s</h2><ul class=\"lots\">", i18n_tr(L, "Lot"));
	cJSON_ArrayForEach(lot, cJSON_GetObjectItemCaseSensitive(room, "lots"))
		pages_lot_item(o, L, lot);
	fprintf(o, "</ul><h2>%s</h2>", i18n_tr(L, "Alarms"));
	pages_alarm_table(o, req, cJSON_GetObjectItemCaseSensitive(st, "alarms"), name);
}

int web_page_room(struct web_req *req)
{
	const char *name = req->path + strlen("/room/");
	struct engine_trend *t = xmalloc(sizeof(*t));
	struct web_page p;
	cJSON *st = pages_status(req, 1, name);
	const cJSON *room;
	int rc;

	if (!st) {
		free(t);
		return 0;
	}
	room = room_find(st, name);
	if (!room) {
		rc = web_error(req, 404, "no such room");
	} else if (web_page_begin(&p, req) < 0) {
		rc = web_error(req, 500, "out of memory");
	} else {
		int have = engine_room_trend(web_engine(req), name, time_now_ns(), t) == 0;
		room_body(p.o, req, st, room, have ? t : NULL);
		rc = web_page_end(&p, 200, name);
	}
	cJSON_Delete(st);
	free(t);
	return rc;
}

/* --- lots ------------------------------------------------------------------ */

static const cJSON *lot_find(const cJSON *st, const char *id, const cJSON **room)
{
	const cJSON *r, *l;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(st, "rooms"))
		cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(r, "lots"))
			if (pages_str(l, "id") && strcmp(pages_str(l, "id"), id) == 0) {
				*room = r;
				return l;
			}
	return NULL;
}

static void dl_num(FILE *o, int L, const char *term, double v, int dec, const char *unit)
{
	if (!isfinite(v))
		return;
	fprintf(o, "<dt>%s</dt><dd>", term);
	web_num(o, L, v, dec, unit);
	fputs("</dd>", o);
}

/* The processing history as the engine keeps it: one item per step, its
 * fields as given (strings and numbers). */
static void history(FILE *o, int L, const cJSON *h)
{
	const cJSON *step, *f;

	if (!cJSON_IsArray(h) || cJSON_GetArraySize(h) == 0)
		return;
	fprintf(o, "<h2>%s</h2><ol class=\"history\">", i18n_tr(L, "Processing history"));
	cJSON_ArrayForEach(step, h) {
		fputs("<li>", o);
		cJSON_ArrayForEach(f, step) {
			fputs("<span>", o);
			web_esc(o, f->string);
			fputs(": ", o);
			if (cJSON_IsString(f))
				web_esc(o, f->valuestring);
			else if (cJSON_IsNumber(f))
				web_num(o, L, f->valuedouble, 2, NULL);
			fputs("</span> ", o);
		}
		fputs("</li>", o);
	}
	fputs("</ol>", o);
}

/* The rooms a lot can move to: every room's name from the engine's rows
 * (the page's status has the lot's room only). */
static void move_form(FILE *o, struct web_req *req, const char *id, const char *cur)
{
	int L = req->lang_id;
	struct engine_room_rows rows;

	if (engine_room_rows(web_engine(req), NULL, &rows) < 0)
		return;

	fprintf(o, "<h2>%s</h2><form class=\"move\" method=\"post\" action=\"/lot/move\">"
		   "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><input type=\"hidden\" name=\"lot\" value=\"",
		i18n_tr(L, "Move to room"), req->sess.csrf);
	web_esc(o, id);
	fprintf(o, "\"><label for=\"move-room\">%s</label><select id=\"move-room\" name=\"room\">", i18n_tr(L, "Room"));
	for (size_t i = 0; i < rows.n; i++) {
		const char *n = rows.v[i].name;
		if (!n || strcmp(n, cur) == 0)
			continue;
		fputs("<option value=\"", o);
		web_esc(o, n);
		fputs("\">", o);
		web_esc(o, n);
		fputs("</option>", o);
	}
	fprintf(o, "</select> <button type=\"submit\">%s</button></form>", i18n_tr(L, "Move"));
	engine_room_rows_free(&rows);
}

static void lot_body(FILE *o, struct web_req *req, const cJSON *lot, const cJSON *room)
{
	int L = req->lang_id;
	const char *id = pages_str(lot, "id"), *rn = pages_str(room, "name");

	fprintf(o, "<h1>%s ", i18n_tr(L, "Lot"));
	web_esc(o, id);
	fprintf(o, "</h1><dl><dt>%s</dt><dd>", i18n_tr(L, "Product"));
	web_esc(o, pages_str(lot, "product"));
	fprintf(o, "</dd><dt>%s</dt><dd><a href=\"/room/", i18n_tr(L, "Room"));
	web_url_seg(o, rn);
	fputs("\">", o);
	web_esc(o, rn);
	fprintf(o, "</a></dd><dt>%s</dt><dd>", i18n_tr(L, "Loaded"));
	web_time_iso(o, pages_str(lot, "loaded"));
	fputs("</dd>", o);
	dl_num(o, L, i18n_tr(L, "Remaining shelf life"), pages_num(lot, "remaining_h"), 0, "h");
	dl_num(o, L, i18n_tr(L, "Consumed"), pages_num(lot, "consumed") * 100.0, 1, "%");
	dl_num(o, L, i18n_tr(L, "Mean kinetic temperature"), pages_num(lot, "mkt_c"), 1, "°C");
	dl_num(o, L, i18n_tr(L, "Product temperature"), pages_num(lot, "product_c"), 1, "°C");
	dl_num(o, L, i18n_tr(L, "Hours observed"), pages_num(lot, "observed_h"), 1, "h");
	dl_num(o, L, i18n_tr(L, "Hours without data"), pages_num(lot, "no_data_h"), 1, "h");
	fputs("</dl>", o);
	history(o, L, cJSON_GetObjectItemCaseSensitive(lot, "history"));
	if (req->has_session && req->sess.role == AUTH_ROLE_OPERATOR)
		move_form(o, req, id, rn);
	fprintf(o, "<h2>%s</h2><p><a id=\"report-link\" href=\"/lot/", i18n_tr(L, "Storage history report"));
	web_url_seg(o, id);
	fprintf(o, "/report\">%s</a> · <a id=\"report-csv\" href=\"/lot/", i18n_tr(L, "Open the report"));
	web_url_seg(o, id);
	fprintf(o, "/report.csv\">CSV</a></p><p class=\"hint\">%s <code id=\"report-cmd\">coldchainctl report --lot ",
		i18n_tr(L, "On the server:"));
	web_esc(o, id);
	fprintf(o, "</code> <button type=\"button\" data-copy=\"report-cmd\">%s</button></p>", i18n_tr(L, "Copy"));
}

int web_page_lot(struct web_req *req)
{
	const char *id = req->path + strlen("/lot/");
	size_t n = strlen(id);
	struct web_page p;
	cJSON *st;
	const cJSON *lot, *room = NULL;
	char *rn;
	int rc;

	/* /lot/ID/report and /lot/ID/report.csv: the report (report_page.c) */
	if (n > 7 && strcmp(id + n - 7, "/report") == 0)
		return web_page_lot_report(req, id, n - 7, 0);
	if (n > 11 && strcmp(id + n - 11, "/report.csv") == 0)
		return web_page_lot_report(req, id, n - 11, 1);
	rc = engine_lot_room(web_engine(req), id, &rn);
	if (rc == -ESRCH)
		return web_error(req, 503, "the engine is not running (reloading?)");
	if (rc < 0)
		return web_error(req, 404, "no such lot");
	st = pages_status(req, 1, rn);
	free(rn);
	if (!st)
		return 0;
	lot = lot_find(st, id, &room);
	if (!lot)
		rc = web_error(req, 404, "no such lot");
	else if (web_page_begin(&p, req) < 0)
		rc = web_error(req, 500, "out of memory");
	else {
		lot_body(p.o, req, lot, room);
		rc = web_page_end(&p, 200, id);
	}
	cJSON_Delete(st);
	return rc;
}

int web_action_lot_move(struct web_req *req)
{
	char lot[256], room[256];
	int rc;

	if (!web_form(req, "lot", lot, sizeof(lot)) || !web_form(req, "room", room, sizeof(room)))
		return web_error(req, 400, "lot and room are needed");
	rc = engine_lot_move(web_engine(req), lot, room, req->sess.user);
	if (rc < 0)
		return pages_engine_error(req, rc);
	/* the lot's page: the id is our own %-encoded path segment */
	{
		char loc[800];
		FILE *o = fmemopen(loc, sizeof(loc), "w");
		if (!o)
			return web_redirect(req, "/");
		fputs("/lot/", o);
		web_url_seg(o, lot);
		fputc('\0', o);
		fclose(o);
		loc[sizeof(loc) - 1] = '\0';
		return web_redirect(req, loc);
	}
}
